// What the training loop (workloads/trainer.h) trains: a machine that takes
// a mini-batch, evaluates a batch, keeps per-layer device counters and saves
// its state. Implemented by the network engine (workloads/model.h, any
// network in any numerics, the paper's perceptron experiments included).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/state_io.h"

namespace mcasim {

class crossbar;
class model;

// Per-layer update statistics since construction.
struct layer_counters {
  uint64_t weight_updates = 0;  // fp64: non-zero weight changes; PCM: cells programmed
  uint64_t set_pulses = 0;
  uint64_t reset_pulses = 0;
  uint64_t nonzero_chi_updates = 0;
  uint64_t refreshed_cells = 0;
  uint64_t refresh_set_pulses = 0;
  uint64_t refresh_reset_pulses = 0;
};

struct step_result {
  double loss_sum = 0.0;  // summed over the batch
  std::size_t correct = 0;
};

class trainable {
 public:
  virtual ~trainable() = default;
  // One training step on n samples (x: n * pixels values) at learning rate
  // lr and simulated device time now_s; the result of the forward pass
  // before the update.
  virtual step_result train_batch(const float* x, const uint8_t* labels, std::size_t n, double lr,
                                  double now_s) = 0;
  virtual step_result evaluate(const float* x, const uint8_t* labels, std::size_t n,
                               double now_s) = 0;
  virtual void begin_epoch(int /*epoch*/, double /*now_s*/) {}
  // Re-evaluates device drift at now_s (inference after training).
  virtual void age_to(double /*now_s*/) {}
  // Per weight layer, since construction.
  virtual std::vector<layer_counters> counters() const = 0;
  virtual std::vector<std::string> layer_names() const;
  // Per layer, the outputs of a forward pass on n samples (dropout off):
  // objects with name, kind, mean, std, zero_fraction, dead_fraction and,
  // for weight layers, weight_mean and weight_std. Empty when the machine
  // does not report them.
  virtual nlohmann::json activity(const float* /*x*/, std::size_t /*n*/) {
    return nlohmann::json::array();
  }
  // Decisions per sample that step_result counts (a GAN's discriminator
  // judges every real sample and as many generated ones: 2).
  virtual std::size_t decisions() const { return 1; }
  // After the evaluations of epoch e: the machine's own entries of the
  // epoch's metrics `e` (which holds the loop's), files in out_dir; returns
  // text for the epoch's progress line.
  virtual std::string epoch_report(nlohmann::json& /*e*/, int /*epoch*/,
                                   const std::string& /*out_dir*/) {
    return {};
  }
  // The networks the machine trains, in order, when it trains several (a
  // GAN: generator, discriminator): a platform unit observes their steps and
  // puts their weight layers on its tiles. Empty for one network.
  virtual std::vector<model*> networks() { return {}; }
  // The crossbar whose synapses are traced (Fig. 3b), if any.
  virtual crossbar* traced_array() { return nullptr; }
  virtual void save(state_writer& w) const = 0;
  virtual void load(state_reader& r) = 0;
};

}  // namespace mcasim
