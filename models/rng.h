// Seeded random numbers for mcasim: one scheme for the whole code base.
//
// xoshiro256++ (Blackman & Vigna) with a state seeded through splitmix64 from
// (run seed, stream id). Every device array, crossbar and data shuffler draws
// from its own stream, so adding draws to one component never shifts another
// and the functional model and the platform stay bit-identical.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

#include "models/state_io.h"

namespace mcasim {

// Stable stream identifiers; combine with a layer index via stream_id().
enum class stream_kind : uint32_t {
  shuffle = 1,
  weight_init = 2,
  device_init = 3,
  device_program = 4,
  device_read = 5,
  device_variability = 6,
  characterize = 7,
  trace = 8,
  dropout = 9,
  augment = 10,
  gan_noise = 11,   // a GAN's generator inputs in training
  gan_eval = 12,    // its inputs when evaluated (per epoch)
  gan_sample = 13,  // its inputs for the picture grid (the same every epoch)
};

constexpr uint64_t stream_id(stream_kind kind, uint32_t index = 0) {
  return (static_cast<uint64_t>(kind) << 32) | index;
}

class rng {
 public:
  rng() : rng(0, 0) {}
  rng(uint64_t seed, uint64_t stream) {
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ull);
    for (auto& s : s_) s = splitmix64(x);
  }

  uint64_t next_u64() {
    const uint64_t result = rotl(s_[0] + s_[3], 23) + s_[0];
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, n) (Lemire's multiply-shift; bias < 2^-64 * n).
  uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next_u64()) * n) >> 64);
  }

  // Standard normal by the Marsaglia polar method (pairs cached).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u, v, s;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double m = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = v * m;
    has_spare_ = true;
    return u * m;
  }

  using state_type = std::array<uint64_t, 4>;
  const state_type& state() const { return s_; }

  // Checkpoint state: the generator and the cached normal deviate.
  void save(state_writer& w) const {
    w.put(s_);
    w.put(spare_);
    w.put(has_spare_);
  }
  void load(state_reader& r, const char* field) {
    r.get(s_, field);
    r.get(spare_, field);
    r.get(has_spare_, field);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  state_type s_{};
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace mcasim
