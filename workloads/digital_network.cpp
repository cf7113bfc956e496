#include "workloads/digital_network.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "models/rng.h"

namespace mcasim {

void digital_config::validate() const {
  if (frac_bits < 1 || frac_bits > 30) {
    throw std::invalid_argument("digital.frac_bits = " + std::to_string(frac_bits) +
                                ": must be in [1, 30]");
  }
  weights.validate("digital.weights");
  activations.validate("digital.activations");
  errors.validate("digital.errors");
  update_x.validate("digital.update_x");
  update_d.validate("digital.update_d");
}

digital_network::digital_network(const mlp_config& mlp, const digital_config& cfg, double init_std,
                                 uint64_t seed)
    : m_(mlp),
      c_(cfg),
      fixed_(cfg.kind == digital_kind::fixed32),
      grid_(std::ldexp(1.0f, cfg.frac_bits)),
      inv_grid_(std::ldexp(1.0f, -cfg.frac_bits)),
      xb_(mlp.inputs + 1),
      qin_(std::max(mlp.inputs, mlp.hidden) + 1),
      z1_(mlp.hidden),
      a1_(mlp.hidden + 1),
      y_(mlp.outputs),
      d2_(mlp.outputs),
      d1_(mlp.hidden),
      ux_(std::max(mlp.inputs, mlp.hidden) + 1),
      ud_(std::max(mlp.hidden, mlp.outputs)),
      counters_(2) {
  m_.validate();
  c_.validate();
  w_[0].resize((m_.inputs + 1) * m_.hidden);
  w_[1].resize((m_.hidden + 1) * m_.outputs);
  rng r(seed, stream_id(stream_kind::weight_init));
  for (auto& w : w_) {
    for (float& v : w) v = fx(static_cast<float>(init_std * r.normal()));
  }
  wq_.resize(std::max(w_[0].size(), w_[1].size()));
}

void digital_network::layer_forward(int l, const float* in, std::size_t rows, float* out) {
  const std::vector<float>& w = w_[l];
  const std::size_t cols = l == 0 ? m_.hidden : m_.outputs;
  const float* wp = w.data();
  if (c_.kind == digital_kind::mixed) {  // 4-bit weights from the 32-bit SRAM words
    std::copy(w.begin(), w.end(), wq_.begin());
    quantize(c_.weights, wq_.data(), w.size());
    wp = wq_.data();
  }
  std::fill(out, out + cols, 0.0f);
  for (std::size_t r = 0; r < rows; ++r) {
    const float xr = in[r];
    if (xr == 0.0f) continue;  // numerically a no-op; the hardware still multiplies
    const float* wr = wp + r * cols;
    for (std::size_t c = 0; c < cols; ++c) out[c] += xr * wr[c];
  }
  for (std::size_t c = 0; c < cols; ++c) out[c] = fx(out[c]);
}

int digital_network::forward(const float* x) {
  const std::size_t ni = m_.inputs + 1, nh = m_.hidden;
  for (std::size_t i = 0; i < m_.inputs; ++i) xb_[i] = fx(x[i]);
  xb_[m_.inputs] = 1.0f;
  std::copy(xb_.begin(), xb_.end(), qin_.begin());
  if (c_.kind == digital_kind::mixed) quantize(c_.activations, qin_.data(), ni);
  layer_forward(0, qin_.data(), ni, z1_.data());
  for (std::size_t h = 0; h < nh; ++h) a1_[h] = fx(activate(m_.hidden_activation, z1_[h]));
  a1_[nh] = 1.0f;
  std::copy(a1_.begin(), a1_.end(), qin_.begin());
  if (c_.kind == digital_kind::mixed) quantize(c_.activations, qin_.data(), nh + 1);
  layer_forward(1, qin_.data(), nh + 1, y_.data());
  return argmax(y_.data(), m_.outputs);
}

void digital_network::backward(int label) {
  const std::size_t nh = m_.hidden, no = m_.outputs;
  output_delta(m_.loss, y_.data(), d2_.data(), no, label);
  for (std::size_t o = 0; o < no; ++o) d2_[o] = fx(d2_[o]);
  std::copy(d2_.begin(), d2_.end(), ud_.begin());
  const float* w2 = w_[1].data();
  if (c_.kind == digital_kind::mixed) {
    quantize(c_.errors, ud_.data(), no);
    std::copy(w_[1].begin(), w_[1].end(), wq_.begin());
    quantize(c_.weights, wq_.data(), w_[1].size());
    w2 = wq_.data();
  }
  for (std::size_t h = 0; h < nh; ++h) {
    float s = 0.0f;
    for (std::size_t o = 0; o < no; ++o) s += w2[h * no + o] * ud_[o];
    d1_[h] = fx(s * activate_deriv(m_.hidden_activation, a1_[h]));
  }
  if (c_.kind == digital_kind::mixed) quantize(c_.errors, d1_.data(), nh);
}

uint64_t digital_network::update() {
  const float lr = static_cast<float>(m_.learning_rate);
  const float* xs[2] = {xb_.data(), a1_.data()};
  const float* ds[2] = {d1_.data(), d2_.data()};
  uint64_t written = 0;
  for (int l = 0; l < 2; ++l) {
    const std::size_t rows = l == 0 ? m_.inputs + 1 : m_.hidden + 1;
    const std::size_t cols = l == 0 ? m_.hidden : m_.outputs;
    float* w = w_[l].data();
    if (c_.kind == digital_kind::fixed32) {
      for (std::size_t r = 0; r < rows; ++r) {
        const float s = lr * xs[l][r];
        for (std::size_t c = 0; c < cols; ++c) w[r * cols + c] = fx(w[r * cols + c] + s * ds[l][c]);
      }
      written += rows * cols;  // the dense design reads and writes every weight
      counters_[l].weight_updates += rows * cols;
      continue;
    }
    const uint64_t nz_d =
        update_operands(c_.update_x, c_.update_d, xs[l], rows, ds[l], cols, ux_.data(), ud_.data());
    for (std::size_t r = 0; r < rows && nz_d > 0; ++r) {
      if (ux_[r] == 0.0f) continue;
      const float s = lr * ux_[r];
      for (std::size_t c = 0; c < cols; ++c) w[r * cols + c] += s * ud_[c];
      written += nz_d;
      counters_[l].weight_updates += nz_d;
      counters_[l].nonzero_chi_updates += nz_d;
    }
  }
  return written;
}

int digital_network::train(const float* x, int label, double) {
  const int pred = forward(x);
  backward(label);
  update();
  return pred;
}

int digital_network::predict(const float* x, double) {
  return forward(x);
}

void digital_network::save(state_writer& w) const {
  w.put(w_[0]);
  w.put(w_[1]);
  w.put(counters_);
}

void digital_network::load(state_reader& r) {
  r.get(w_[0], "layer-1 weights");
  r.get(w_[1], "layer-2 weights");
  r.get(counters_, "layer counters");
}

}  // namespace mcasim
