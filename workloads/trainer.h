// Training loop: epochs of shuffled SGD (batch 1) through a network machine,
// evaluation on the training and test sets, traces of chosen synapses,
// inference after drift. Writes DIR/metrics.json and, for PCM machines,
// DIR/synapses.csv (Fig. 3b).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workloads/experiment.h"
#include "workloads/mnist.h"

namespace mcasim {

struct train_options {
  int epochs = 30;
  uint64_t seed = 1;
  std::string out_dir;
  bool progress = false;
  bool eval_train = true;        // accuracy on the whole training set after each epoch
  int traced_synapses = 5;       // layer-2 synapses whose conductances are traced
  int trace_every_images = 100;  // trace sampling period
  std::vector<double> drift_times_s{1.0, 3600.0, 86400.0, 604800.0, 2592000.0};
};

// Runs the training; returns the metrics document that it also wrote.
nlohmann::json run_training(const experiment_config& cfg, const dataset& train, const dataset& test,
                            const train_options& opt);

}  // namespace mcasim
