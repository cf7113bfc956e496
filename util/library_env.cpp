#include "util/library_env.h"

#include <unistd.h>

#include <cstdlib>

namespace mcasim {

void restart_with_sleeping_threads(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  execv("/proc/self/exe", argv);
  unsetenv("OMP_WAIT_POLICY");
}

}  // namespace mcasim
