#include "workloads/network.h"

#include <stdexcept>

#include "workloads/digital_network.h"

namespace mcasim {

std::unique_ptr<network> make_network(const experiment_config& cfg, uint64_t seed) {
  cfg.validate();
  if (cfg.machine != machine_kind::digital) {
    throw std::invalid_argument("experiment '" + cfg.name +
                                "': the fp64 and mca machines run on the network engine");
  }
  return std::make_unique<digital_network>(cfg.mlp, cfg.digital, cfg.fp_init_std, seed);
}

}  // namespace mcasim
