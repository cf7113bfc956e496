// Functional models of the two digital designs of Table I:
//  - fixed32: 32-bit fixed-point weights, activations and errors (Q format
//    with frac_bits fractional bits), dense products and a dense update of
//    every weight;
//  - mixed: 32-bit weights in SRAM, turned into 4-bit weights (shared
//    power-of-two scale) for every propagation, 8-bit activations and errors,
//    and the MCA's weight update: signed 3-bit activations and errors with
//    shared power-of-two scales, non-zero outer-product entries added to the
//    32-bit weights.
// The phases are public so that the platform's digital unit runs exactly the
// same arithmetic while it times and counts the hardware actions.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "workloads/experiment.h"
#include "workloads/network.h"

namespace mcasim {

class digital_network : public network {
 public:
  digital_network(const mlp_config& mlp, const digital_config& cfg, double init_std, uint64_t seed);

  int train(const float* x, int label, double now_s) override;
  int predict(const float* x, double now_s) override;
  std::vector<layer_counters> counters() const override { return counters_; }
  void save(state_writer& w) const override;
  void load(state_reader& r) override;

  // Phases of one training image.
  int forward(const float* x);  // returns the predicted class
  void backward(int label);
  // Returns the number of weights written (dense: all; mixed: non-zero entries).
  uint64_t update();

  const mlp_config& mlp() const { return m_; }
  const digital_config& config() const { return c_; }
  const std::vector<float>& weights(int layer) const { return w_[layer]; }

 private:
  // Rounds to the fixed-point grid (fixed32) or returns v (mixed).
  float fx(float v) const {
    if (!fixed_) return v;
    float q = std::nearbyint(v * grid_);
    q = q < -k_int32_span ? -k_int32_span : q;  // saturate to the int32 range
    q = q > k_int32_span - 128.0f ? k_int32_span - 128.0f : q;
    return q * inv_grid_;
  }
  static constexpr float k_int32_span =
      2147483648.0f;  // 2^31; 2^31 - 128 is the largest float below it
  void layer_forward(int l, const float* in, std::size_t rows, float* out);

  mlp_config m_;
  digital_config c_;
  bool fixed_;
  float grid_, inv_grid_;
  std::vector<float> w_[2];  // 32-bit weights: (inputs+1) x hidden, (hidden+1) x outputs
  std::vector<float> wq_;    // weights used by a propagation (4-bit grid for mixed)
  std::vector<float> xb_, qin_, z1_, a1_, y_, d2_, d1_, ux_, ud_;
  std::vector<layer_counters> counters_;
};

}  // namespace mcasim
