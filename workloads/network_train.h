// Training runs of any network (workloads/network_spec.h) in any numerics
// (workloads/numerics.h) through the one training loop (workloads/trainer.h):
// mini-batches, SGD with momentum and weight decay, learning-rate schedule,
// augmentation, per-epoch metrics with per-layer device statistics,
// checkpoints and resume.
#pragma once

#include <nlohmann/json.hpp>

#include "workloads/datasets.h"
#include "workloads/experiment.h"
#include "workloads/mnist.h"
#include "workloads/model.h"
#include "workloads/network_spec.h"
#include "workloads/numerics.h"
#include "workloads/trainer.h"

namespace mcasim {

// Checks that the data set's samples fit the network's input (a flat input
// takes any sample of as many values; an image input needs the same
// channels, height and width; a recurrent network takes sequences of
// cfg.bptt steps, a feed-forward one single samples). Throws
// std::invalid_argument naming both.
void check_input(const network_spec& net, const network_run_config& cfg, const dataset& ds,
                 const std::string& data_name);

// A weight layer's counters for the training loop (trainable::counters).
layer_counters counters_of(const weight_layer_stats& s);
// Per layer, what trainable::activity reports: name, kind, output mean,
// std, zero and dead fractions; weight layers their weights' mean and std,
// mca layers their devices' conductances (g_pos_mean_us, g_pos_std_us,
// g_neg_mean_us, g_neg_std_us, g_high_fraction).
nlohmann::json activity_json(const std::vector<layer_activity>& layers);
// Per weight layer as first built (metrics.json's weight_layers): name,
// rows, cols, initial weight_std, its numerics when the run mixes them and,
// for an mca layer, the mapping derived or set (g_per_weight_us, epsilon,
// adc_forward_range, adc_backward_range).
nlohmann::json weight_layers_json(const network_run_config& cfg,
                                  const std::vector<weight_layer_stats>& stats);

// The perceptron of an experiment as a network: inputs-hidden-outputs dense
// layers named `hidden` and `output`, the hidden activation, and sigmoid
// outputs with MSE or linear outputs with the L2-SVM loss (`mlp-paper` and
// `mlp-table1` for the paper's sizes).
network_spec perceptron_network(const mlp_config& m);
// An experiment's machine as the engine's run configuration (fp64 and the
// 32-bit digital design become the fp32 reference, the mixed-precision
// design digital-mp): the same device, converter, chi and refresh settings,
// mapped per layer; batch 1, plain SGD, one thread.
network_run_config engine_config(const experiment_config& e);

// The paper's perceptron experiments (workloads/experiment.h) through the
// loop on the engine (engine_config): batch 1, the experiment's own
// learning rate.
nlohmann::json run_training(const experiment_config& cfg, const dataset& train, const dataset& test,
                            const train_options& opt);

nlohmann::json run_network_training(const network_spec& net, const network_run_config& cfg,
                                    const dataset& train, const dataset& test,
                                    const train_options& opt);
// The same with the data set's validation split (evaluated every epoch)
// and, for text, losses in bits per symbol.
nlohmann::json run_network_training(const network_spec& net, const network_run_config& cfg,
                                    const split_dataset& data, const train_options& opt);

}  // namespace mcasim
