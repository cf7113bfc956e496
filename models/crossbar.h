// PCM crossbar array: weights as conductances of a differential pair
// (W = (Gp - Gn) / g_per_weight) or of one device against a reference
// (W = (G - Gref) * weight_per_us, Gref = mean conductance of the array).
// Rows are inputs, columns outputs. The array keeps a cache of drifted
// weights and read-noise variances, refreshed by sync(now) and, for every
// programmed cell, at once; matrix-vector products draw read noise in the
// exact aggregated form (one Gaussian per output, see docs/pcm-model.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "models/noise_kernel.h"
#include "models/pcm_device.h"
#include "models/rng.h"

namespace mcasim {

enum class synapse_kind { differential, single_ref };

struct crossbar_config {
  synapse_kind synapse = synapse_kind::differential;
  double g_per_weight_us = 8.0;  // differential: [-8, 8] uS <-> [-1, 1]
  double init_mean_us = 1.6;     // iterative programming target distribution
  double init_std_us = 0.83;
  void validate() const;
};

// Refresh of saturated differential pairs (paper Methods).
struct refresh_config {
  double g_high_us = 8.0;        // a device above this ...
  double diff_low_us = 6.0;      // ... and |Gp - Gn| below this triggers a refresh
  int max_pulses = 3;            // SET pulses to restore the difference
  double g_per_pulse_us = 0.77;  // average change per SET pulse, converts the difference
  void validate() const;
};

// Rows [first, second) of an array of `rows` rows checked by refresh at
// sample `k` of every `every` (refresh spread across samples).
inline std::pair<std::size_t, std::size_t> refresh_slice(std::size_t rows, uint64_t k,
                                                         uint64_t every) {
  return {static_cast<std::size_t>(rows * k / every),
          static_cast<std::size_t>(rows * (k + 1) / every)};
}

// Programming actions performed on one array.
struct device_counters {
  uint64_t set_pulses = 0;
  uint64_t reset_pulses = 0;
  uint64_t cells_programmed = 0;  // update events: a cell receiving >= 1 pulse in one update
  uint64_t refreshed_cells = 0;
  uint64_t refresh_set_pulses = 0;
  uint64_t refresh_reset_pulses = 0;
};

// One programming command: p > 0 potentiating, p < 0 depressing pulses on
// cell (row, col) (chi_memory convention).
struct pulse_cmd {
  uint32_t row, col;
  int32_t p;
};

// A finite float rounded to the nearest bfloat16 (ties to even), as its 16
// bits: the precision of the read variances in a block of MVMs
// (mca_numerics::read_variance).
inline uint16_t bf16_bits(float v) {
  uint32_t u = 0;
  std::memcpy(&u, &v, sizeof u);
  u += 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}
inline float bf16_value(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float v = 0.0f;
  std::memcpy(&v, &u, sizeof v);
  return v;
}

class crossbar {
 public:
  crossbar(std::size_t rows, std::size_t cols, const crossbar_config& cfg, const pcm_params& pcm,
           uint64_t seed, uint32_t index);

  std::size_t rows() const { return rows_; }
  uint64_t seed() const { return seed_; }
  uint32_t index() const { return index_; }
  std::size_t cols() const { return cols_; }
  synapse_kind synapse() const { return cfg_.synapse; }

  // Iteratively programs every device to N(init_mean, init_std) at now_s.
  void initialize(double now_s);
  // Weight per microsiemens (single_ref only; differential uses g_per_weight).
  void set_weight_per_us(double s);
  double weight_per_us() const { return weight_per_us_; }

  // Re-evaluates drift of all devices at now_s and rebuilds the caches.
  void sync(double now_s);
  double synced_at_s() const { return synced_at_s_; }

  // y[c] = sum_r x[r] W[r][c] + read noise, c < cols. Rows with x[r] == 0
  // contribute nothing and are skipped.
  void mvm(const float* x, float* y);
  // y[r] = sum_c W[r][c] d[c] + read noise, r < out_rows (<= rows).
  void mvm_t(const float* d, float* y, std::size_t out_rows);

  // p > 0: p potentiating SET pulses (on Gp, or on the single device);
  // p < 0: |p| depressing pulses (SET on Gn, or RESET of the single device).
  void pulse(std::size_t r, std::size_t c, int p, double now_s);

  // Refresh check of rows [r0, r1) (differential only): RESET both devices of
  // saturated pairs and restore the difference with <= max_pulses SET pulses.
  void refresh_rows(std::size_t r0, std::size_t r1, const refresh_config& cfg, double now_s) {
    refresh_block(r0, r1, 0, cols_, cfg, now_s);
  }
  // The same for the cells of rows [r0, r1) and columns [c0, c1) (one tile
  // of a larger layer), row by row.
  void refresh_block(std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1,
                     const refresh_config& cfg, double now_s);

  float weight(std::size_t r, std::size_t c) const { return w_[r * cols_ + c]; }
  // Drifted, noise-free weights and the read variance of every cell
  // (weight units), row-major rows x cols: what a block of MVMs multiplies.
  const std::vector<float>& weights() const { return w_; }
  const std::vector<float>& variances() const { return var_; }
  // The read variances rounded to bfloat16 (bf16_bits), kept with them.
  const std::vector<uint16_t>& variances_bf16() const { return var_bf16_; }
  bool noisy() const { return noisy_; }
  // The draws of the read noise of n outputs of a block of MVMs from the
  // array's read stream; add_read_noise(draws, y, var, n) adds it, y[k] +=
  // sqrt(var[k]) N(0, 1), var[k] the aggregated read variance of output k
  // (models/noise_kernel.h).
  void read_noise_draws(std::size_t n, std::vector<uint64_t>& draws) {
    mcasim::read_noise_draws(read_rng_, n, draws);
  }
  float gref_us() const { return gref_; }
  // Overrides the reference conductance (single_ref) with an external one, e.g.
  // the mean of several arrays, and rebuilds the weight cache.
  void set_reference_us(float gref);
  // Sum and number of drifted device conductances at the last sync.
  double conductance_sum_us() const;
  std::size_t devices() const { return gd_pos_.size() + gd_neg_.size(); }
  // Noisy reads of the devices of one cell (Gn = 0 for single_ref), drawing
  // from the caller's stream so observing never perturbs training.
  void read_cell(std::size_t r, std::size_t c, double now_s, rng& r_noise, float& gp,
                 float& gn) const;
  double mean_conductance_us() const;  // mean drifted conductance of all devices
  // The drifted conductances at the last sync, per side (Gn: none for
  // single_ref): mean and spread, and the share of all devices at or above
  // high_us (near saturation, e.g. 0.9 g_max_us: they no longer take SETs).
  struct conductance_summary {
    double pos_mean_us = 0.0, pos_std_us = 0.0, neg_mean_us = 0.0, neg_std_us = 0.0;
    double high_fraction = 0.0;
  };
  conductance_summary summarize(double high_us) const;

  pcm_array& positive() { return pos_; }
  pcm_array& negative() { return neg_; }
  const device_counters& counters() const { return counters_; }
  void clear_counters() { counters_ = {}; }

  // Checkpoint of everything that changes after construction (devices,
  // caches, reference, streams, counters).
  void save(state_writer& w) const;
  void load(state_reader& r);

 private:
  void update_cell(std::size_t k);  // cache from gd_pos_/gd_neg_

  std::size_t rows_, cols_;
  uint64_t seed_;
  uint32_t index_;
  crossbar_config cfg_;
  pcm_array pos_, neg_;  // neg_ is empty for single_ref
  double weight_per_us_;
  float gref_ = 0.0f;
  double synced_at_s_ = 0.0;
  std::vector<float> gd_pos_, gd_neg_;  // drifted conductances at last sync / programming
  std::vector<float> w_, var_;          // weights and read variances (weight units)
  std::vector<uint16_t> var_bf16_;      // var_ rounded to bfloat16
  bool noisy_;
  rng init_rng_, read_rng_;
  device_counters counters_;
  std::vector<float> acc_;  // scratch
};

}  // namespace mcasim
