// models/converters.h: the uniform DAC/ADC quantiser (ideal, fixed range,
// dynamic and power-of-two scales, clipping) and its validation.
#include "models/converters.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/rng.h"

namespace mcasim {
namespace {

quantizer_config fixed(int bits, bool is_signed, double range) {
  quantizer_config q;
  q.ideal = false;
  q.bits = bits;
  q.is_signed = is_signed;
  q.range = range;
  return q;
}

TEST(Quantize, IdealLeavesValuesUntouched) {
  quantizer_config q;  // ideal by default
  q.range = 3.0;
  std::vector<float> x{-7.25f, 0.0f, 1e-9f, 0.123456789f, 42.0f};
  const std::vector<float> before = x;
  EXPECT_EQ(quantize(q, x.data(), x.size()), 3.0);
  EXPECT_EQ(x, before);
}

TEST(Quantize, EightBitUnsignedHas255StepsOverUnitRange) {
  const quantizer_config q = fixed(8, false, 1.0);
  EXPECT_EQ(q.max_code(), 255);
  // A fine sweep of [0, 1] lands on exactly 256 levels, multiples of 1/255.
  std::vector<float> x(100001);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) / 100000.0f;
  EXPECT_EQ(quantize(q, x.data(), x.size()), 1.0);
  std::set<float> levels(x.begin(), x.end());
  EXPECT_EQ(levels.size(), 256u);
  for (float v : levels) {
    const double code = v * 255.0;
    EXPECT_NEAR(code, std::round(code), 1e-4);
  }
  EXPECT_FLOAT_EQ(*levels.begin(), 0.0f);
  EXPECT_FLOAT_EQ(*levels.rbegin(), 1.0f);
  // Rounds to the nearest step.
  float y[2] = {0.31f, 2.4f / 255.0f};
  quantize(q, y, 2);
  EXPECT_FLOAT_EQ(y[0], 79.0f / 255.0f);  // 0.31 * 255 = 79.05
  EXPECT_FLOAT_EQ(y[1], 2.0f / 255.0f);
}

TEST(Quantize, UnsignedClipsAboveRangeAndBelowZero) {
  const quantizer_config q = fixed(8, false, 2.0);
  std::vector<float> x{-0.5f, -1e-6f, 2.0f, 2.5f, 1e6f};
  quantize(q, x.data(), x.size());
  EXPECT_EQ(x[0], 0.0f);
  EXPECT_EQ(x[1], 0.0f);
  EXPECT_FLOAT_EQ(x[2], 2.0f);
  EXPECT_FLOAT_EQ(x[3], 2.0f);
  EXPECT_FLOAT_EQ(x[4], 2.0f);
}

TEST(Quantize, SignedClipsSymmetrically) {
  const quantizer_config q = fixed(8, true, 1.0);
  EXPECT_EQ(q.max_code(), 127);
  std::vector<float> x{-5.0f, -1.0f, -0.5f, 0.5f, 1.0f, 5.0f};
  quantize(q, x.data(), x.size());
  EXPECT_FLOAT_EQ(x[0], -1.0f);
  EXPECT_FLOAT_EQ(x[1], -1.0f);
  EXPECT_FLOAT_EQ(x[4], 1.0f);
  EXPECT_FLOAT_EQ(x[5], 1.0f);
  EXPECT_EQ(x[0], -x[5]);
  EXPECT_EQ(x[2], -x[3]);
  EXPECT_NEAR(x[3], 0.5f, 0.5f / 127.0f);
}

TEST(Quantize, ThreeBitSignedHasSevenCodesEachSide) {
  const quantizer_config q = fixed(3, true, 1.0);
  std::vector<float> x(2001);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = -2.0f + 0.002f * static_cast<float>(i);
  quantize(q, x.data(), x.size());
  const std::set<float> levels(x.begin(), x.end());
  EXPECT_EQ(levels.size(), 7u);  // -3..3 steps of 1/3
}

TEST(Quantize, DynamicPowerOfTwoScale) {
  quantizer_config q = fixed(8, true, 1.0);
  q.dynamic = true;
  q.power_of_two = true;
  struct expectation {
    float max_abs;
    double scale;
  };
  for (const auto& [m, scale] : std::vector<expectation>{{0.3f, 0.5},
                                                         {0.5f, 0.5},
                                                         {0.51f, 1.0},
                                                         {3.0f, 4.0},
                                                         {1e-3f, 1.0 / 512},
                                                         {0.9e-3f, 1.0 / 1024}}) {
    std::vector<float> x{0.1f * m, -m, 0.5f * m};
    const double s = quantize(q, x.data(), x.size());
    EXPECT_EQ(s, scale) << "max |x| = " << m;
    EXPECT_GE(s, m);
    int e = 0;
    EXPECT_EQ(std::frexp(s, &e), 0.5) << s << " is not a power of two";
    // The largest magnitude is representable to within one step.
    EXPECT_NEAR(x[1], -m, s / 127.0);
  }
}

TEST(Quantize, DynamicScaleWithoutPowerOfTwoIsMaxAbs) {
  quantizer_config q = fixed(4, true, 1.0);
  q.dynamic = true;
  std::vector<float> x{0.3f, -0.7f, 0.1f};
  EXPECT_FLOAT_EQ(static_cast<float>(quantize(q, x.data(), x.size())), 0.7f);
  EXPECT_FLOAT_EQ(x[1], -0.7f);  // max |x| is exactly the top code
}

TEST(Quantize, DynamicZeroVectorReturnsZeroAndStaysZero) {
  quantizer_config q = fixed(8, true, 1.0);
  q.dynamic = true;
  q.power_of_two = true;
  std::vector<float> x(16, 0.0f);
  EXPECT_EQ(quantize(q, x.data(), x.size()), 0.0);
  for (float v : x) {
    EXPECT_EQ(v, 0.0f);
    EXPECT_FALSE(std::signbit(v));
  }
}

// --- pow2_nearest: step 2^round(log2(max|x| / max_code)) ---------------------
// Every expectation below is worked by hand from the rule in converters.h:
// C = max_code(), step = 2^k with k the integer nearest to log2(m / C)
// (m = max |x|), full scale C * step, codes nearbyint(x / step) (ties to
// even in the default rounding mode) clipped to [-C, C] (signed) or [0, C].

quantizer_config pow2_nearest(int bits, bool is_signed) {
  quantizer_config q = fixed(bits, is_signed, 1.0);
  q.dynamic = true;
  q.power_of_two = true;
  q.pow2_nearest = true;
  return q;
}

TEST(QuantizePow2Nearest, ThreeBitSignedWorkedByHand) {
  const quantizer_config q = pow2_nearest(3, true);
  ASSERT_EQ(q.max_code(), 3);
  // m = 1: log2(1/3) = -1.585 -> k = -2, step 0.25, full scale 3 * 0.25.
  std::vector<float> x{1.0f, 0.5f, 0.3f, -0.375f, 0.125f, -0.625f, 0.625f, 0.875f, 0.0f, -1.0f};
  EXPECT_EQ(quantize(q, x.data(), x.size()), 0.75);
  const std::vector<float> expected{
      0.75f,   // 1 / 0.25 = 4 > 3: clipped to the top code
      0.5f,    // code 2
      0.25f,   // 1.2 -> 1
      -0.5f,   // -1.5 -> -2 (tie to even)
      0.0f,    // 0.5 -> 0 (tie to even)
      -0.5f,   // -2.5 -> -2 (tie to even)
      0.5f,    // 2.5 -> 2
      0.75f,   // 3.5 -> 4 (tie to even), clipped to 3
      0.0f,    //
      -0.75f,  // -4 clipped to -3
  };
  EXPECT_EQ(x, expected);
}

TEST(QuantizePow2Nearest, ScaleSwitchesAtTheGeometricMidpoint) {
  const quantizer_config q = pow2_nearest(3, true);
  // log2(m / 3) = -1.5 at m = 3 / 2^1.5 = 1.06066: below it k = -2 (step
  // 0.25), above it k = -1 (step 0.5).
  float below[2] = {1.0606f, 0.3f};  // log2(1.0606 / 3) = -1.50008
  EXPECT_EQ(quantize(q, below, 2), 0.75);
  EXPECT_EQ(below[0], 0.75f);        // 4.24 -> clipped to 3
  EXPECT_EQ(below[1], 0.25f);        // 1.2 -> 1
  float above[2] = {1.0607f, 0.3f};  // log2(1.0607 / 3) = -1.49995
  EXPECT_EQ(quantize(q, above, 2), 1.5);
  EXPECT_EQ(above[0], 1.0f);  // 2.12 -> 2
  EXPECT_EQ(above[1], 0.5f);  // 0.6 -> 1

  // 2-bit signed (C = 1): the switch is at m = 2^-0.5 = 0.70711.
  const quantizer_config q2 = pow2_nearest(2, true);
  float a[1] = {0.7f};  // log2 0.7 = -0.515 -> k = -1, step 0.5, 1.4 -> 1
  EXPECT_EQ(quantize(q2, a, 1), 0.5);
  EXPECT_EQ(a[0], 0.5f);
  float b[1] = {0.71f};  // log2 0.71 = -0.494 -> k = 0, step 1, 0.71 -> 1
  EXPECT_EQ(quantize(q2, b, 1), 1.0);
  EXPECT_EQ(b[0], 1.0f);
}

TEST(QuantizePow2Nearest, LargestValuesSaturateByUpToAFactorSqrt2) {
  const quantizer_config q = pow2_nearest(8, true);  // C = 127
  struct point {
    float m;
    double full;
    float top;  // quantised value of m
  };
  for (const auto& [m, full, top] : std::vector<point>{
           {100.0f, 127.0, 100.0f},  // log2(100/127) = -0.345 -> step 1
           {179.0f, 127.0, 127.0f},  // log2(179/127) = 0.4951 -> step 1, clipped
           {180.0f, 254.0, 180.0f},  // log2(180/127) = 0.5032 -> step 2, code 90
           {200.0f, 254.0, 200.0f},  // step 2, code 100
       }) {
    std::vector<float> x{-0.5f * m, m};
    EXPECT_EQ(quantize(q, x.data(), x.size()), full) << "m = " << m;
    EXPECT_EQ(x[1], top) << "m = " << m;
  }
}

TEST(QuantizePow2Nearest, UnsignedClipsNegativesAndUsesAllCodes) {
  const quantizer_config q = pow2_nearest(3, false);  // C = 7
  // m = 1 (from the negative entry): log2(1/7) = -2.807 -> step 1/8.
  std::vector<float> x{-1.0f, 0.25f, 1.0f, 0.5f, 0.06f, 0.07f};
  EXPECT_EQ(quantize(q, x.data(), x.size()), 0.875);
  const std::vector<float> expected{0.0f, 0.25f, 0.875f, 0.5f, 0.0f, 0.125f};
  // -8 -> 0; code 2; 8 -> 7; code 4; 0.48 -> 0; 0.56 -> 1.
  EXPECT_EQ(x, expected);
}

TEST(QuantizePow2Nearest, ZerosAndSigns) {
  const quantizer_config q = pow2_nearest(3, true);
  std::vector<float> z(5, 0.0f);
  EXPECT_EQ(quantize(q, z.data(), z.size()), 0.0);
  for (float v : z) EXPECT_EQ(v, 0.0f);
  // Odd symmetry: Q(-x) = -Q(x), element by element, with the same scale.
  rng r(21, 0);
  std::vector<float> x(64);
  for (auto& v : x) v = static_cast<float>(r.normal());
  std::vector<float> neg(x.size());
  for (std::size_t k = 0; k < x.size(); ++k) neg[k] = -x[k];
  const double s1 = quantize(q, x.data(), x.size());
  const double s2 = quantize(q, neg.data(), neg.size());
  EXPECT_EQ(s1, s2);
  for (std::size_t k = 0; k < x.size(); ++k) EXPECT_EQ(neg[k], -x[k]) << k;
}

// The scale rule restated without logarithms: k is nearest to log2(m / C)
// exactly when 2^(2k-1) <= (m / C)^2 <= 2^(2k+1); checked in double over 20
// decades (the squares are exact enough: m^2 has 48 bits).
TEST(QuantizePow2Nearest, StepIsTheNearestPowerOfTwoInTheLogDomain) {
  for (int bits : {2, 3, 4, 8}) {
    const quantizer_config q = pow2_nearest(bits, true);
    const double c = q.max_code();
    rng r(static_cast<uint64_t>(bits), 3);
    for (int i = 0; i < 2000; ++i) {
      const float m = static_cast<float>(std::pow(10.0, -10.0 + 20.0 * r.uniform()));
      float x[2] = {0.25f * m, -m};
      const double full = quantize(q, x, 2);
      const double step = full / c;
      int e = 0;
      ASSERT_EQ(std::frexp(step, &e), 0.5) << "step " << step << " is not a power of two";
      const double ratio2 = (static_cast<double>(m) / c) * (static_cast<double>(m) / c);
      ASSERT_LE(step * step / 2, ratio2 * (1 + 1e-12)) << "bits " << bits << " m " << m;
      ASSERT_GE(step * step * 2, ratio2 * (1 - 1e-12)) << "bits " << bits << " m " << m;
      // The top value is within [C / sqrt2, C sqrt2] steps, so at most the
      // top codes clip: |Q(m)| = min(round(m / step), C) * step.
      ASSERT_EQ(-x[1], static_cast<float>(std::min(std::nearbyint(m / step), c) * step));
    }
  }
}

// Regression: when max |x| is below ~1e-38 the step is a subnormal float
// whose reciprocal overflowed to infinity: zeros became NaN (0 * inf) and
// every other value saturated. Such vectors now quantise like any other.
TEST(QuantizePow2Nearest, SubnormalStepsKeepZerosAndCodes) {
  for (const quantizer_config& q : {pow2_nearest(3, true), pow2_nearest(8, true), [] {
                                      quantizer_config c = fixed(8, true, 1.0);
                                      c.dynamic = true;
                                      c.power_of_two =
                                          true;  // ceil mode: step 2^-126 / 127 for m = 1e-38
                                      return c;
                                    }()}) {
    for (float m : {1e-38f, 1e-40f, 1e-44f}) {
      float x[3] = {m, 0.0f, -0.5f * m};
      const double full = quantize(q, x, 3);
      const double step = full / q.max_code();
      EXPECT_GT(full, 0.0);
      EXPECT_EQ(x[1], 0.0f) << "bits " << q.bits << " m " << m;
      EXPECT_FALSE(std::isnan(x[0]) || std::isnan(x[2])) << "bits " << q.bits << " m " << m;
      // The codes the rule gives in double precision, times the step; the
      // result is a float, so within one subnormal spacing (2^-149).
      const double c = q.max_code();
      auto expect = [&](float v) {
        return std::clamp(std::nearbyint(static_cast<double>(v) / step), -c, c) * step;
      };
      const double tiny = std::ldexp(1.0, -149);
      EXPECT_NEAR(x[0], expect(m), tiny) << "bits " << q.bits << " m " << m;
      EXPECT_NEAR(x[2], expect(-0.5f * m), tiny) << "bits " << q.bits << " m " << m;
    }
  }
}

TEST(QuantizerConfig, ValidateNamesTheField) {
  quantizer_config q = fixed(0, true, 1.0);
  try {
    q.validate("mca.adc_forward");
    FAIL() << "bits = 0 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("mca.adc_forward.bits"), std::string::npos) << e.what();
  }
  q = fixed(25, true, 1.0);
  EXPECT_THROW(q.validate("q"), std::invalid_argument);
  q = fixed(8, true, 0.0);
  try {
    q.validate("mca.pwm_forward");
    FAIL() << "range = 0 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("mca.pwm_forward.range"), std::string::npos) << e.what();
  }
  q.dynamic = true;  // the range is unused in dynamic mode
  EXPECT_NO_THROW(q.validate("q"));
  EXPECT_NO_THROW(fixed(24, false, 1.0).validate("q"));
  EXPECT_NO_THROW(fixed(1, false, 1.0).validate("q"));
}

// Regression: a signed quantiser with bits = 1 has max_code() = 0 (step =
// inf, NaN outputs); validation rejects it and names the field.
TEST(Quantize, OneBitSignedIsRejected) {
  const quantizer_config q = fixed(1, true, 1.0);
  try {
    q.validate("q");
    FAIL() << "a 1-bit signed quantiser was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("q.bits"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mcasim
