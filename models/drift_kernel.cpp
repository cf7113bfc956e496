// Compiled with -ffast-math (inputs are always finite) so that the compiler calls the
// vector forms of expf/logf (glibc libmvec): drift of the whole array is
// re-evaluated often during training and is the model's costliest loop.
#include "models/drift_kernel.h"

#include <math.h>

#include <algorithm>

namespace mcasim {

void drift_kernel(std::size_t n, const float* g, const double* tp, const float* nu_per_device,
                  float nu, double now_s, double t0_s, float* out) {
  const double inv_t0 = 1.0 / t0_s;
  if (nu_per_device == nullptr) {
    for (std::size_t k = 0; k < n; ++k) {
      const double r = std::max((now_s - tp[k]) * inv_t0, 1.0);  // factor 1 before t0
      out[k] = static_cast<float>(g[k] * exp(-nu * log(r)));
    }
  } else {
    for (std::size_t k = 0; k < n; ++k) {
      const double r = std::max((now_s - tp[k]) * inv_t0, 1.0);
      out[k] = static_cast<float>(g[k] * exp(-nu_per_device[k] * log(r)));
    }
  }
}

}  // namespace mcasim
