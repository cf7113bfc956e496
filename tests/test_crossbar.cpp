// models/crossbar.h: weights from conductances, noiseless and noisy
// matrix-vector products (forward and transposed), programming pulses on
// differential and single-device synapses, refresh and drift.
#include "models/crossbar.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_util.h"

namespace mcasim {
namespace {

// SET pulses without a stochastic part, so the direction of every change is certain.
pcm_params deterministic_set() {
  pcm_params p;
  p.m2 = p.c2 = p.a2 = 0.0;
  p.reset_std_us = 0.0;
  return p;
}

crossbar_config differential() {
  return crossbar_config{};
}

crossbar_config single_ref() {
  crossbar_config c;
  c.synapse = synapse_kind::single_ref;
  c.init_mean_us = 4.5;
  c.init_std_us = 1.25;
  return c;
}

std::vector<float> test_input(std::size_t n, uint64_t seed) {
  rng r(seed, 0);
  std::vector<float> x(n);
  for (auto& v : x) v = static_cast<float>(r.uniform());
  x[n / 2] = 0.0f;  // a skipped row
  return x;
}

TEST(Crossbar, DifferentialWeightIsConductanceDifferenceOverEight) {
  crossbar xb(30, 10, differential(), pcm_params{}, 1, 0);
  xb.initialize(0.0);
  test::moments gp;
  for (std::size_t r = 0; r < xb.rows(); ++r) {
    for (std::size_t c = 0; c < xb.cols(); ++c) {
      const std::size_t k = r * xb.cols() + c;
      const double expected = (xb.positive().g(k) - double{xb.negative().g(k)}) / 8.0;
      ASSERT_NEAR(xb.weight(r, c), expected, 1e-6) << r << "," << c;
      gp.add(xb.positive().g(k));
    }
  }
  // Initial devices ~ N(1.6, 0.83) uS (clipped at 0.1); 300 devices, SE 0.05.
  EXPECT_NEAR(gp.mean(), 1.6, 0.2);
  EXPECT_NEAR(gp.stddev(), 0.83, 0.15);
  EXPECT_EQ(xb.weights().size(), 300u);
}

TEST(Crossbar, NoiselessMvmEqualsDenseProduct) {
  pcm_params p;
  p.read_noise = false;
  crossbar xb(50, 12, differential(), p, 2, 0);
  xb.initialize(0.0);
  const std::vector<float> x = test_input(xb.rows(), 2);
  std::vector<float> y(xb.cols());
  xb.mvm(x.data(), y.data());
  for (std::size_t c = 0; c < xb.cols(); ++c) {
    double ref = 0.0;
    for (std::size_t r = 0; r < xb.rows(); ++r) ref += double{x[r]} * xb.weight(r, c);
    EXPECT_NEAR(y[c], ref, 1e-4) << "column " << c;
  }
  // Repeating the product gives the same result: no noise drawn.
  std::vector<float> y2(xb.cols());
  xb.mvm(x.data(), y2.data());
  EXPECT_EQ(y, y2);
}

TEST(Crossbar, NoiselessTransposedMvmEqualsDenseProduct) {
  pcm_params p;
  p.read_noise = false;
  crossbar xb(40, 12, differential(), p, 3, 0);
  xb.initialize(0.0);
  const std::vector<float> d = test_input(xb.cols(), 3);
  for (std::size_t out_rows : {xb.rows(), xb.rows() - 1}) {
    std::vector<float> y(xb.rows(), -99.0f);
    xb.mvm_t(d.data(), y.data(), out_rows);
    for (std::size_t r = 0; r < out_rows; ++r) {
      double ref = 0.0;
      for (std::size_t c = 0; c < xb.cols(); ++c) ref += xb.weight(r, c) * double{d[c]};
      EXPECT_NEAR(y[r], ref, 1e-4) << "row " << r;
    }
    if (out_rows < xb.rows()) {
      EXPECT_EQ(y[out_rows], -99.0f) << "wrote past out_rows";
    }
  }
  std::vector<float> y(xb.rows() + 1);
  EXPECT_THROW(xb.mvm_t(d.data(), y.data(), xb.rows() + 1), std::invalid_argument);
}

// Expected per-output variance of a noisy product, computed independently
// from the drifted conductances and pcm_params::read_sigma.
double cell_variance(crossbar& xb, std::size_t k, double now_s) {
  const pcm_params& p = xb.positive().params();
  const double sp = p.read_sigma(xb.positive().drifted(k, now_s));
  const double sn = p.read_sigma(xb.negative().drifted(k, now_s));
  return (sp * sp + sn * sn) / 64.0;  // (uS / 8 uS per weight)^2
}

TEST(Crossbar, NoisyMvmVarianceMatchesAggregatedReadNoise) {
  crossbar xb(20, 8, differential(), pcm_params{}, 4, 0);
  xb.initialize(0.0);
  const double now = 100.0 * xb.positive().params().drift_t0_s;  // drifted states
  xb.sync(now);
  const std::vector<float> x = test_input(xb.rows(), 4);
  constexpr int k_repeats = 20000;
  std::vector<test::moments> out(xb.cols());
  std::vector<float> y(xb.cols());
  for (int i = 0; i < k_repeats; ++i) {
    xb.mvm(x.data(), y.data());
    for (std::size_t c = 0; c < xb.cols(); ++c) out[c].add(y[c]);
  }
  for (std::size_t c = 0; c < xb.cols(); ++c) {
    double mean = 0.0, var = 0.0;
    for (std::size_t r = 0; r < xb.rows(); ++r) {
      mean += double{x[r]} * xb.weight(r, c);
      var += double{x[r]} * x[r] * cell_variance(xb, r * xb.cols() + c, now);
    }
    // Relative SE of a variance from 20k draws: sqrt(2 / 20000) = 1 %; allow 5 %.
    EXPECT_NEAR(out[c].variance(), var, 0.05 * var) << "column " << c;
    EXPECT_NEAR(out[c].mean(), mean, 5.0 * std::sqrt(var / k_repeats)) << "column " << c;
  }
}

TEST(Crossbar, NoisyTransposedMvmVarianceMatchesAggregatedReadNoise) {
  crossbar xb(10, 16, differential(), pcm_params{}, 5, 0);
  xb.initialize(0.0);
  const std::vector<float> d = test_input(xb.cols(), 5);
  constexpr int k_repeats = 20000;
  std::vector<test::moments> out(xb.rows());
  std::vector<float> y(xb.rows());
  for (int i = 0; i < k_repeats; ++i) {
    xb.mvm_t(d.data(), y.data(), xb.rows());
    for (std::size_t r = 0; r < xb.rows(); ++r) out[r].add(y[r]);
  }
  for (std::size_t r = 0; r < xb.rows(); ++r) {
    double var = 0.0;
    for (std::size_t c = 0; c < xb.cols(); ++c) {
      var += double{d[c]} * d[c] * cell_variance(xb, r * xb.cols() + c, 0.0);
    }
    // Relative SE 1 %; allow 5 %.
    EXPECT_NEAR(out[r].variance(), var, 0.05 * var) << "row " << r;
  }
}

TEST(Crossbar, PositivePulseRaisesGpAndCounts) {
  crossbar xb(4, 5, differential(), deterministic_set(), 6, 0);
  xb.initialize(0.0);
  const std::size_t r = 2, c = 3, k = r * xb.cols() + c;
  const float gp0 = xb.positive().g(k), gn0 = xb.negative().g(k);
  const uint32_t n0 = xb.positive().set_count(k);
  const std::vector<float> w0 = xb.weights();
  xb.pulse(r, c, +2, 10.0);
  EXPECT_GT(xb.positive().g(k), gp0);
  EXPECT_EQ(xb.positive().set_count(k), n0 + 2);
  EXPECT_EQ(xb.negative().g(k), gn0);
  EXPECT_EQ(xb.counters().set_pulses, 2u);
  EXPECT_EQ(xb.counters().cells_programmed, 1u);
  EXPECT_EQ(xb.counters().reset_pulses, 0u);
  // The weight cache follows at once; other cells keep their weights.
  EXPECT_NEAR(xb.weight(r, c), (xb.positive().g(k) - double{gn0}) / 8.0, 1e-6);
  EXPECT_GT(xb.weight(r, c), w0[k]);
  for (std::size_t j = 0; j < w0.size(); ++j) {
    if (j != k) {
      ASSERT_EQ(xb.weights()[j], w0[j]) << j;
    }
  }
  // p = 0 does nothing.
  xb.pulse(r, c, 0, 11.0);
  EXPECT_EQ(xb.counters().cells_programmed, 1u);
  EXPECT_EQ(xb.positive().last_programmed_s(k), 10.0);
}

TEST(Crossbar, NegativePulseOnDifferentialRaisesGn) {
  crossbar xb(4, 5, differential(), deterministic_set(), 7, 0);
  xb.initialize(0.0);
  const std::size_t r = 1, c = 0, k = r * xb.cols() + c;
  const float gp0 = xb.positive().g(k), gn0 = xb.negative().g(k);
  const float w0 = xb.weight(r, c);
  xb.pulse(r, c, -1, 10.0);
  EXPECT_GT(xb.negative().g(k), gn0);
  EXPECT_EQ(xb.positive().g(k), gp0);
  EXPECT_LT(xb.weight(r, c), w0);
  EXPECT_EQ(xb.counters().set_pulses, 1u);
  EXPECT_EQ(xb.counters().reset_pulses, 0u);
  EXPECT_EQ(xb.counters().cells_programmed, 1u);
  xb.clear_counters();
  EXPECT_EQ(xb.counters().set_pulses, 0u);
}

TEST(Crossbar, SingleRefWeightsAndResetDepression) {
  crossbar xb(6, 6, single_ref(), deterministic_set(), 8, 0);
  xb.initialize(0.0);
  EXPECT_EQ(xb.synapse(), synapse_kind::single_ref);
  EXPECT_EQ(xb.negative().size(), 0u);
  double sum = 0.0;
  for (std::size_t k = 0; k < xb.positive().size(); ++k) sum += xb.positive().g(k);
  EXPECT_NEAR(xb.gref_us(), sum / 36.0, 1e-5);
  xb.set_weight_per_us(2.0 * 0.7 / 7.9);
  for (std::size_t k = 0; k < 36; ++k) {
    ASSERT_NEAR(xb.weights()[k], (xb.positive().g(k) - xb.gref_us()) * xb.weight_per_us(), 1e-6);
  }
  // p < 0: one RESET, whatever |p|.
  xb.pulse(2, 2, -3, 5.0);
  const std::size_t k = 2 * 6 + 2;
  EXPECT_NEAR(xb.positive().g(k), 0.1, 1e-6);
  EXPECT_EQ(xb.positive().set_count(k), 0u);
  EXPECT_EQ(xb.counters().reset_pulses, 1u);
  EXPECT_EQ(xb.counters().set_pulses, 0u);
  EXPECT_NEAR(xb.weight(2, 2), (0.1 - xb.gref_us()) * xb.weight_per_us(), 1e-6);
  // p > 0: SET pulses on the single device.
  xb.pulse(2, 2, +2, 6.0);
  EXPECT_EQ(xb.positive().set_count(k), 2u);
  EXPECT_GT(xb.positive().g(k), 0.1f);
  EXPECT_EQ(xb.counters().set_pulses, 2u);
  EXPECT_EQ(xb.counters().cells_programmed, 2u);
}

TEST(Crossbar, DifferentialWeightScaleIsFixed) {
  crossbar xb(2, 2, differential(), pcm_params{}, 9, 0);
  EXPECT_THROW(xb.set_weight_per_us(0.5), std::invalid_argument);
  EXPECT_DOUBLE_EQ(xb.weight_per_us(), 1.0 / 8.0);
}

struct pair_state {
  float gp, gn;
  uint32_t np, nn;
  double tp, tn;
  float w;
};

pair_state state_of(crossbar& xb, std::size_t r, std::size_t c) {
  const std::size_t k = r * xb.cols() + c;
  return {xb.positive().g(k),
          xb.negative().g(k),
          xb.positive().set_count(k),
          xb.negative().set_count(k),
          xb.positive().last_programmed_s(k),
          xb.negative().last_programmed_s(k),
          xb.weight(r, c)};
}

void expect_untouched(const pair_state& a, const pair_state& b, const char* what) {
  EXPECT_EQ(a.gp, b.gp) << what;
  EXPECT_EQ(a.gn, b.gn) << what;
  EXPECT_EQ(a.np, b.np) << what;
  EXPECT_EQ(a.nn, b.nn) << what;
  EXPECT_EQ(a.tp, b.tp) << what;
  EXPECT_EQ(a.tn, b.tn) << what;
  EXPECT_EQ(a.w, b.w) << what;
}

TEST(Crossbar, RefreshResetsSaturatedPairsAndRestoresTheSign) {
  crossbar xb(3, 4, differential(), deterministic_set(), 10, 0);
  xb.initialize(0.0);
  auto set_pair = [&](std::size_t r, std::size_t c, double gp, double gn) {
    xb.positive().program_to(r * xb.cols() + c, gp, 0.0);
    xb.negative().program_to(r * xb.cols() + c, gn, 0.0);
  };
  set_pair(0, 0, 10.0, 7.0);  // refresh: +3 uS -> min(3, round(3.9)) = 3 pulses on Gp
  set_pair(0, 1, 7.0, 9.5);   // refresh: -2.5 uS -> 3 pulses on Gn
  set_pair(0, 2, 9.0, 8.2);   // refresh: +0.8 uS -> 1 pulse on Gp
  set_pair(0, 3, 15.0, 2.0);  // |Gp - Gn| >= 6: keep
  set_pair(1, 0, 7.9, 7.5);   // both <= 8: keep
  set_pair(2, 0, 10.0, 7.0);  // outside the refreshed rows: keep
  xb.sync(0.0);
  const pair_state keep[] = {state_of(xb, 0, 3), state_of(xb, 1, 0), state_of(xb, 2, 0),
                             state_of(xb, 1, 1)};

  xb.refresh_rows(0, 2, refresh_config{}, 100.0);

  struct expected {
    std::size_t c;
    bool positive;
    uint32_t pulses;
  };
  for (const auto& e : {expected{0, true, 3}, expected{1, false, 3}, expected{2, true, 1}}) {
    const pair_state s = state_of(xb, 0, e.c);
    const uint32_t on_side = e.positive ? s.np : s.nn;
    const uint32_t other_side = e.positive ? s.nn : s.np;
    const float other_g = e.positive ? s.gn : s.gp;
    EXPECT_EQ(on_side, e.pulses) << "column " << e.c;
    EXPECT_LE(on_side, 3u);
    EXPECT_EQ(other_side, 0u) << "column " << e.c << ": the other device must be RESET";
    EXPECT_NEAR(other_g, 0.1, 1e-6) << "column " << e.c;
    EXPECT_EQ(s.tp, 100.0);
    EXPECT_EQ(s.tn, 100.0);
    EXPECT_EQ(s.w > 0, e.positive) << "column " << e.c << ": sign of the weight not restored";
    EXPECT_NEAR(s.w, (s.gp - double{s.gn}) / 8.0, 1e-6);
    EXPECT_LT(std::max(s.gp, s.gn), 8.0f);
  }
  expect_untouched(keep[0], state_of(xb, 0, 3), "large difference");
  expect_untouched(keep[1], state_of(xb, 1, 0), "not saturated");
  expect_untouched(keep[2], state_of(xb, 2, 0), "row outside the range");
  expect_untouched(keep[3], state_of(xb, 1, 1), "initial state");
  EXPECT_EQ(xb.counters().refreshed_cells, 3u);
  EXPECT_EQ(xb.counters().refresh_reset_pulses, 6u);
  EXPECT_EQ(xb.counters().refresh_set_pulses, 7u);
  EXPECT_EQ(xb.counters().set_pulses, 0u) << "refresh pulses are counted separately";
}

TEST(Crossbar, RefreshWithStochasticDevicesKeepsTheSign) {
  crossbar xb(50, 20, differential(), pcm_params{}, 11, 0);
  xb.initialize(0.0);
  for (std::size_t k = 0; k < 1000; ++k) {
    const bool pos = k % 2 == 0;
    xb.positive().program_to(k, pos ? 11.0 : 8.5, 0.0);
    xb.negative().program_to(k, pos ? 8.5 : 11.0, 0.0);
  }
  xb.sync(0.0);
  xb.refresh_rows(0, 50, refresh_config{}, 10.0);
  EXPECT_EQ(xb.counters().refreshed_cells, 1000u);
  int sign_kept = 0;
  for (std::size_t k = 0; k < 1000; ++k) sign_kept += (xb.weights()[k] > 0) == (k % 2 == 0);
  // 3 SET pulses from RESET give ~4.4 uS against ~0.1 uS: a lost sign needs
  // three failed pulses in a row (well under 1 %).
  EXPECT_GE(sign_kept, 990);
}

TEST(Crossbar, RefreshIgnoresSingleRefArrays) {
  crossbar xb(3, 3, single_ref(), pcm_params{}, 12, 0);
  xb.initialize(0.0);
  xb.positive().program_to(0, 15.0, 0.0);
  xb.sync(0.0);
  xb.refresh_rows(0, 3, refresh_config{}, 1.0);
  EXPECT_EQ(xb.counters().refreshed_cells, 0u);
  EXPECT_FLOAT_EQ(xb.positive().g(0), 15.0f);
}

TEST(Crossbar, SyncAtLaterTimeLowersWeightsByDriftFactor) {
  crossbar xb(20, 10, differential(), pcm_params{}, 13, 0);
  xb.initialize(0.0);
  const std::vector<float> w0 = xb.weights();
  const double g0 = xb.mean_conductance_us();
  const pcm_params& p = xb.positive().params();
  const double t = 1000.0 * p.drift_t0_s;
  xb.sync(t);
  EXPECT_EQ(xb.synced_at_s(), t);
  const double factor = std::pow(1000.0, -p.nu);
  for (std::size_t k = 0; k < w0.size(); ++k) {
    ASSERT_NEAR(xb.weights()[k], w0[k] * factor, 1e-5 * std::abs(w0[k]) + 1e-7) << k;
  }
  EXPECT_NEAR(xb.mean_conductance_us(), g0 * factor, 1e-5 * g0);
}

TEST(Crossbar, ReadCellReturnsNoisyConductances) {
  crossbar xb(2, 2, differential(), pcm_params{}, 14, 0);
  xb.initialize(0.0);
  rng r(14, 77);
  test::moments gp, gn;
  for (int i = 0; i < 20000; ++i) {
    float a = 0, b = 0;
    xb.read_cell(1, 1, 1.0, r, a, b);
    gp.add(a);
    gn.add(b);
  }
  const double sp = xb.positive().params().read_sigma(xb.positive().g(3));
  // SE of the mean sp / sqrt(20000) ~ 0.002 uS.
  EXPECT_NEAR(gp.mean(), xb.positive().g(3), 0.01);
  EXPECT_NEAR(gn.mean(), xb.negative().g(3), 0.01);
  EXPECT_NEAR(gp.stddev(), sp, 0.05 * sp);
}

TEST(Crossbar, SameSeedSameArrays) {
  crossbar a(10, 10, differential(), pcm_params{}, 15, 3);
  crossbar b(10, 10, differential(), pcm_params{}, 15, 3);
  crossbar c(10, 10, differential(), pcm_params{}, 15, 4);
  for (auto* x : {&a, &b, &c}) {
    x->initialize(0.0);
    x->pulse(1, 1, 3, 1.0);
    x->pulse(2, 2, -2, 1.0);
  }
  EXPECT_EQ(a.weights(), b.weights());
  EXPECT_NE(a.weights(), c.weights());
  std::vector<float> x(10, 0.5f), ya(10), yb(10);
  a.mvm(x.data(), ya.data());
  b.mvm(x.data(), yb.data());
  EXPECT_EQ(ya, yb);
}

// The read variances in bfloat16 follow every change of the cells
// (initialisation, drift, pulses, refresh) and a restored checkpoint.
TEST(Crossbar, Bf16VariancesAreTheRoundedVariancesAfterEveryChange) {
  EXPECT_EQ(bf16_bits(1.0f), 0x3F80u);
  EXPECT_EQ(bf16_value(bf16_bits(1.0f + 0x1p-9f)), 1.0f);            // below half a step: down
  EXPECT_EQ(bf16_value(bf16_bits(1.0f + 0x1p-8f)), 1.0f);            // a tie: to the even 1.0
  EXPECT_EQ(bf16_value(bf16_bits(1.0f + 0x3p-8f)), 1.0f + 0x1p-6f);  // a tie: to the even one
  EXPECT_EQ(bf16_value(bf16_bits(1.0f + 0x1p-8f + 0x1p-20f)), 1.0f + 0x1p-7f);
  crossbar xb(6, 5, differential(), deterministic_set(), 21, 0);
  auto expect_rounded = [&](const char* when) {
    ASSERT_EQ(xb.variances_bf16().size(), xb.variances().size());
    for (std::size_t k = 0; k < xb.variances().size(); ++k) {
      const float v = xb.variances()[k], b = bf16_value(xb.variances_bf16()[k]);
      ASSERT_GT(v, 0.0f) << when;
      ASSERT_EQ(xb.variances_bf16()[k], bf16_bits(v)) << when << ", cell " << k;
      ASSERT_LE(std::fabs(b - v), 0x1p-8f * v) << when << ", cell " << k;
    }
  };
  xb.initialize(0.0);
  expect_rounded("initialised");
  xb.sync(1e4);
  expect_rounded("drifted");
  xb.pulse(1, 2, 3, 2e4);
  xb.pulse(4, 0, -2, 2e4);
  expect_rounded("pulsed");
  xb.positive().program_to(7, 10.0, 2e4);
  xb.negative().program_to(7, 7.0, 2e4);
  xb.sync(2e4);
  xb.refresh_rows(0, 6, refresh_config{}, 3e4);
  EXPECT_EQ(xb.counters().refreshed_cells, 1u);
  expect_rounded("refreshed");
  state_writer w;
  xb.save(w);
  crossbar back(6, 5, differential(), deterministic_set(), 21, 0);
  state_reader r(w.bytes(), "test");
  back.load(r);
  EXPECT_EQ(back.variances_bf16(), xb.variances_bf16());
}

TEST(CrossbarConfig, ValidationNamesTheField) {
  auto message = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "(no exception)";
  };
  crossbar_config c;
  c.g_per_weight_us = 0.0;
  EXPECT_NE(message([&] { c.validate(); }).find("g_per_weight_us"), std::string::npos);
  c = {};
  c.init_std_us = -1.0;
  EXPECT_NE(message([&] { c.validate(); }).find("init_std_us"), std::string::npos);
  refresh_config r;
  r.max_pulses = -1;
  EXPECT_NE(message([&] { r.validate(); }).find("max_pulses"), std::string::npos);
  r = {};
  r.g_per_pulse_us = 0.0;
  EXPECT_NE(message([&] { r.validate(); }).find("g_per_pulse_us"), std::string::npos);
  EXPECT_THROW(crossbar(0, 4, crossbar_config{}, pcm_params{}, 1, 0), std::invalid_argument);
  c = {};
  c.g_per_weight_us = -8.0;
  EXPECT_THROW(crossbar(2, 2, c, pcm_params{}, 1, 0), std::invalid_argument);
}

}  // namespace
}  // namespace mcasim
