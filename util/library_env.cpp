#include "util/library_env.h"

#include <unistd.h>

#include <cstdlib>

namespace mcasim {
namespace {

bool has_avx512_kernels_cpu() {
  return __builtin_cpu_supports("avx512f") != 0 && __builtin_cpu_supports("avx512bw") != 0 &&
         __builtin_cpu_supports("avx512cd") != 0 && __builtin_cpu_supports("avx512dq") != 0 &&
         __builtin_cpu_supports("avx512vl") != 0;
}

}  // namespace

void restart_with_library_environment(char** argv) {
  const bool wait = std::getenv("OMP_WAIT_POLICY") == nullptr;
  const bool kernels = std::getenv("OPENBLAS_CORETYPE") == nullptr && has_avx512_kernels_cpu();
  if (!wait && !kernels) return;
  if (wait) setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  if (kernels) setenv("OPENBLAS_CORETYPE", "SKYLAKEX", 1);
  execv("/proc/self/exe", argv);
  // Not restarted: the libraries run as they loaded, and the environment a
  // run records says so.
  if (wait) unsetenv("OMP_WAIT_POLICY");
  if (kernels) unsetenv("OPENBLAS_CORETYPE");
}

}  // namespace mcasim
