// Statistical PCM device model (struct of arrays). Equations and numbers:
// docs/pcm-model.md. Conductances in microsiemens, times in seconds of
// simulated device time (never wall time).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "models/rng.h"

namespace mcasim {

struct pcm_params {
  // SET pulse (90 uA, 50 ns): mean and spread of the increment.
  double alpha = 2.6;
  double m1 = -0.084, c1 = 0.880, a1 = 1.40;
  double m2 = 0.091, c2 = 0.260, a2 = 2.15;
  double g_min_us = 0.1, g_max_us = 20.0;
  // RESET: G <- max(floor, N(mean, std)).
  double reset_mean_us = 0.1, reset_std_us = 0.01, reset_floor_us = 0.01;
  // Drift G(t) = G * max((t - t_p) / t0, 1)^-nu, restarted by programming.
  bool drift = true;
  double drift_t0_s = 38.6;
  double nu = 0.04;
  double nu_std = 0.0;  // > 0: nu ~ N(nu, nu_std) per device per programming event, >= 0
  // Read noise N(0, rel * G + abs).
  bool read_noise = true;
  double read_noise_rel = 0.03, read_noise_abs_us = 0.13;
  // Device-to-device variability (fixed at construction): mu * (1 + mu_rel eta),
  // g_max * (1 + gmax_rel eta).
  bool variability = false;
  double variability_mu_rel = 0.2, variability_gmax_rel = 0.1;

  // Throws std::invalid_argument naming the field when a value is unusable.
  void validate() const;
  // Mean conductance after n SET pulses from the RESET mean (noise-free path).
  double mean_after_pulses(int n) const;
  // Number of SET pulses whose noise-free path first reaches g_us (state
  // assigned to devices initialised by iterative programming).
  int pulses_to_reach(double g_us) const;
  // Standard deviation of one read at drifted conductance g_us.
  double read_sigma(double g_us) const {
    return read_noise ? read_noise_rel * g_us + read_noise_abs_us : 0.0;
  }
};

class pcm_array {
 public:
  // `index` selects this array's independent random streams.
  pcm_array(std::size_t n, const pcm_params& params, uint64_t seed, uint32_t index);

  std::size_t size() const { return g_.size(); }
  const pcm_params& params() const { return p_; }

  // Iterative programming to a target (no stochastic SET path involved).
  void program_to(std::size_t k, double g_us, double now_s);
  // One SET pulse; returns the new (undrifted) conductance.
  float set_pulse(std::size_t k, double now_s);
  void reset_pulse(std::size_t k, double now_s);

  // Conductance as read T0 after the last programming event (no drift, no noise).
  float g(std::size_t k) const { return g_[k]; }
  uint32_t set_count(std::size_t k) const { return n_[k]; }
  double last_programmed_s(std::size_t k) const { return event_s_[event_[k]]; }

  double drift_factor(std::size_t k, double now_s) const;
  float drifted(std::size_t k, double now_s) const {
    return static_cast<float>(g_[k] * drift_factor(k, now_s));
  }
  // The drift factors at now_s of every programming time the devices hold
  // (devices programmed together share one), for drifted_range.
  void evaluate_drift(double now_s);
  // Drifted conductances of [begin, end) into out[0 .. end-begin), after
  // evaluate_drift(now_s) (std::logic_error otherwise); any thread.
  void drifted_range(std::size_t begin, std::size_t end, double now_s, float* out) const;
  // One noisy read (drift + read noise) with the caller's read stream.
  float read(std::size_t k, double now_s, rng& r) const;

  // Checkpoint of the mutable state (conductances, pulse counts, programming
  // times, drift exponents, programming stream); the variability draws are
  // fixed by the seed and rebuilt by the constructor.
  void save(state_writer& w) const;
  void load(state_reader& r);

 private:
  void restart_drift(std::size_t k, double now_s);
  // Drops the events no device holds any more (their order kept).
  void compact_events();

  pcm_params p_;
  std::vector<float> g_;
  std::vector<uint32_t> n_;
  // Programming times: device k was last programmed at event_s_[event_[k]]
  // (an event: one time at which devices were programmed; the table is
  // compacted as it grows), and the events' drift factors at factors_s_.
  std::vector<uint32_t> event_;
  std::vector<double> event_s_, event_factor_;
  double factors_s_ = -1.0;
  bool factors_valid_ = false;
  std::size_t compact_at_;       // the table's size at which the next event compacts it
  std::vector<float> nu_;        // per device, only when nu_std > 0
  std::vector<float> mu_scale_;  // per device, only with variability
  std::vector<float> g_max_;     // per device, only with variability
  rng program_rng_;
};

}  // namespace mcasim
