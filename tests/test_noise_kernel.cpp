// models/noise_kernel.h: the read noise of a block of MVMs has the law of
// N(0, var) per output (moments and a tail fraction within 5 standard errors
// of their exact values), leaves outputs with zero variance untouched and is
// reproducible from the stream.
#include "models/noise_kernel.h"

#include <gtest/gtest.h>

#include <cmath>
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

}  // namespace
}  // namespace mcasim
