#include "models/chi_memory.h"

#include <sstream>
#include <stdexcept>
#include <string>

namespace mcasim {

void chi_config::validate() const {
  // chi is held in single precision: an epsilon must be a normal float, and
  // far above the smallest one so that chi / epsilon stays a sane count.
  auto check_eps = [](const char* name, double v) {
    if (!(v >= k_min_eps && v <= 1e6)) {
      std::ostringstream msg;
      msg << "chi." << name << " = " << v << ": must be in [" << k_min_eps << ", 1e6]";
      throw std::invalid_argument(msg.str());
    }
  };
  check_eps("eps_p", eps_p);
  check_eps("eps_d", eps_d);
  if (max_pulses < 0 || max_pulses > k_max_pulse_count) {
    throw std::invalid_argument("chi.max_pulses = " + std::to_string(max_pulses) +
                                ": must be in [0, " + std::to_string(k_max_pulse_count) +
                                "] (0 = no limit)");
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
