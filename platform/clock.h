// The one check of a module's clock frequency: its period must be a
// SystemC time well inside the kernel's range.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace mcasim {

inline void validate_clock_mhz(const char* module, double mhz) {
  if (!(mhz >= 1e-3 && mhz <= 1e6)) {
    std::ostringstream msg;
    msg << module << ".clock_mhz = " << mhz << ": must be in [0.001, 1e6] MHz";
    throw std::invalid_argument(msg.str());
  }
}

}  // namespace mcasim
