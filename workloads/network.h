// The two-layer perceptron as an abstract machine (train one image, predict
// one image) and its functional implementations: fp64 reference weights, and
// the mixed-precision computational-memory machine on PCM crossbars.
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

std::unique_ptr<network> make_network(const experiment_config& cfg, uint64_t seed,
                                      double now_s = 0.0);

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

// --- fp64 reference ---------------------------------------------------------
class fp64_network : public network {
 public:
  fp64_network(const experiment_config& cfg, uint64_t seed);
  int train(const float* x, int label, double now_s) override;
  int predict(const float* x, double now_s) override;
  std::vector<layer_counters> counters() const override { return counters_; }
  void save(state_writer& w) const override;
  void load(state_reader& r) override;
  const std::vector<double>& w1() const { return w1_; }
  const std::vector<double>& w2() const { return w2_; }

 private:
  int forward(const float* x);
  mlp_config m_;
  std::vector<double> w1_, w2_;  // (inputs+1) x hidden, (hidden+1) x outputs
  std::vector<double> xb_, a1_, y_, d2_, d1_;
  std::vector<layer_counters> counters_;
};

// --- mixed-precision computational memory -----------------------------------
class mca_network : public network {
 public:
  mca_network(const experiment_config& cfg, uint64_t seed, double now_s);
  int train(const float* x, int label, double now_s) override;
  int predict(const float* x, double now_s) override;
  void begin_epoch(int epoch, double now_s) override;
  void age_to(double now_s) override;
  std::vector<layer_counters> counters() const override;
  void save(state_writer& w) const override;
  void load(state_reader& r) override;

  crossbar& layer(std::size_t l) { return *xbar_[l]; }
  const chi_memory& chi(std::size_t l) const { return *chi_[l]; }
  uint64_t images_trained() const { return images_; }

 private:
  int forward(const float* x, double now_s);
  void apply_weight_scale(int epoch);
  // Re-evaluates drift of both arrays at now_s (and the shared reference).
  void sync_arrays(double now_s);

  mlp_config m_;
  mca_config c_;
  std::unique_ptr<crossbar> xbar_[2];
  std::unique_ptr<chi_memory> chi_[2];
  uint64_t images_ = 0;
  std::vector<float> xb_, z1_, a1_, y_, d2_, d1_, tmp_, ux_, ud_;
};

}  // namespace mcasim
