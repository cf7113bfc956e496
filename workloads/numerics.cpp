#include "workloads/numerics.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace mcasim {

namespace {

void require(bool ok, const std::string& field, double v, const char* rule) {
  if (!ok) {
    char num[64];
    std::snprintf(num, sizeof num, "%g", v);
    throw std::invalid_argument(field + " = " + num + ": " + rule);
  }
}

bool finite_at_least(double v, double lo) {
  return std::isfinite(v) && v >= lo;
}

}  // namespace

const char* numerics_name(numerics_kind k) {
  switch (k) {
    case numerics_kind::fp32:
      return "fp32";
    case numerics_kind::mca:
      return "mca";
    case numerics_kind::digital_mp:
      return "digital-mp";
  }
  return "?";
}

numerics_kind parse_numerics(const std::string& s) {
  for (numerics_kind k : {numerics_kind::fp32, numerics_kind::mca, numerics_kind::digital_mp}) {
    if (s == numerics_name(k)) return k;
  }
  throw std::invalid_argument("numerics '" + s + "': must be fp32, mca or digital-mp");
}

void network_run_config::validate() const {
  for (const auto& [name, l] : layers) {
    if (l.numerics.empty()) continue;
    try {
      parse_numerics(l.numerics);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("layers." + name + ".numerics: " + e.what());
    }
  }
  require(batch >= 1 && batch <= 100000, "batch", static_cast<double>(batch),
          "must be in [1, 100000]");
  require(std::isfinite(learning_rate) && learning_rate > 0, "learning_rate", learning_rate,
          "must be > 0");
  require(finite_at_least(momentum, 0) && momentum < 1, "momentum", momentum, "must be in [0, 1)");
  require(finite_at_least(weight_decay, 0), "weight_decay", weight_decay, "must be >= 0");
  require(std::isfinite(schedule.gamma) && schedule.gamma > 0, "schedule.gamma", schedule.gamma,
          "must be > 0");
  require(schedule.step_epochs >= 0, "schedule.step_epochs", schedule.step_epochs, "must be >= 0");
  require(finite_at_least(augment.brightness, 0) && augment.brightness <= 1, "augment.brightness",
          augment.brightness, "must be in [0, 1]");
  require(finite_at_least(augment.contrast, 0) && augment.contrast <= 1, "augment.contrast",
          augment.contrast, "must be in [0, 1]");
  if (conv_update != "mean" && conv_update != "sum") {
    throw std::invalid_argument("conv_update = '" + conv_update + "': must be mean or sum");
  }
  require(finite_at_least(dropout_scale, 0), "dropout_scale", dropout_scale, "must be >= 0");
  require(bptt >= 1 && bptt <= 100000, "bptt", static_cast<double>(bptt), "must be in [1, 100000]");
  require(finite_at_least(clip_norm, 0), "clip_norm", clip_norm, "must be >= 0 (0: no clipping)");
  require(threads >= 1 && threads <= 256, "threads", threads, "must be in [1, 256]");
  mca.pcm.validate();
  mca.crossbar.validate();
  mca.refresh.validate();
  require(std::isfinite(mca.eps_us) && mca.eps_us > 0, "mca.eps_us", mca.eps_us, "must be > 0");
  require(finite_at_least(mca.eps_depress_us, 0), "mca.eps_depress_us", mca.eps_depress_us,
          "must be >= 0 (0: eps_us)");
  require(
      mca.map_hi_us > mca.map_lo_us && std::isfinite(mca.map_hi_us) && std::isfinite(mca.map_lo_us),
      "mca.map_hi_us", mca.map_hi_us, "must be finite and above mca.map_lo_us");
  for (double w : mca.weight_range_schedule) {
    require(std::isfinite(w) && w > 0, "mca.weight_range_schedule", w, "must be > 0");
  }
  require(mca.max_pulses >= 0, "mca.max_pulses", mca.max_pulses, "must be >= 0");
  require(mca.refresh_every_images >= 0, "mca.refresh_every_images", mca.refresh_every_images,
          "must be >= 0");
  require(mca.drift_sync_images >= 1, "mca.drift_sync_images", mca.drift_sync_images,
          "must be >= 1");
  require(finite_at_least(image_period_s, 0), "image_period_s", image_period_s, "must be >= 0");
  if (mca.read_variance != "bf16" && mca.read_variance != "fp32") {
    throw std::invalid_argument("mca.read_variance = '" + mca.read_variance +
                                "': must be bf16 or fp32");
  }
  mca.pwm_forward.validate("mca.pwm_forward");
  mca.adc_forward.validate("mca.adc_forward");
  mca.pwm_backward.validate("mca.pwm_backward");
  mca.adc_backward.validate("mca.adc_backward");
  mca.update_x.validate("mca.update_x");
  mca.update_d.validate("mca.update_d");
  digital_mp.weights.validate("digital_mp.weights");
  digital_mp.activations.validate("digital_mp.activations");
  digital_mp.errors.validate("digital_mp.errors");
  digital_mp.update_x.validate("digital_mp.update_x");
  digital_mp.update_d.validate("digital_mp.update_d");
  const bool mca_q = uses(numerics_kind::mca) && (!mca.update_x.ideal || !mca.update_d.ideal);
  const bool mp_q =
      uses(numerics_kind::digital_mp) && (!digital_mp.update_x.ideal || !digital_mp.update_d.ideal);
  if ((mca_q || mp_q) && (momentum > 0 || weight_decay > 0)) {
    throw std::invalid_argument(
        std::string(mca_q ? "mca" : "digital_mp") +
        ".update_x/update_d: quantised update operands need plain SGD (momentum " +
        std::to_string(momentum) + " and weight_decay " + std::to_string(weight_decay) +
        " must be 0): they form each sample's outer product");
  }
  for (const auto& [name, l] : layers) {
    const std::string p = "layers." + name + ".";
    require(finite_at_least(l.weight_std, 0), p + "weight_std", l.weight_std, "must be >= 0");
    require(finite_at_least(l.g_per_weight_us, 0), p + "g_per_weight_us", l.g_per_weight_us,
            "must be >= 0");
    require(finite_at_least(l.adc_forward_range, 0), p + "adc_forward_range", l.adc_forward_range,
            "must be >= 0");
    require(finite_at_least(l.adc_backward_range, 0), p + "adc_backward_range",
            l.adc_backward_range, "must be >= 0");
  }
}

numerics_kind network_run_config::numerics_of(const std::string& layer) const {
  const auto it = layers.find(layer);
  return it == layers.end() || it->second.numerics.empty() ? numerics
                                                           : parse_numerics(it->second.numerics);
}

bool network_run_config::uniform() const {
  return std::all_of(layers.begin(), layers.end(), [this](const auto& l) {
    return l.second.numerics.empty() || parse_numerics(l.second.numerics) == numerics;
  });
}

bool network_run_config::uses(numerics_kind k) const {
  if (numerics == k) return true;
  return std::any_of(layers.begin(), layers.end(), [k](const auto& l) {
    return !l.second.numerics.empty() && parse_numerics(l.second.numerics) == k;
  });
}

std::vector<matrix_block> tile_blocks(std::size_t rows, std::size_t cols, std::size_t tile_rows,
                                      std::size_t tile_cols) {
  const std::size_t br = tile_rows > 0 ? tile_rows : rows, bc = tile_cols > 0 ? tile_cols : cols;
  std::vector<matrix_block> blocks;
  for (std::size_t r = 0; r < rows; r += br) {
    for (std::size_t c = 0; c < cols; c += bc) {
      blocks.push_back({r, std::min(br, rows - r), c, std::min(bc, cols - c)});
    }
  }
  return blocks;
}

}  // namespace mcasim
