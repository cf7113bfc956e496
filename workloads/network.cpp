#include "workloads/network.h"

#include <algorithm>

#include "models/converters.h"
#include "models/rng.h"
#include "workloads/digital_network.h"

namespace mcasim {

std::unique_ptr<network> make_network(const experiment_config& cfg, uint64_t seed, double now_s) {
  cfg.validate();
  switch (cfg.machine) {
    case machine_kind::fp64:
      return std::make_unique<fp64_network>(cfg, seed);
    case machine_kind::digital:
      return std::make_unique<digital_network>(cfg.mlp, cfg.digital, cfg.fp_init_std, seed);
    case machine_kind::mca:
      break;
  }
  return std::make_unique<mca_network>(cfg, seed, now_s);
}

// --- fp64 ---------------------------------------------------------------------

fp64_network::fp64_network(const experiment_config& cfg, uint64_t seed)
    : m_(cfg.mlp),
      w1_((m_.inputs + 1) * m_.hidden),
      w2_((m_.hidden + 1) * m_.outputs),
      xb_(m_.inputs + 1),
      a1_(m_.hidden + 1),
      y_(m_.outputs),
      d2_(m_.outputs),
      d1_(m_.hidden),
      counters_(2) {
  rng r(seed, stream_id(stream_kind::weight_init));
  for (double& w : w1_) w = cfg.fp_init_std * r.normal();
  for (double& w : w2_) w = cfg.fp_init_std * r.normal();
}

int fp64_network::forward(const float* x) {
  const std::size_t ni = m_.inputs + 1, nh = m_.hidden, no = m_.outputs;
  for (std::size_t i = 0; i < m_.inputs; ++i) xb_[i] = x[i];
  xb_[m_.inputs] = 1.0;
  std::fill(a1_.begin(), a1_.begin() + nh, 0.0);
  for (std::size_t i = 0; i < ni; ++i) {
    const double xi = xb_[i];
    if (xi == 0.0) continue;
    const double* w = &w1_[i * nh];
    for (std::size_t h = 0; h < nh; ++h) a1_[h] += xi * w[h];
  }
  for (std::size_t h = 0; h < nh; ++h) a1_[h] = activate(m_.hidden_activation, a1_[h]);
  a1_[nh] = 1.0;
  std::fill(y_.begin(), y_.end(), 0.0);
  for (std::size_t h = 0; h <= nh; ++h) {
    const double* w = &w2_[h * no];
    for (std::size_t o = 0; o < no; ++o) y_[o] += a1_[h] * w[o];
  }
  return argmax(y_.data(), no);
}

int fp64_network::predict(const float* x, double) {
  forward(x);
  if (m_.loss == loss_kind::mse) {
    for (double& v : y_) v = activate(activation_kind::sigmoid, v);
  }
  return argmax(y_.data(), m_.outputs);
}

int fp64_network::train(const float* x, int label, double) {
  const std::size_t ni = m_.inputs + 1, nh = m_.hidden, no = m_.outputs;
  forward(x);
  output_delta(m_.loss, y_.data(), d2_.data(), no, label);
  const int pred = argmax(y_.data(), no);
  for (std::size_t h = 0; h < nh; ++h) {
    const double* w = &w2_[h * no];
    double s = 0.0;
    for (std::size_t o = 0; o < no; ++o) s += w[o] * d2_[o];
    d1_[h] = s * activate_deriv(m_.hidden_activation, a1_[h]);
  }
  const double lr = m_.learning_rate;
  std::size_t nz2 = 0, nz1 = 0;
  for (std::size_t o = 0; o < no; ++o) nz2 += d2_[o] != 0.0;
  for (std::size_t h = 0; h < nh; ++h) nz1 += d1_[h] != 0.0;
  for (std::size_t h = 0; h <= nh; ++h) {
    const double s = lr * a1_[h];
    if (s == 0.0) continue;
    counters_[1].weight_updates += nz2;
    double* w = &w2_[h * no];
    for (std::size_t o = 0; o < no; ++o) w[o] += s * d2_[o];
  }
  for (std::size_t i = 0; i < ni; ++i) {
    const double s = lr * xb_[i];
    if (s == 0.0) continue;
    counters_[0].weight_updates += nz1;
    double* w = &w1_[i * nh];
    for (std::size_t h = 0; h < nh; ++h) w[h] += s * d1_[h];
  }
  return pred;
}

void fp64_network::save(state_writer& w) const {
  w.put(w1_);
  w.put(w2_);
  w.put(counters_);
}

void fp64_network::load(state_reader& r) {
  r.get(w1_, "layer-1 weights");
  r.get(w2_, "layer-2 weights");
  r.get(counters_, "layer counters");
}

// --- MCA ----------------------------------------------------------------------

mca_network::mca_network(const experiment_config& cfg, uint64_t seed, double now_s)
    : m_(cfg.mlp),
      c_(cfg.mca),
      xb_(m_.inputs + 1),
      z1_(m_.hidden),
      a1_(m_.hidden + 1),
      y_(m_.outputs),
      d2_(m_.outputs),
      d1_(m_.hidden),
      tmp_(std::max(m_.inputs, m_.hidden) + 1),
      ux_(std::max(m_.inputs, m_.hidden) + 1),
      ud_(std::max(m_.hidden, m_.outputs)) {
  xbar_[0] = std::make_unique<crossbar>(m_.inputs + 1, m_.hidden, c_.crossbar, c_.pcm, seed, 0);
  xbar_[1] = std::make_unique<crossbar>(m_.hidden + 1, m_.outputs, c_.crossbar, c_.pcm, seed, 1);
  for (int l = 0; l < 2; ++l) {
    chi_[l] = std::make_unique<chi_memory>(xbar_[l]->rows(), xbar_[l]->cols(), c_.chi);
    xbar_[l]->initialize(now_s);
  }
  sync_arrays(now_s);
  apply_weight_scale(1);
}

void mca_network::sync_arrays(double now_s) {
  for (auto& x : xbar_) x->sync(now_s);
  if (c_.crossbar.synapse == synapse_kind::single_ref && c_.shared_reference) {
    const double gref = (xbar_[0]->conductance_sum_us() + xbar_[1]->conductance_sum_us()) /
                        static_cast<double>(xbar_[0]->devices() + xbar_[1]->devices());
    for (auto& x : xbar_) x->set_reference_us(static_cast<float>(gref));
  }
}

void mca_network::apply_weight_scale(int epoch) {
  if (c_.crossbar.synapse != synapse_kind::single_ref) return;
  const auto& s = c_.weight_range_schedule;
  const double w = s.empty() ? 1.0 : s[std::min<std::size_t>(epoch - 1, s.size() - 1)];
  const double per_us = 2.0 * w / (c_.map_hi_us - c_.map_lo_us);
  for (int l = 0; l < 2; ++l) {
    xbar_[l]->set_weight_per_us(per_us);
    chi_[l]->set_epsilons(c_.eps_p_us * per_us, c_.eps_d_us * per_us);
  }
}

void mca_network::begin_epoch(int epoch, double) {
  apply_weight_scale(epoch);
}

void mca_network::age_to(double now_s) {
  sync_arrays(now_s);
}

int mca_network::forward(const float* x, double) {
  const std::size_t nh = m_.hidden, no = m_.outputs;
  std::copy(x, x + m_.inputs, xb_.begin());
  xb_[m_.inputs] = 1.0f;
  // Layer 1: PWM-encoded inputs, crossbar MVM, ADC, activation in digital.
  std::copy(xb_.begin(), xb_.end(), tmp_.begin());
  const double s1 = quantize(c_.pwm_forward, tmp_.data(), m_.inputs + 1);
  xbar_[0]->mvm(tmp_.data(), z1_.data());
  quantize(c_.adc_forward, z1_.data(), nh, s1);
  for (std::size_t h = 0; h < nh; ++h) a1_[h] = activate(m_.hidden_activation, z1_[h]);
  a1_[nh] = 1.0f;
  // Layer 2.
  std::copy(a1_.begin(), a1_.end(), tmp_.begin());
  const double s2 = quantize(c_.pwm_forward, tmp_.data(), nh + 1);
  xbar_[1]->mvm(tmp_.data(), y_.data());
  quantize(c_.adc_forward, y_.data(), no, s2);
  return argmax(y_.data(), no);
}

int mca_network::predict(const float* x, double now_s) {
  forward(x, now_s);
  if (m_.loss == loss_kind::mse) {
    for (float& v : y_) v = activate(activation_kind::sigmoid, v);
  }
  return argmax(y_.data(), m_.outputs);
}

int mca_network::train(const float* x, int label, double now_s) {
  const std::size_t nh = m_.hidden, no = m_.outputs;
  if (images_ % static_cast<uint64_t>(c_.drift_sync_images) == 0 && images_ > 0) {
    sync_arrays(now_s);
  }
  forward(x, now_s);
  output_delta(m_.loss, y_.data(), d2_.data(), no, label);
  const int pred = argmax(y_.data(), no);
  // Backward through layer 2 with the transposed read.
  std::copy(d2_.begin(), d2_.end(), tmp_.begin());
  const double scale = quantize(c_.pwm_backward, tmp_.data(), no);
  if (scale != 0.0) {
    xbar_[1]->mvm_t(tmp_.data(), d1_.data(), nh);
    quantize(c_.adc_backward, d1_.data(), nh, scale);
  } else {
    std::fill(d1_.begin(), d1_.end(), 0.0f);
  }
  for (std::size_t h = 0; h < nh; ++h) d1_[h] *= activate_deriv(m_.hidden_activation, a1_[h]);
  // Weight update: chi accumulation of lr * x_i * delta_j, blind pulses.
  const float lr = static_cast<float>(m_.learning_rate);
  const float* xs[2] = {xb_.data(), a1_.data()};
  const float* ds[2] = {d1_.data(), d2_.data()};
  for (int l = 0; l < 2; ++l) {
    crossbar& xb = *xbar_[l];
    const std::size_t rows = xb.rows(), cols = xb.cols();
    const std::size_t nonzero =
        update_operands(c_.update_x, c_.update_d, xs[l], rows, ds[l], cols, ux_.data(), ud_.data());
    if (nonzero == 0) continue;
    for (std::size_t r = 0; r < rows; ++r) {
      if (ux_[r] == 0.0f) continue;
      chi_[l]->accumulate_row(r, lr * ux_[r], ud_.data(), nonzero,
                              [&](std::size_t c, int p) { xb.pulse(r, c, p, now_s); });
    }
  }
  ++images_;
  if (c_.refresh_every_images > 0) {
    const uint64_t every = static_cast<uint64_t>(c_.refresh_every_images);
    for (auto& xb : xbar_) {
      if (c_.refresh_spread) {  // 1/every of the rows after every image
        const auto [r0, r1] = refresh_slice(xb->rows(), (images_ - 1) % every, every);
        xb->refresh_rows(r0, r1, c_.refresh, now_s);
      } else if (images_ % every == 0) {
        xb->refresh_rows(0, xb->rows(), c_.refresh, now_s);
      }
    }
  }
  return pred;
}

std::vector<layer_counters> mca_network::counters() const {
  std::vector<layer_counters> out(2);
  for (int l = 0; l < 2; ++l) {
    const device_counters& d = xbar_[l]->counters();
    out[l].weight_updates = d.cells_programmed;
    out[l].set_pulses = d.set_pulses;
    out[l].reset_pulses = d.reset_pulses;
    out[l].refreshed_cells = d.refreshed_cells;
    out[l].refresh_set_pulses = d.refresh_set_pulses;
    out[l].refresh_reset_pulses = d.refresh_reset_pulses;
    out[l].nonzero_chi_updates = chi_[l]->counters().nonzero_updates;
  }
  return out;
}

void mca_network::save(state_writer& w) const {
  for (const auto& x : xbar_) x->save(w);
  for (const auto& c : chi_) c->save(w);
  w.put(images_);
}

void mca_network::load(state_reader& r) {
  for (auto& x : xbar_) x->load(r);
  for (auto& c : chi_) c->load(r);
  r.get(images_, "images trained");
}

}  // namespace mcasim
