// Compiled with -ffast-math (inputs are always finite) so that the compiler calls the
// vector forms of expf/logf (glibc libmvec): drift of the whole array is
// re-evaluated often during training and is the model's costliest loop.
#include "models/drift_kernel.h"

#include <math.h>

#include <algorithm>

namespace mcasim {

namespace {

constexpr std::size_t k_chunk = 256;  // a multiple of every vector width

// f[k] = max((now - tp[k]) / t0, 1)^-nu and out[k] = g[k] f[k], k < n (the
// vector loop).
void evaluate(std::size_t n, const float* g, const double* tp, float nu, double now_s,
              double inv_t0, double* f, float* out) {
  for (std::size_t k = 0; k < n; ++k) {
    const double r = std::max((now_s - tp[k]) * inv_t0, 1.0);  // factor 1 before t0
    f[k] = exp(-nu * log(r));
    out[k] = static_cast<float>(g[k] * f[k]);
  }
}

}  // namespace

void drift_kernel(std::size_t n, const float* g, const double* tp, const float* nu_per_device,
                  float nu, double now_s, double t0_s, float* out) {
  const double inv_t0 = 1.0 / t0_s;
  if (nu_per_device != nullptr) {
    for (std::size_t k = 0; k < n; ++k) {
      const double r = std::max((now_s - tp[k]) * inv_t0, 1.0);
      out[k] = static_cast<float>(g[k] * exp(-nu_per_device[k] * log(r)));
    }
    return;
  }
  // Devices last programmed at the same time share their factor: most of
  // an array is untouched since its initial programming or was programmed
  // by the same update. A chunk of devices whose times all equal the last
  // one evaluated reuses its factor (computed by the same vector code, so
  // the results are those of evaluating every device).
  double f[k_chunk];
  bool have_last = false;
  double last_tp = 0.0, last_f = 1.0;
  for (std::size_t k = 0; k < n; k += k_chunk) {
    const std::size_t m = std::min(k_chunk, n - k);
    // Only whole chunks reuse (a multiple of the vector width: no device of
    // theirs would have been evaluated by the scalar remainder).
    const bool same = have_last && m == k_chunk &&
                      std::all_of(tp + k, tp + k + m, [last_tp](double t) { return t == last_tp; });
    if (same) {
      for (std::size_t j = 0; j < m; ++j) out[k + j] = static_cast<float>(g[k + j] * last_f);
      continue;
    }
    evaluate(m, g + k, tp + k, nu, now_s, inv_t0, f, out + k);
    have_last = true;
    last_tp = tp[k + m - 1];
    last_f = f[m - 1];
  }
}

}  // namespace mcasim
