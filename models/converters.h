// Uniform quantisers for the PWM DACs (crossbar inputs) and the ADCs
// (crossbar outputs): bits, full-scale range, clipping; `ideal` passes values
// through untouched.
#pragma once

#include <cstddef>

namespace mcasim {

struct quantizer_config {
  bool ideal = true;
  int bits = 8;
  bool is_signed = true;
  // Full scale: codes cover [-range, range] (signed) or [0, range] (unsigned).
  double range = 1.0;
  // Dynamic: full scale = max |x| of the vector (a shared scale per vector),
  // rounded up to a power of two when power_of_two is set (a bit shift).
  bool dynamic = false;
  bool power_of_two = false;
  // Dynamic power-of-two scale: false = smallest 2^k >= max |x| (no clipping);
  // true = step 2^round(log2(max |x| / max_code)) (rounded to nearest, the
  // largest values may clip).
  bool pow2_nearest = false;

  // Throws std::invalid_argument naming `name`.field when a value is unusable.
  void validate(const char* name) const;
  int max_code() const { return is_signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1; }
};

// Quantises x[0..n) in place to codes * step (values stay in real units).
// A fixed range is multiplied by range_scale (an ADC whose full scale follows
// the scale of the PWM inputs). Returns the full scale used (0 when every
// value is 0 in dynamic mode).
double quantize(const quantizer_config& cfg, float* x, std::size_t n, double range_scale = 1.0);

// Operands of one layer's low-precision outer product: ux = Q_x(x[0..rows)),
// ud = Q_d(d[0..cols)). Returns the number of non-zero entries of ud.
std::size_t update_operands(const quantizer_config& qx, const quantizer_config& qd, const float* x,
                            std::size_t rows, const float* d, std::size_t cols, float* ux,
                            float* ud);

}  // namespace mcasim
