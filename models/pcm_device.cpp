#include "models/pcm_device.h"

#include "models/drift_kernel.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace mcasim {
namespace {

void require(bool ok, const char* field, double value, const char* allowed) {
  if (!ok) {
    std::ostringstream msg;
    msg << "pcm." << field << " = " << value << ": must be " << allowed;
    throw std::invalid_argument(msg.str());
  }
}

}  // namespace

void pcm_params::validate() const {
  // Every field must be finite; these are the ones with a narrower range.
  const std::pair<const char*, double> all[] = {{"alpha", alpha},
                                                {"m1", m1},
                                                {"c1", c1},
                                                {"a1", a1},
                                                {"m2", m2},
                                                {"c2", c2},
                                                {"a2", a2},
                                                {"g_min_us", g_min_us},
                                                {"g_max_us", g_max_us},
                                                {"reset_mean_us", reset_mean_us},
                                                {"reset_std_us", reset_std_us},
                                                {"reset_floor_us", reset_floor_us},
                                                {"drift_t0_s", drift_t0_s},
                                                {"nu", nu},
                                                {"nu_std", nu_std},
                                                {"read_noise_rel", read_noise_rel},
                                                {"read_noise_abs_us", read_noise_abs_us},
                                                {"variability_mu_rel", variability_mu_rel},
                                                {"variability_gmax_rel", variability_gmax_rel}};
  for (const auto& [field, value] : all) require(std::isfinite(value), field, value, "finite");
  require(alpha > 0, "alpha", alpha, "> 0");
  require(g_min_us >= 0, "g_min_us", g_min_us, ">= 0");
  require(g_max_us > g_min_us, "g_max_us", g_max_us, "> g_min_us");
  require(reset_std_us >= 0, "reset_std_us", reset_std_us, ">= 0");
  require(reset_floor_us >= 0, "reset_floor_us", reset_floor_us, ">= 0");
  require(drift_t0_s > 0, "drift_t0_s", drift_t0_s, "> 0");
  require(nu >= 0 && nu < 1, "nu", nu, "in [0, 1)");
  require(nu_std >= 0, "nu_std", nu_std, ">= 0");
  require(read_noise_rel >= 0, "read_noise_rel", read_noise_rel, ">= 0");
  require(read_noise_abs_us >= 0, "read_noise_abs_us", read_noise_abs_us, ">= 0");
  require(variability_mu_rel >= 0, "variability_mu_rel", variability_mu_rel, ">= 0");
  require(variability_gmax_rel >= 0, "variability_gmax_rel", variability_gmax_rel, ">= 0");
  // Physically plausible scales (PCM conductances are tens of uS).
  require(g_max_us <= 1e4, "g_max_us", g_max_us, "<= 1e4 uS");
  require(reset_mean_us <= g_max_us, "reset_mean_us", reset_mean_us, "<= g_max_us");
  require(read_noise_rel <= 10, "read_noise_rel", read_noise_rel, "<= 10");
  require(read_noise_abs_us <= g_max_us, "read_noise_abs_us", read_noise_abs_us, "<= g_max_us");
  require(variability_mu_rel <= 10, "variability_mu_rel", variability_mu_rel, "<= 10");
  require(variability_gmax_rel <= 10, "variability_gmax_rel", variability_gmax_rel, "<= 10");
}

double pcm_params::mean_after_pulses(int n) const {
  double g = std::max(reset_floor_us, reset_mean_us);
  for (int i = 1; i <= n; ++i) {
    g = std::clamp(g + m1 * g + c1 + a1 * std::exp(-i / alpha), g_min_us, g_max_us);
  }
  return g;
}

int pcm_params::pulses_to_reach(double g_us) const {
  double g = std::max(reset_floor_us, reset_mean_us);
  for (int i = 1; i <= 1000; ++i) {
    if (g >= g_us) return i - 1;
    const double next = std::clamp(g + m1 * g + c1 + a1 * std::exp(-i / alpha), g_min_us, g_max_us);
    if (next <= g) return i;  // saturated: the path no longer rises
    g = next;
  }
  return 1000;
}

pcm_array::pcm_array(std::size_t n, const pcm_params& params, uint64_t seed, uint32_t index)
    : p_(params),
      g_(n, static_cast<float>(params.reset_mean_us)),
      n_(n, 0),
      event_(n, 0),
      event_s_{0.0},
      compact_at_(std::max<std::size_t>(1024, n / 8)),
      program_rng_(seed, stream_id(stream_kind::device_program, index)) {
  p_.validate();
  if (p_.nu_std > 0) nu_.assign(n, static_cast<float>(p_.nu));
  if (p_.variability) {
    rng var(seed, stream_id(stream_kind::device_variability, index));
    mu_scale_.resize(n);
    g_max_.resize(n);
    for (std::size_t k = 0; k < n; ++k) {
      mu_scale_[k] = static_cast<float>(1.0 + p_.variability_mu_rel * var.normal());
      g_max_[k] = static_cast<float>(
          std::max(p_.g_min_us, p_.g_max_us * (1.0 + p_.variability_gmax_rel * var.normal())));
    }
  }
}

void pcm_array::save(state_writer& w) const {
  w.put(g_);
  w.put(n_);
  std::vector<double> tp(g_.size());
  for (std::size_t k = 0; k < tp.size(); ++k) tp[k] = event_s_[event_[k]];
  w.put(tp);
  w.put(nu_);
  program_rng_.save(w);
}

void pcm_array::load(state_reader& r) {
  r.get(g_, "device conductances");
  r.get(n_, "device pulse counts");
  std::vector<double> tp(g_.size());
  r.get(tp, "device programming times");
  // The events: the distinct times, in order.
  event_s_ = tp;
  event_s_.push_back(0.0);
  std::sort(event_s_.begin(), event_s_.end());
  event_s_.erase(std::unique(event_s_.begin(), event_s_.end()), event_s_.end());
  for (std::size_t k = 0; k < tp.size(); ++k) {
    event_[k] = static_cast<uint32_t>(std::lower_bound(event_s_.begin(), event_s_.end(), tp[k]) -
                                      event_s_.begin());
  }
  factors_valid_ = false;
  compact_at_ = std::max<std::size_t>(1024, g_.size() / 8) + event_s_.size();
  r.get(nu_, "device drift exponents");
  program_rng_.load(r, "device programming stream");
}

void pcm_array::restart_drift(std::size_t k, double now_s) {
  if (event_s_.back() != now_s) {
    if (event_s_.size() >= compact_at_) compact_events();
    event_s_.push_back(now_s);
    factors_valid_ = false;
  }
  event_[k] = static_cast<uint32_t>(event_s_.size() - 1);
  if (!nu_.empty()) {
    nu_[k] = static_cast<float>(std::max(0.0, p_.nu + p_.nu_std * program_rng_.normal()));
  }
}

void pcm_array::program_to(std::size_t k, double g_us, double now_s) {
  const double hi = g_max_.empty() ? p_.g_max_us : g_max_[k];
  g_[k] = static_cast<float>(std::clamp(g_us, p_.g_min_us, hi));
  n_[k] = static_cast<uint32_t>(p_.pulses_to_reach(g_[k]));
  restart_drift(k, now_s);
}

float pcm_array::set_pulse(std::size_t k, double now_s) {
  const uint32_t n = ++n_[k];
  const double h = std::exp(-static_cast<double>(n) / p_.alpha);
  const double g = g_[k];
  double mu = p_.m1 * g + p_.c1 + p_.a1 * h;
  const double sd = std::max(0.0, p_.m2 * g + p_.c2 + p_.a2 * h);
  double hi = p_.g_max_us;
  if (!mu_scale_.empty()) {
    mu *= mu_scale_[k];
    hi = g_max_[k];
  }
  g_[k] = static_cast<float>(std::clamp(g + mu + sd * program_rng_.normal(), p_.g_min_us, hi));
  restart_drift(k, now_s);
  return g_[k];
}

void pcm_array::reset_pulse(std::size_t k, double now_s) {
  g_[k] = static_cast<float>(
      std::max(p_.reset_floor_us, p_.reset_mean_us + p_.reset_std_us * program_rng_.normal()));
  n_[k] = 0;
  restart_drift(k, now_s);
}

double pcm_array::drift_factor(std::size_t k, double now_s) const {
  if (!p_.drift) return 1.0;
  const double ratio = (now_s - event_s_[event_[k]]) / p_.drift_t0_s;
  if (ratio <= 1.0) return 1.0;
  const double nu = nu_.empty() ? p_.nu : nu_[k];
  return std::exp(-nu * std::log(ratio));
}

void pcm_array::compact_events() {
  std::vector<uint32_t> index(event_s_.size(), 0);
  for (const uint32_t e : event_) index[e] = 1;
  std::size_t kept = 0;
  for (std::size_t e = 0; e < event_s_.size(); ++e) {
    if (index[e] == 0) continue;
    event_s_[kept] = event_s_[e];
    index[e] = static_cast<uint32_t>(kept++);
  }
  if (kept == 0) event_s_[kept++] = 0.0;  // no devices
  event_s_.resize(kept);
  for (uint32_t& e : event_) e = index[e];
  factors_valid_ = false;
  // The next compaction when the table has grown by an eighth of the
  // devices (at least 1,024) or doubled: amortised, a few operations per
  // event and device.
  compact_at_ = std::max({kept + std::max<std::size_t>(1024, g_.size() / 8), 2 * kept});
}

void pcm_array::evaluate_drift(double now_s) {
  if (!p_.drift || !nu_.empty() || (factors_valid_ && factors_s_ == now_s)) return;
  event_factor_.resize(event_s_.size());
  drift_factors(event_s_.size(), event_s_.data(), static_cast<float>(p_.nu), now_s, p_.drift_t0_s,
                event_factor_.data());
  factors_s_ = now_s;
  factors_valid_ = true;
}

void pcm_array::drifted_range(std::size_t begin, std::size_t end, double now_s, float* out) const {
  if (!p_.drift) {
    std::copy(g_.begin() + begin, g_.begin() + end, out);
    return;
  }
  if (!nu_.empty()) {  // an exponent per device: every device on its own
    std::vector<double> tp(end - begin);
    for (std::size_t k = begin; k < end; ++k) tp[k - begin] = event_s_[event_[k]];
    drift_kernel(end - begin, g_.data() + begin, tp.data(), nu_.data() + begin, now_s,
                 p_.drift_t0_s, out);
    return;
  }
  if (!factors_valid_ || factors_s_ != now_s) {
    throw std::logic_error("pcm_array::drifted_range at " + std::to_string(now_s) +
                           " s without evaluate_drift at that time");
  }
  const double* f = event_factor_.data();
  const uint32_t* e = event_.data();
  const float* g = g_.data();
  for (std::size_t k = begin; k < end; ++k) out[k - begin] = static_cast<float>(g[k] * f[e[k]]);
}

float pcm_array::read(std::size_t k, double now_s, rng& r) const {
  const double gd = g_[k] * drift_factor(k, now_s);
  return static_cast<float>(gd + p_.read_sigma(gd) * r.normal());
}

}  // namespace mcasim
