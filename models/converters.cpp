#include "models/converters.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace mcasim {

void quantizer_config::validate(const char* name) const {
  if (bits < 1 || bits > 24) {
    throw std::invalid_argument(std::string(name) + ".bits = " + std::to_string(bits) +
                                ": must be in [1, 24]");
  }
  if (!dynamic && !(range > 0 && std::isfinite(range))) {
    throw std::invalid_argument(std::string(name) + ".range = " + std::to_string(range) +
                                ": must be a finite value > 0");
  }
}

double quantize(const quantizer_config& cfg, float* x, std::size_t n) {
  if (cfg.ideal) return cfg.range;
  double full = cfg.range;
  if (cfg.dynamic) {
    float m = 0.0f;
    for (std::size_t k = 0; k < n; ++k) m = std::max(m, std::fabs(x[k]));
    if (m == 0.0f) return 0.0;
    full = cfg.power_of_two ? std::exp2(std::ceil(std::log2(static_cast<double>(m)))) : m;
  }
  const int codes = cfg.max_code();
  const float step = static_cast<float>(full / codes);
  const float inv = 1.0f / step;
  const float lo = cfg.is_signed ? -static_cast<float>(codes) : 0.0f;
  const float hi = static_cast<float>(codes);
  for (std::size_t k = 0; k < n; ++k) {
    x[k] = std::clamp(std::nearbyint(x[k] * inv), lo, hi) * step;
  }
  return full;
}

}  // namespace mcasim
