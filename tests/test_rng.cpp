// models/rng.h: reproducibility, independence of streams and the basic
// distributions.
#include "models/rng.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <vector>

#include "test_util.h"

namespace mcasim {
namespace {

std::vector<uint64_t> draw(rng r, int n) {
  std::vector<uint64_t> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = r.next_u64();
  return v;
}

TEST(Rng, SameSeedAndStreamGiveIdenticalSequences) {
  rng a(42, stream_id(stream_kind::device_program, 3));
  rng b(42, stream_id(stream_kind::device_program, 3));
  EXPECT_EQ(a.state(), b.state());
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(a.next_u64(), b.next_u64()) << "draw " << i;
    ASSERT_EQ(a.normal(), b.normal()) << "draw " << i;
  }
}

TEST(Rng, DifferentStreamsAndSeedsDiffer) {
  const auto base = draw(rng(42, stream_id(stream_kind::shuffle)), 64);
  const auto other_kind = draw(rng(42, stream_id(stream_kind::weight_init)), 64);
  const auto other_index = draw(rng(42, stream_id(stream_kind::shuffle, 1)), 64);
  const auto other_seed = draw(rng(43, stream_id(stream_kind::shuffle)), 64);
  for (const auto* v : {&other_kind, &other_index, &other_seed}) {
    int equal = 0;
    for (std::size_t i = 0; i < base.size(); ++i) equal += base[i] == (*v)[i];
    EXPECT_EQ(equal, 0);
  }
}

TEST(Rng, StreamIdPacksKindAndIndex) {
  EXPECT_EQ(stream_id(stream_kind::device_read, 7), (uint64_t{5} << 32) | 7u);
  EXPECT_NE(stream_id(stream_kind::device_init, 0), stream_id(stream_kind::device_program, 0));
}

TEST(Rng, UniformIsInUnitIntervalWithMeanOneHalf) {
  rng r(1, 0);
  test::moments m;
  for (int i = 0; i < 200000; ++i) {
    const double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    m.add(u);
  }
  // Standard error of the mean: sqrt(1/12 / 200000) = 6.5e-4; allow ~5 sigma.
  EXPECT_NEAR(m.mean(), 0.5, 3e-3);
  EXPECT_NEAR(m.variance(), 1.0 / 12.0, 1e-3);
}

TEST(Rng, NormalHasZeroMeanAndUnitStd) {
  rng r(2, 0);
  test::moments m;
  int beyond_3_sigma = 0;
  for (int i = 0; i < 200000; ++i) {
    const double z = r.normal();
    m.add(z);
    beyond_3_sigma += std::abs(z) > 3.0;
  }
  // SE of the mean 2.2e-3 and of the std 1.6e-3; tolerances ~5 sigma.
  EXPECT_NEAR(m.mean(), 0.0, 0.01);
  EXPECT_NEAR(m.stddev(), 1.0, 0.008);
  // P(|z| > 3) = 0.27 %: 540 expected, Poisson sd ~23.
  EXPECT_NEAR(beyond_3_sigma, 540, 120);
}

TEST(Rng, BelowStaysInRangeAndCoversIt) {
  rng r(3, 0);
  for (uint64_t n : {uint64_t{1}, uint64_t{2}, uint64_t{7}, uint64_t{1000}, uint64_t{1} << 40}) {
    for (int i = 0; i < 10000; ++i) ASSERT_LT(r.below(n), n) << "n = " << n;
  }
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(r.below(7));
  EXPECT_EQ(seen.size(), 7u);
}

}  // namespace
}  // namespace mcasim
