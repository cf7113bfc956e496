// Training through a platform design: epochs of shuffled SGD (batch 1) on the
// Table I workload, test accuracy after each epoch, and energy and time per
// stage per image from the ledger and SystemC time. Writes DIR/metrics.json.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "platform/designs.h"
#include "platform/measure.h"
#include "power/technology.h"
#include "workloads/mnist.h"

namespace mcasim {

struct platform_train_options {
  std::string design = "mca";  // digital32 | digital-mp | mca
  int epochs = 1;
  uint64_t seed = 1;
  std::string out_dir;
  bool progress = false;
  trace_options traces;
};

// Call at most once per process (one elaboration).
// `exp` is the effective experiment of the design (a table1-* preset with
// any overrides applied).
nlohmann::json run_platform_training(const dataset& train, const dataset& test,
                                     const experiment_config& exp, const technology& tech,
                                     const platform_train_options& opt,
                                     const platform_config& pc = platform_config());

}  // namespace mcasim
