#include "models/crossbar.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace mcasim {
namespace {

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument(what);
}

}  // namespace

void crossbar_config::validate() const {
  require(g_per_weight_us > 0 && std::isfinite(g_per_weight_us),
          "crossbar.g_per_weight_us = " + std::to_string(g_per_weight_us) + ": must be > 0");
  require(init_mean_us >= 0 && std::isfinite(init_mean_us),
          "crossbar.init_mean_us = " + std::to_string(init_mean_us) + ": must be >= 0");
  require(init_std_us >= 0 && std::isfinite(init_std_us),
          "crossbar.init_std_us = " + std::to_string(init_std_us) + ": must be >= 0");
}

void refresh_config::validate() const {
  require(g_high_us > 0, "refresh.g_high_us = " + std::to_string(g_high_us) + ": must be > 0");
  require(diff_low_us >= 0,
          "refresh.diff_low_us = " + std::to_string(diff_low_us) + ": must be >= 0");
  require(max_pulses >= 0, "refresh.max_pulses = " + std::to_string(max_pulses) + ": must be >= 0");
  require(g_per_pulse_us > 0,
          "refresh.g_per_pulse_us = " + std::to_string(g_per_pulse_us) + ": must be > 0");
}

crossbar::crossbar(std::size_t rows, std::size_t cols, const crossbar_config& cfg,
                   const pcm_params& pcm, uint64_t seed, uint32_t index)
    : rows_(rows),
      cols_(cols),
      seed_(seed),
      index_(index),
      cfg_(cfg),
      pos_(rows * cols, pcm, seed, 2 * index),
      neg_(cfg.synapse == synapse_kind::differential ? rows * cols : 0, pcm, seed, 2 * index + 1),
      weight_per_us_(1.0 / cfg.g_per_weight_us),
      gd_pos_(rows * cols),
      gd_neg_(cfg.synapse == synapse_kind::differential ? rows * cols : 0),
      w_(rows * cols),
      var_(rows * cols),
      var_bf16_(rows * cols),
      noisy_(pcm.read_noise),
      init_rng_(seed, stream_id(stream_kind::device_init, index)),
      read_rng_(seed, stream_id(stream_kind::device_read, index)),
      acc_(std::max(rows, cols)) {
  require(rows > 0 && cols > 0, "crossbar: rows and cols must be > 0");
  cfg_.validate();
}

void crossbar::save(state_writer& w) const {
  w.put<uint64_t>(rows_);
  w.put<uint64_t>(cols_);
  pos_.save(w);
  neg_.save(w);
  w.put(weight_per_us_);
  w.put(gref_);
  w.put(synced_at_s_);
  w.put(gd_pos_);
  w.put(gd_neg_);
  w.put(w_);
  w.put(var_);
  init_rng_.save(w);
  read_rng_.save(w);
  w.put(counters_);
}

void crossbar::load(state_reader& r) {
  r.expect<uint64_t>(rows_, "crossbar rows");
  r.expect<uint64_t>(cols_, "crossbar columns");
  pos_.load(r);
  neg_.load(r);
  r.get(weight_per_us_, "weight per uS");
  r.get(gref_, "reference conductance");
  r.get(synced_at_s_, "drift sync time");
  r.get(gd_pos_, "drifted conductances");
  r.get(gd_neg_, "drifted conductances");
  r.get(w_, "weights");
  r.get(var_, "read variances");
  std::transform(var_.begin(), var_.end(), var_bf16_.begin(), bf16_bits);
  init_rng_.load(r, "initialisation stream");
  read_rng_.load(r, "read-noise stream");
  r.get(counters_, "crossbar counters");
}

void crossbar::initialize(double now_s) {
  for (std::size_t k = 0; k < pos_.size(); ++k) {
    pos_.program_to(k, cfg_.init_mean_us + cfg_.init_std_us * init_rng_.normal(), now_s);
    if (cfg_.synapse == synapse_kind::differential) {
      neg_.program_to(k, cfg_.init_mean_us + cfg_.init_std_us * init_rng_.normal(), now_s);
    }
  }
  sync(now_s);
}

void crossbar::set_weight_per_us(double s) {
  require(cfg_.synapse == synapse_kind::single_ref,
          "crossbar: the weight scale of a differential array is fixed by g_per_weight_us");
  require(s > 0 && std::isfinite(s), "crossbar: weight_per_us must be > 0");
  weight_per_us_ = s;
  for (std::size_t k = 0; k < w_.size(); ++k) update_cell(k);
}

void crossbar::update_cell(std::size_t k) {
  const pcm_params& p = pos_.params();
  if (cfg_.synapse == synapse_kind::differential) {
    const float gp = gd_pos_[k], gn = gd_neg_[k];
    w_[k] = static_cast<float>((gp - gn) * weight_per_us_);
    const double sp = p.read_sigma(gp), sn = p.read_sigma(gn);
    var_[k] = static_cast<float>((sp * sp + sn * sn) * weight_per_us_ * weight_per_us_);
  } else {
    const float g = gd_pos_[k];
    w_[k] = static_cast<float>((g - gref_) * weight_per_us_);
    const double s = p.read_sigma(g) * weight_per_us_;
    var_[k] = static_cast<float>(s * s);
  }
  var_bf16_[k] = bf16_bits(var_[k]);
}

void crossbar::sync(double now_s) {
  // Pieces of the array on the threads of an OpenMP team (the run's
  // threads): devices are independent, and a piece is whole chunks of the
  // drift kernel, so the numbers are the same for any thread count.
  constexpr std::size_t k_piece = std::size_t{1} << 16;
  const std::size_t n = w_.size();
  const auto pieces = static_cast<std::ptrdiff_t>((n + k_piece - 1) / k_piece);
  auto each_piece = [&](const auto& f) {  // f(begin, end) for every piece
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t p = 0; p < pieces; ++p) {
      const std::size_t b = static_cast<std::size_t>(p) * k_piece;
      f(b, std::min(n, b + k_piece));
    }
  };
  const bool differential = cfg_.synapse == synapse_kind::differential;
  pos_.evaluate_drift(now_s);
  neg_.evaluate_drift(now_s);
  // A differential pair's cell follows from its own devices (in the same
  // pass); single_ref cells need the reference of the whole array first.
  each_piece([&](std::size_t b, std::size_t e) {
    pos_.drifted_range(b, e, now_s, gd_pos_.data() + b);
    if (!differential) return;
    neg_.drifted_range(b, e, now_s, gd_neg_.data() + b);
    for (std::size_t k = b; k < e; ++k) update_cell(k);
  });
  if (!differential) {
    double sum = 0.0;
    for (float g : gd_pos_) sum += g;
    gref_ = static_cast<float>(sum / static_cast<double>(gd_pos_.size()));
    each_piece([&](std::size_t b, std::size_t e) {
      for (std::size_t k = b; k < e; ++k) update_cell(k);
    });
  }
  synced_at_s_ = now_s;
}

double crossbar::conductance_sum_us() const {
  double sum = 0.0;
  for (float g : gd_pos_) sum += g;
  for (float g : gd_neg_) sum += g;
  return sum;
}

crossbar::conductance_summary crossbar::summarize(double high_us) const {
  conductance_summary s;
  std::size_t high = 0;
  const auto side = [&](const std::vector<float>& g, double& mean, double& sd) {
    if (g.empty()) return;
    double sum = 0.0, sq = 0.0;
    for (const float v : g) {
      sum += v;
      sq += static_cast<double>(v) * v;
      if (v >= high_us) ++high;
    }
    const auto n = static_cast<double>(g.size());
    mean = sum / n;
    sd = std::sqrt(std::max(0.0, sq / n - mean * mean));
  };
  side(gd_pos_, s.pos_mean_us, s.pos_std_us);
  side(gd_neg_, s.neg_mean_us, s.neg_std_us);
  if (devices() > 0) s.high_fraction = static_cast<double>(high) / static_cast<double>(devices());
  return s;
}

double crossbar::mean_conductance_us() const {
  return conductance_sum_us() / static_cast<double>(devices());
}

void crossbar::set_reference_us(float gref) {
  require(cfg_.synapse == synapse_kind::single_ref,
          "crossbar: a differential array has no reference conductance");
  gref_ = gref;
  for (std::size_t k = 0; k < w_.size(); ++k) update_cell(k);
}

void crossbar::mvm(const float* x, float* y) {
  std::fill(y, y + cols_, 0.0f);
  float* var = acc_.data();
  std::fill(var, var + cols_, 0.0f);
  for (std::size_t r = 0; r < rows_; ++r) {
    const float xr = x[r];
    if (xr == 0.0f) continue;
    const float x2 = xr * xr;
    const float* w = &w_[r * cols_];
    const float* v = &var_[r * cols_];
    if (noisy_) {
      for (std::size_t c = 0; c < cols_; ++c) {
        y[c] += xr * w[c];
        var[c] += x2 * v[c];
      }
    } else {
      for (std::size_t c = 0; c < cols_; ++c) y[c] += xr * w[c];
    }
  }
  if (noisy_) {
    for (std::size_t c = 0; c < cols_; ++c) {
      y[c] += static_cast<float>(std::sqrt(static_cast<double>(var[c])) * read_rng_.normal());
    }
  }
}

void crossbar::mvm_t(const float* d, float* y, std::size_t out_rows) {
  require(out_rows <= rows_, "crossbar::mvm_t: out_rows > rows");
  for (std::size_t r = 0; r < out_rows; ++r) {
    const float* w = &w_[r * cols_];
    float s = 0.0f;
    for (std::size_t c = 0; c < cols_; ++c) s += w[c] * d[c];
    if (noisy_) {
      const float* v = &var_[r * cols_];
      float var = 0.0f;
      for (std::size_t c = 0; c < cols_; ++c) var += v[c] * d[c] * d[c];
      s += static_cast<float>(std::sqrt(static_cast<double>(var)) * read_rng_.normal());
    }
    y[r] = s;
  }
}

void crossbar::pulse(std::size_t r, std::size_t c, int p, double now_s) {
  if (p == 0) return;
  const std::size_t k = r * cols_ + c;
  ++counters_.cells_programmed;
  if (cfg_.synapse == synapse_kind::differential) {
    pcm_array& dev = p > 0 ? pos_ : neg_;
    const int n = std::abs(p);
    for (int i = 0; i < n; ++i) dev.set_pulse(k, now_s);
    counters_.set_pulses += static_cast<uint64_t>(n);
    (p > 0 ? gd_pos_ : gd_neg_)[k] = dev.drifted(k, now_s);
  } else {
    if (p > 0) {
      for (int i = 0; i < p; ++i) pos_.set_pulse(k, now_s);
      counters_.set_pulses += static_cast<uint64_t>(p);
    } else {
      pos_.reset_pulse(k, now_s);  // RESET is not cumulative: one pulse
      ++counters_.reset_pulses;
    }
    gd_pos_[k] = pos_.drifted(k, now_s);
  }
  update_cell(k);
}

void crossbar::refresh_block(std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1,
                             const refresh_config& cfg, double now_s) {
  if (cfg_.synapse != synapse_kind::differential) return;
  r1 = std::min(r1, rows_);
  c1 = std::min(c1, cols_);
  for (std::size_t r = r0; r < r1; ++r) {
    for (std::size_t k = r * cols_ + c0; k < r * cols_ + c1; ++k) {
      const float gp = gd_pos_[k], gn = gd_neg_[k];
      if (std::max(gp, gn) <= cfg.g_high_us || std::fabs(gp - gn) >= cfg.diff_low_us) continue;
      const double diff = gp - gn;
      pos_.reset_pulse(k, now_s);
      neg_.reset_pulse(k, now_s);
      const int n = std::min(cfg.max_pulses,
                             static_cast<int>(std::lround(std::fabs(diff) / cfg.g_per_pulse_us)));
      pcm_array& dev = diff > 0 ? pos_ : neg_;
      for (int i = 0; i < n; ++i) dev.set_pulse(k, now_s);
      gd_pos_[k] = pos_.drifted(k, now_s);
      gd_neg_[k] = neg_.drifted(k, now_s);
      update_cell(k);
      ++counters_.refreshed_cells;
      counters_.refresh_reset_pulses += 2;
      counters_.refresh_set_pulses += static_cast<uint64_t>(n);
    }
  }
}

void crossbar::read_cell(std::size_t r, std::size_t c, double now_s, rng& r_noise, float& gp,
                         float& gn) const {
  const std::size_t k = r * cols_ + c;
  gp = pos_.read(k, now_s, r_noise);
  gn = cfg_.synapse == synapse_kind::differential ? neg_.read(k, now_s, r_noise) : 0.0f;
}

}  // namespace mcasim
