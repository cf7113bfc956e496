// Read noise of a block of MVMs, vectorised: y[k] += sqrt(max(var[k], 0)) z[k]
// with z standard normal by the Box-Muller transform in single precision,
// two deviates from each 64-bit draw of the stream (two 24-bit uniforms).
// The same stream and block give the same values on every run; the law is
// that of rng::normal(), not its sequence.
//
// The draws (serial: one stream) and the transform (independent per
// output) are separate steps, so that blocks can take their draws in order
// and transform them at once: read_noise_draws, then add_read_noise on the
// draws, give the values of add_read_noise on the stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "models/rng.h"

namespace mcasim {

// The draws of the noise of n outputs: (n + 1) / 2 values of the stream.
void read_noise_draws(rng& r, std::size_t n, std::vector<uint64_t>& draws);
// y[k] += sqrt(max(var[k], 0)) z[k], z from the draws of n outputs.
void add_read_noise(const uint64_t* draws, float* y, const float* var, std::size_t n);
// Both in turn.
void add_read_noise(rng& r, float* y, const float* var, std::size_t n);

}  // namespace mcasim
