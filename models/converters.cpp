#include "models/converters.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

namespace mcasim {

void quantizer_config::validate(const char* name) const {
  const int min_bits = is_signed ? 2 : 1;  // a signed code needs a sign and a magnitude bit
  if (bits < min_bits || bits > 24) {
    throw std::invalid_argument(std::string(name) + ".bits = " + std::to_string(bits) +
                                ": must be in [" + std::to_string(min_bits) + ", 24]" +
                                (is_signed ? " for a signed quantiser" : ""));
  }
  if (!dynamic && !(range > 0 && std::isfinite(range))) {
    throw std::invalid_argument(std::string(name) + ".range = " + std::to_string(range) +
                                ": must be a finite value > 0");
  }
}

double quantize(const quantizer_config& cfg, float* x, std::size_t n, double range_scale) {
  if (cfg.ideal) return cfg.range * range_scale;
  const int codes = cfg.max_code();
  double full = cfg.range * range_scale;
  if (cfg.dynamic) {
    // max |x| over the bit patterns: for finite floats without the sign bit
    // the integer order is the numeric order, and the loop vectorises.
    uint32_t mbits = 0;
    for (std::size_t k = 0; k < n; ++k) {
      uint32_t b;
      std::memcpy(&b, &x[k], sizeof b);
      b &= 0x7fffffffu;
      mbits = b > mbits ? b : mbits;
    }
    float m;
    std::memcpy(&m, &mbits, sizeof m);
    if (m == 0.0f) return 0.0;
    if (!cfg.power_of_two) {
      full = m;
    } else if (cfg.pow2_nearest) {
      full = codes * std::exp2(std::nearbyint(std::log2(static_cast<double>(m) / codes)));
    } else {
      full = std::exp2(std::ceil(std::log2(static_cast<double>(m))));
    }
  }
  if (!(full > 0)) return 0.0;
  const float step = static_cast<float>(full / codes);
  const float inv = 1.0f / step;
  const float lo = cfg.is_signed ? -static_cast<float>(codes) : 0.0f;
  const float hi = static_cast<float>(codes);
  if (!(step >= std::numeric_limits<float>::min())) {
    // A subnormal step (max |x| below ~1e-38): 1 / step may overflow (zeros
    // would become 0 * inf = NaN), so these rare vectors use double precision.
    const double dstep = full / codes;
    for (std::size_t k = 0; k < n; ++k) {
      const double q = std::clamp(std::nearbyint(x[k] / dstep), double(lo), double(hi));
      x[k] = static_cast<float>(q * dstep);
    }
    return full;
  }
  for (std::size_t k = 0; k < n; ++k) {
    float q = std::nearbyint(x[k] * inv);
    q = q < lo ? lo : q;
    q = q > hi ? hi : q;
    x[k] = q * step;
  }
  return full;
}

std::size_t update_operands(const quantizer_config& qx, const quantizer_config& qd, const float* x,
                            std::size_t rows, const float* d, std::size_t cols, float* ux,
                            float* ud) {
  std::copy(x, x + rows, ux);
  std::copy(d, d + cols, ud);
  quantize(qx, ux, rows);
  quantize(qd, ud, cols);
  return static_cast<std::size_t>(std::count_if(ud, ud + cols, [](float v) { return v != 0.0f; }));
}

}  // namespace mcasim
