// models/converters.h: the uniform DAC/ADC quantiser (ideal, fixed range,
// dynamic and power-of-two scales, clipping) and its validation.
#include "models/converters.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

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
