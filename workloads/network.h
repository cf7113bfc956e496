// The two-layer perceptron as an abstract machine (train one image, predict
// one image), built for the digital designs' experiments
// (workloads/digital_network.h), and the neuron math they share. The fp64
// and mca experiments train on the network engine (workloads/model.h).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "models/chi_memory.h"
#include "models/converters.h"
#include "models/crossbar.h"
#include "models/state_io.h"
#include "workloads/experiment.h"

namespace mcasim {

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

class network {
 public:
  virtual ~network() = default;
  // One SGD step on image x (pixels, without the bias) at simulated time now_s;
  // returns the class predicted by the forward pass before the update.
  virtual int train(const float* x, int label, double now_s) = 0;
  virtual int predict(const float* x, double now_s) = 0;
  virtual void begin_epoch(int /*epoch*/, double /*now_s*/) {}
  // Re-evaluates device drift at now_s (inference after training).
  virtual void age_to(double /*now_s*/) {}
  virtual std::vector<layer_counters> counters() const = 0;
  // Checkpoint of the machine's mutable state; load() restores it into a
  // machine built from the same configuration and seed.
  virtual void save(state_writer& w) const = 0;
  virtual void load(state_reader& r) = 0;
};

// The machine of a digital design's experiment; throws std::invalid_argument
// for the others (they run on the engine) and for an invalid configuration.
std::unique_ptr<network> make_network(const experiment_config& cfg, uint64_t seed);

// --- shared neuron math ----------------------------------------------------
template <class T>
inline T activate(activation_kind a, T z) {
  return a == activation_kind::sigmoid ? T(1) / (T(1) + std::exp(-z)) : (z > T(0) ? z : T(0));
}
// Derivative expressed through the activation value a = f(z).
template <class T>
inline T activate_deriv(activation_kind k, T a) {
  return k == activation_kind::sigmoid ? a * (T(1) - a) : (a > T(0) ? T(1) : T(0));
}
// Output layer: y[] from z[] in place; delta[] = -dL/dz for the label.
template <class T>
inline void output_delta(loss_kind loss, T* y, T* delta, std::size_t n, int label) {
  for (std::size_t j = 0; j < n; ++j) {
    if (loss == loss_kind::mse) {
      y[j] = activate(activation_kind::sigmoid, y[j]);
      const T t = static_cast<int>(j) == label ? T(1) : T(0);
      delta[j] = (t - y[j]) * y[j] * (T(1) - y[j]);
    } else {
      const T t = static_cast<int>(j) == label ? T(1) : T(-1);
      const T m = T(1) - t * y[j];
      delta[j] = m > T(0) ? T(2) * t * m : T(0);
    }
  }
}
template <class T>
inline int argmax(const T* y, std::size_t n) {
  std::size_t best = 0;
  for (std::size_t j = 1; j < n; ++j) {
    if (y[j] > y[best]) best = j;
  }
  return static_cast<int>(best);
}

}  // namespace mcasim
