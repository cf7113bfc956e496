// Vectorised drift evaluation, out[k] = g[k] * max((now - tp[k]) / t0, 1)^-nu.
#pragma once

#include <cstddef>

namespace mcasim {

// nu_per_device may be null (then nu applies to all devices).
void drift_kernel(std::size_t n, const float* g, const double* tp, const float* nu_per_device,
                  float nu, double now_s, double t0_s, float* out);

}  // namespace mcasim
