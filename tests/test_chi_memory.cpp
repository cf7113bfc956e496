// models/chi_memory.h: the chi accumulator and the pulse rule
// p = trunc(chi / epsilon) with separate potentiation and depression
// granularities, the pulse cap, counters and validation.
#include "models/chi_memory.h"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/rng.h"

namespace mcasim {
namespace {

using fired_map = std::map<std::size_t, int>;

// Runs accumulate_row and collects the fired (column, pulses) pairs.
fired_map accumulate(chi_memory& chi, std::size_t r, float scale, const std::vector<float>& d) {
  std::size_t nonzero = 0;
  for (float v : d) nonzero += v != 0.0f;
  fired_map fired;
  chi.accumulate_row(r, scale, d.data(), nonzero, [&](std::size_t c, int p) {
    EXPECT_EQ(fired.count(c), 0u) << "column " << c << " fired twice";
    fired[c] = p;
  });
  return fired;
}

TEST(ChiMemory, FiresTruncatedPulseCountWithSignAndKeepsRemainder) {
  chi_memory chi(2, 5, chi_config{0.1, 0.1, 0});
  // Increments (scale 0.5): +0.25, -0.25, +0.05, -0.37, 0.
  const fired_map fired = accumulate(chi, 1, 0.5f, {0.5f, -0.5f, 0.1f, -0.74f, 0.0f});
  EXPECT_EQ(fired, (fired_map{{0, 2}, {1, -2}, {3, -3}}));
  EXPECT_NEAR(chi.chi(1, 0), 0.05, 1e-6);
  EXPECT_NEAR(chi.chi(1, 1), -0.05, 1e-6);
  EXPECT_NEAR(chi.chi(1, 2), 0.05, 1e-6);  // below epsilon: accumulates silently
  EXPECT_NEAR(chi.chi(1, 3), -0.07, 1e-6);
  EXPECT_EQ(chi.chi(1, 4), 0.0f);
  for (std::size_t c = 0; c < 5; ++c) EXPECT_EQ(chi.chi(0, c), 0.0f) << "other row touched";
  EXPECT_EQ(chi.counters().pulse_events, 3u);

  // The remainder carries over: +0.06 more on column 2 crosses epsilon.
  const fired_map again = accumulate(chi, 1, 1.0f, {0.0f, 0.0f, 0.06f, 0.0f, 0.0f});
  EXPECT_EQ(again, (fired_map{{2, 1}}));
  EXPECT_NEAR(chi.chi(1, 2), 0.01, 1e-6);
}

TEST(ChiMemory, RemainderIsBelowEpsilonAfterEveryUpdate) {
  const double eps = 0.096;
  chi_memory chi(1, 64, chi_config{eps, eps, 0});
  rng r(5, 0);
  std::vector<float> d(64);
  long pulses = 0;
  double sum_in = 0.0;
  for (int it = 0; it < 2000; ++it) {
    for (auto& v : d) {
      v = static_cast<float>(0.5 * r.normal());
      sum_in += v;
    }
    for (const auto& [c, p] : accumulate(chi, 0, 1.0f, d)) {
      EXPECT_NE(p, 0);
      pulses += p;
    }
    for (std::size_t c = 0; c < d.size(); ++c) {
      ASSERT_LT(std::abs(chi.chi(0, c)), static_cast<float>(eps)) << "iteration " << it;
    }
  }
  // Conservation: everything put in is either fired or still in chi.
  double left = 0.0;
  for (float v : chi.values()) left += v;
  EXPECT_NEAR(sum_in, pulses * eps + left, 1e-2);
}

TEST(ChiMemory, SeparatePotentiationAndDepressionEpsilons) {
  chi_memory chi(1, 4, chi_config{0.1, 0.5, 0});
  const fired_map fired = accumulate(chi, 0, 1.0f, {0.35f, -0.35f, -1.2f, 0.55f});
  EXPECT_EQ(fired, (fired_map{{0, 3}, {2, -2}, {3, 5}}));
  EXPECT_NEAR(chi.chi(0, 0), 0.05, 1e-6);
  EXPECT_NEAR(chi.chi(0, 1), -0.35, 1e-6);  // |chi| < eps_d: no depression yet
  EXPECT_NEAR(chi.chi(0, 2), -0.2, 1e-6);
  EXPECT_NEAR(chi.chi(0, 3), 0.05, 1e-6);
}

// Epsilons a single-precision chi cannot resolve, and pulse limits that
// would run for ever, are configuration errors naming the key.
TEST(ChiMemory, RejectsEpsilonsAndLimitsOutOfRange) {
  for (const chi_config& bad : {chi_config{1e-300, 0.1, 0}, chi_config{0.1, 1e-12, 0},
                                chi_config{0.1, 0.1, 2147483647}, chi_config{1e9, 0.1, 0}}) {
    try {
      chi_memory chi(2, 2, bad);
      FAIL() << "accepted eps_p " << bad.eps_p << " eps_d " << bad.eps_d << " max "
             << bad.max_pulses;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("chi."), std::string::npos) << e.what();
    }
  }
}

// An increment far larger than epsilon gives a bounded pulse count.
TEST(ChiMemory, HugeIncrementGivesABoundedCount) {
  chi_memory chi(1, 1, chi_config{k_min_eps, k_min_eps, 0});
  const std::vector<float> d{1.0f};
  int fired = 0;
  chi.accumulate_row(0, 1e6f, d.data(), 1, [&](std::size_t, int p) { fired = p; });
  EXPECT_EQ(fired, k_max_pulse_count);
}

TEST(ChiMemory, SetEpsilonsChangesTheGranularity) {
  chi_memory chi(1, 2, chi_config{});
  chi.set_epsilons(0.2, 0.4);
  EXPECT_DOUBLE_EQ(chi.config().eps_p, 0.2);
  EXPECT_DOUBLE_EQ(chi.config().eps_d, 0.4);
  const fired_map fired = accumulate(chi, 0, 1.0f, {0.45f, -0.45f});
  EXPECT_EQ(fired, (fired_map{{0, 2}, {1, -1}}));
  EXPECT_THROW(chi.set_epsilons(0.0, 0.4), std::invalid_argument);
}

TEST(ChiMemory, MaxPulsesCapsAndKeepsTheRest) {
  chi_memory chi(1, 3, chi_config{0.1, 0.1, 2});
  const fired_map fired = accumulate(chi, 0, 1.0f, {1.05f, -0.75f, 0.15f});
  EXPECT_EQ(fired, (fired_map{{0, 2}, {1, -2}, {2, 1}}));
  EXPECT_NEAR(chi.chi(0, 0), 0.85, 1e-6);  // only 2 * eps removed
  EXPECT_NEAR(chi.chi(0, 1), -0.55, 1e-6);
  EXPECT_NEAR(chi.chi(0, 2), 0.05, 1e-6);
}

TEST(ChiMemory, ZeroIncrementsAreNotCounted) {
  chi_memory chi(3, 6, chi_config{0.1, 0.1, 0});
  accumulate(chi, 0, 1.0f, {0.0f, 0.01f, 0.0f, 0.0f, -0.02f, 0.0f});
  EXPECT_EQ(chi.counters().nonzero_updates, 2u);
  EXPECT_EQ(chi.counters().pulse_events, 0u);
  accumulate(chi, 2, 1.0f, {0.3f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f});
  EXPECT_EQ(chi.counters().nonzero_updates, 3u);
  EXPECT_EQ(chi.counters().pulse_events, 1u);
  EXPECT_EQ(chi.chi(0, 0), 0.0f);
  EXPECT_EQ(chi.chi(2, 5), 0.0f);
  chi.clear_counters();
  EXPECT_EQ(chi.counters().nonzero_updates, 0u);
  EXPECT_EQ(chi.counters().pulse_events, 0u);
  EXPECT_NEAR(chi.chi(0, 1), 0.01, 1e-7) << "clear_counters must keep chi";
}

// Expects chi_config::validate() to throw std::invalid_argument naming `field`.
void expect_rejected(const chi_config& c, const std::string& field) {
  try {
    c.validate();
    ADD_FAILURE() << "validate() accepted a bad " << field;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
  }
}

TEST(ChiConfig, ValidateNamesTheField) {
  EXPECT_NO_THROW(chi_config{}.validate());
  expect_rejected(chi_config{0.0, 0.1, 0}, "eps_p");
  expect_rejected(chi_config{-0.1, 0.1, 0}, "eps_p");
  expect_rejected(chi_config{0.1, 0.0, 0}, "eps_d");
  expect_rejected(chi_config{0.1, std::nan(""), 0}, "eps_d");
  expect_rejected(chi_config{0.1, 0.1, -1}, "max_pulses");
  EXPECT_THROW(chi_memory(2, 2, chi_config{0.1, -1.0, 0}), std::invalid_argument);
}

}  // namespace
}  // namespace mcasim
