// Training runs of any network (workloads/network_spec.h) in any numerics
// (workloads/numerics.h) through the one training loop (workloads/trainer.h):
// mini-batches, SGD with momentum and weight decay, learning-rate schedule,
// augmentation, per-epoch metrics with per-layer device statistics,
// checkpoints and resume.
#pragma once

#include <nlohmann/json.hpp>

#include "workloads/mnist.h"
#include "workloads/network_spec.h"
#include "workloads/numerics.h"
#include "workloads/trainer.h"

namespace mcasim {

// Checks that the data set's samples fit the network's input (a flat input
// takes any sample of as many values; an image input needs the same
// channels, height and width). Throws std::invalid_argument naming both.
void check_input(const network_spec& net, const dataset& ds, const std::string& data_name);

nlohmann::json run_network_training(const network_spec& net, const network_run_config& cfg,
                                    const dataset& train, const dataset& test,
                                    const train_options& opt);

}  // namespace mcasim
