#include "models/chi_memory.h"

#include <stdexcept>
#include <string>

namespace mcasim {

void chi_config::validate() const {
  if (!(eps_p > 0 && std::isfinite(eps_p))) {
    throw std::invalid_argument("chi.eps_p = " + std::to_string(eps_p) + ": must be > 0");
  }
  if (!(eps_d > 0 && std::isfinite(eps_d))) {
    throw std::invalid_argument("chi.eps_d = " + std::to_string(eps_d) + ": must be > 0");
  }
  if (max_pulses < 0) {
    throw std::invalid_argument("chi.max_pulses = " + std::to_string(max_pulses) +
                                ": must be >= 0 (0 = no limit)");
  }
}

chi_memory::chi_memory(std::size_t rows, std::size_t cols, const chi_config& cfg)
    : rows_(rows), cols_(cols), cfg_(cfg), chi_(rows * cols, 0.0f) {
  cfg_.validate();
  set_epsilons(cfg.eps_p, cfg.eps_d);
}

void chi_memory::set_epsilons(double eps_p, double eps_d) {
  cfg_.eps_p = eps_p;
  cfg_.eps_d = eps_d;
  cfg_.validate();
  eps_p_ = static_cast<float>(eps_p);
  eps_d_ = static_cast<float>(eps_d);
}

}  // namespace mcasim
