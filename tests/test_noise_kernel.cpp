// models/noise_kernel.h: the read noise of a block of MVMs has the law of
// N(0, var) per output (moments and a tail fraction within 5 standard errors
// of their exact values), leaves outputs with zero variance untouched, is
// reproducible from the stream, and its draws can be taken before the
// transform.
#include "models/noise_kernel.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace mcasim {
namespace {

TEST(NoiseKernel, GaussianWithTheGivenVariance) {
  const std::size_t n = 200001;  // odd: the last pair is half used
  std::vector<float> y(n, 1.0f), var(n, 4.0f);
  rng r(7, 3);
  add_read_noise(r, y.data(), var.data(), n);
  double s1 = 0, s2 = 0, s4 = 0;
  std::size_t beyond = 0;
  for (float v : y) {
    const double e = v - 1.0;
    s1 += e;
    s2 += e * e;
    s4 += e * e * e * e;
    beyond += std::abs(e) > 4.0;  // 2 sigma
  }
  const double mean = s1 / n, variance = s2 / n, kurtosis = (s4 / n) / (variance * variance);
  const double se_n = 1.0 / std::sqrt(static_cast<double>(n));
  EXPECT_NEAR(mean, 0.0, 5 * 2.0 * se_n);                       // sigma / sqrt(n)
  EXPECT_NEAR(variance, 4.0, 5 * std::sqrt(2.0) * 4.0 * se_n);  // sqrt(2) sigma^2 / sqrt(n)
  EXPECT_NEAR(kurtosis, 3.0, 5 * std::sqrt(96.0) * se_n);       // sqrt(96 / n)
  const double p = std::erfc(2.0 / std::sqrt(2.0));             // 0.0455
  EXPECT_NEAR(static_cast<double>(beyond) / n, p, 5 * std::sqrt(p * (1 - p)) * se_n);
}

TEST(NoiseKernel, ZeroVarianceAndReproducibility) {
  std::vector<float> var{0.0f, 1.0f, -1e-9f, 2.0f}, a(4, 0.5f), b(4, 0.5f), c(4, 0.5f);
  rng r1(1, 1), r2(1, 1), r3(1, 2);
  add_read_noise(r1, a.data(), var.data(), 4);
  add_read_noise(r2, b.data(), var.data(), 4);
  add_read_noise(r3, c.data(), var.data(), 4);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(a[0], 0.5f);  // no variance, no noise
  EXPECT_EQ(a[2], 0.5f);  // a negative rounding residue counts as zero
  EXPECT_NE(a[1], 0.5f);
}

// The draws taken first (in block order, from one stream) and the noise
// added later, block by block, give the values of adding it from the stream
// block by block; a block of odd size takes one draw more than half of it.
TEST(NoiseKernel, DrawsThenTransformEqualTheStream) {
  const std::size_t sizes[] = {5, 8192, 4097};  // odd, whole passes, a pass and one
  rng direct(4, 9), drawn(4, 9);
  std::vector<std::vector<float>> a, b, var;
  std::vector<std::vector<uint64_t>> draws(3);
  for (std::size_t k = 0; k < 3; ++k) {
    const std::size_t n = sizes[k];
    var.emplace_back(n);
    for (std::size_t j = 0; j < n; ++j) var[k][j] = 0.1f * static_cast<float>(j % 7);
    a.emplace_back(n, 1.0f);
    b.emplace_back(n, 1.0f);
    add_read_noise(direct, a[k].data(), var[k].data(), n);
    read_noise_draws(drawn, n, draws[k]);
    EXPECT_EQ(draws[k].size(), (n + 1) / 2);
  }
  for (std::size_t k = 3; k-- > 0;) {
    add_read_noise(draws[k].data(), b[k].data(), var[k].data(), sizes[k]);
    EXPECT_EQ(a[k], b[k]) << "block " << k;
  }
  EXPECT_EQ(direct.next_u64(), drawn.next_u64());
}

}  // namespace
}  // namespace mcasim
