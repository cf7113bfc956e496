// Compiled with -ffast-math (inputs are always finite) so that the compiler calls the
// vector forms of expf/logf (glibc libmvec): drift of the whole array is
// re-evaluated often during training and is the model's costliest loop.
#include "models/drift_kernel.h"

#include <math.h>

#include <algorithm>

namespace mcasim {

namespace {

constexpr std::size_t k_chunk = 256;  // a multiple of every vector width

// f[k] = max((now - tp[k]) / t0, 1)^-nu[k] and out[k] = g[k] f[k], k < n
// (the vector loop).
void evaluate(std::size_t n, const float* g, const double* tp, const float* nu, double now_s,
              double inv_t0, double* f, float* out) {
  for (std::size_t k = 0; k < n; ++k) {
    const double r = std::max((now_s - tp[k]) * inv_t0, 1.0);  // factor 1 before t0
    f[k] = exp(-nu[k] * log(r));
    out[k] = static_cast<float>(g[k] * f[k]);
  }
}

}  // namespace

void drift_kernel(std::size_t n, const float* g, const double* tp, const float* nu, double now_s,
                  double t0_s, float* out) {
  double f[k_chunk];
  for (std::size_t k = 0; k < n; k += k_chunk) {
    const std::size_t m = std::min(k_chunk, n - k);
    evaluate(m, g + k, tp + k, nu + k, now_s, 1.0 / t0_s, f, out + k);
  }
}

void drift_factors(std::size_t n, const double* tp, float nu, double now_s, double t0_s,
                   double* f) {
  // Whole chunks only, so that no value comes from the loop's scalar
  // remainder: the last one padded with its last time.
  float ones[k_chunk], out[k_chunk], nus[k_chunk];
  std::fill(ones, ones + k_chunk, 1.0f);
  std::fill(nus, nus + k_chunk, nu);
  double t[k_chunk], part[k_chunk];
  for (std::size_t k = 0; k < n; k += k_chunk) {
    const std::size_t m = std::min(k_chunk, n - k);
    if (m == k_chunk) {
      evaluate(k_chunk, ones, tp + k, nus, now_s, 1.0 / t0_s, f + k, out);
      continue;
    }
    std::copy(tp + k, tp + n, t);
    std::fill(t + m, t + k_chunk, tp[n - 1]);
    evaluate(k_chunk, ones, t, nus, now_s, 1.0 / t0_s, part, out);
    std::copy(part, part + m, f + k);
  }
}

}  // namespace mcasim
