// Vectorised drift evaluation: factors max((now - tp) / t0, 1)^-nu.
#pragma once

#include <cstddef>

namespace mcasim {

// out[k] = g[k] * max((now - tp[k]) / t0, 1)^-nu[k], k < n: devices with an
// exponent each.
void drift_kernel(std::size_t n, const float* g, const double* tp, const float* nu, double now_s,
                  double t0_s, float* out);

// f[k] = max((now - tp[k]) / t0, 1)^-nu, k < n: the factors of programming
// times shared by many devices. Every value comes from the vector loop (a
// time's factor does not depend on its place), and one of drift_kernel's
// devices programmed at tp[k] with exponent nu drifts by exactly f[k].
void drift_factors(std::size_t n, const double* tp, float nu, double now_s, double t0_s, double* f);

}  // namespace mcasim
