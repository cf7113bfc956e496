// Mixed-precision weight-update accumulator: the high-precision variable chi
// per weight, and the pulse rule p = trunc(chi / epsilon) with separate
// granularities for potentiation (eps_p) and depression (eps_d).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "models/state_io.h"

namespace mcasim {

// Bounds of the chi configuration (validate()): the smallest epsilon and
// the most pulses one cell may receive in one update.
constexpr double k_min_eps = 1e-9;
constexpr int k_max_pulse_count = 1000000;

struct chi_config {
  double eps_p = 0.096;  // weight units per potentiating pulse
  double eps_d = 0.096;  // weight units per depressing pulse
  int max_pulses = 0;    // per cell and update; 0 = no limit
  void validate() const;
};

struct chi_counters {
  uint64_t nonzero_updates = 0;  // chi read-modify-writes with a non-zero increment
  uint64_t pulse_events = 0;     // cells whose |chi| crossed epsilon
};

class chi_memory {
 public:
  chi_memory(std::size_t rows, std::size_t cols, const chi_config& cfg);

  void set_epsilons(double eps_p, double eps_d);
  const chi_config& config() const { return cfg_; }

  // chi[r][c] += scale * d[c] for every c with a non-zero increment; for each
  // cell where |chi| reaches epsilon calls fire(c, p) with the signed pulse
  // count p and removes p * epsilon from chi.
  // `nonzero` is the number of non-zero entries of d (each is one chi
  // read-modify-write; entries with d[c] == 0 leave chi untouched).
  template <class Fire>
  void accumulate_row(std::size_t r, float scale, const float* d, std::size_t nonzero,
                      Fire&& fire) {
    float* chi = &chi_[r * cols_];
    const float ep = eps_p_, ed = -eps_d_;
    int crossed = 0;
    for (std::size_t c = 0; c < cols_; ++c) {  // branch-free: vectorises
      const float v = chi[c] + scale * d[c];
      chi[c] = v;
      crossed |= static_cast<int>(v >= ep) | static_cast<int>(v <= ed);
    }
    counters_.nonzero_updates += nonzero;
    if (!crossed) return;
    for (std::size_t c = 0; c < cols_; ++c) {
      float v = chi[c];
      if (v < ep && v > ed) continue;
      // The count is bounded before the conversion (an update far larger
      // than epsilon cannot overflow an int).
      const float q = std::min(v > 0 ? v / eps_p_ : -v / eps_d_, float(k_max_pulse_count));
      int p = v > 0 ? static_cast<int>(q) : -static_cast<int>(q);
      if (cfg_.max_pulses > 0) {
        p = p > 0 ? std::min(p, cfg_.max_pulses) : std::max(p, -cfg_.max_pulses);
      }
      chi[c] = v - (p > 0 ? p * eps_p_ : p * eps_d_);
      ++counters_.pulse_events;
      fire(c, p);
    }
  }

  // chi += inc (rows x cols, row-major: a mini-batch's increment computed
  // by the optimizer); fire(r, c, p) for every cell whose |chi| reaches
  // epsilon, as accumulate_row does. Every non-zero entry is one chi
  // read-modify-write.
  template <class Fire>
  void accumulate(const float* inc, Fire&& fire) {
    for (std::size_t r = 0; r < rows_; ++r) {
      const float* d = inc + r * cols_;
      std::size_t nonzero = 0;
      for (std::size_t c = 0; c < cols_; ++c) nonzero += d[c] != 0.0f;
      if (nonzero == 0) continue;
      accumulate_row(r, 1.0f, d, nonzero, [&](std::size_t c, int p) { fire(r, c, p); });
    }
  }

  float chi(std::size_t r, std::size_t c) const { return chi_[r * cols_ + c]; }
  const std::vector<float>& values() const { return chi_; }
  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  const chi_counters& counters() const { return counters_; }
  void clear_counters() { counters_ = {}; }

  void save(state_writer& w) const {
    w.put(eps_p_);
    w.put(eps_d_);
    w.put(chi_);
    w.put(counters_);
  }
  void load(state_reader& r) {
    r.get(eps_p_, "chi epsilon");
    r.get(eps_d_, "chi epsilon");
    r.get(chi_, "chi values");
    r.get(counters_, "chi counters");
  }

 private:
  std::size_t rows_, cols_;
  chi_config cfg_;
  float eps_p_, eps_d_;
  std::vector<float> chi_;
  chi_counters counters_;
};

}  // namespace mcasim
