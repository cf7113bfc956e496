// Compiled with -ffast-math (CMakeLists.txt) so that logf, sinf and cosf
// vectorise (glibc's libmvec); the uniforms avoid 0 so the logarithm is
// finite.
#include "models/noise_kernel.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace mcasim {

void read_noise_draws(rng& r, std::size_t n, std::vector<uint64_t>& draws) {
  draws.resize((n + 1) / 2);
  for (uint64_t& v : draws) v = r.next_u64();
}

void add_read_noise(const uint64_t* draws, float* y, const float* var, std::size_t n) {
  constexpr std::size_t k_block = 4096;  // deviates per pass (even)
  uint32_t bits[k_block];
  float z[k_block];
  for (std::size_t start = 0; start < n; start += k_block) {
    const std::size_t m = std::min(k_block, n - start);
    const std::size_t pairs = (m + 1) / 2;
    const uint64_t* d = draws + start / 2;
    for (std::size_t p = 0; p < pairs; ++p) {
      bits[2 * p] = static_cast<uint32_t>(d[p] >> 40);                    // 24 bits
      bits[2 * p + 1] = static_cast<uint32_t>((d[p] >> 16) & 0xFFFFFFu);  // 24 bits
    }
    constexpr float k_scale = 1.0f / 16777216.0f;  // 2^-24
    constexpr float k_two_pi = 6.28318530717958647692f;
    float rad[k_block / 2], ang[k_block / 2];
#pragma omp simd
    for (std::size_t p = 0; p < pairs; ++p) {
      const float u1 = (static_cast<float>(bits[2 * p]) + 0.5f) * k_scale;  // (0, 1)
      rad[p] = std::sqrt(-2.0f * logf(u1));
      ang[p] = k_two_pi * static_cast<float>(bits[2 * p + 1]) * k_scale;
    }
    float c[k_block / 2], s[k_block / 2];
#pragma omp simd
    for (std::size_t p = 0; p < pairs; ++p) {
      // sin from cos (sincosf does not vectorise): sin >= 0 on [0, pi).
      const float co = cosf(ang[p]);
      const float si = std::sqrt(std::max(0.0f, 1.0f - co * co));
      c[p] = rad[p] * co;
      s[p] = rad[p] * (ang[p] < 0.5f * k_two_pi ? si : -si);
    }
    for (std::size_t p = 0; p < pairs; ++p) {
      z[2 * p] = c[p];
      z[2 * p + 1] = s[p];
    }
    float* yo = y + start;
    const float* vo = var + start;
    for (std::size_t k = 0; k < m; ++k) {
      const float v = vo[k] > 0.0f ? vo[k] : 0.0f;
      yo[k] += std::sqrt(v) * z[k];
    }
  }
}

void add_read_noise(rng& r, float* y, const float* var, std::size_t n) {
  std::vector<uint64_t> draws;
  read_noise_draws(r, n, draws);
  add_read_noise(draws.data(), y, var, n);
}

}  // namespace mcasim
