// Read noise of a block of MVMs, vectorised: y[k] += sqrt(max(var[k], 0)) z[k]
// with z standard normal by the Box-Muller transform in single precision,
// two deviates from each 64-bit draw of the stream (two 24-bit uniforms).
// The same stream and block give the same values on every run; the law is
// that of rng::normal(), not its sequence.
#pragma once

#include <cstddef>

#include "models/rng.h"

namespace mcasim {

void add_read_noise(rng& r, float* y, const float* var, std::size_t n);

}  // namespace mcasim
