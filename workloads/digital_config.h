// Configuration of the digital designs (see workloads/digital_network.h).
#pragma once

#include "models/converters.h"

namespace mcasim {

enum class digital_kind { fixed32, mixed };

struct digital_config {
  digital_kind kind = digital_kind::fixed32;
  int frac_bits = 24;  // fixed32: Q7.24
  quantizer_config weights{false, 4, true, 1.0, true, true, false};
  quantizer_config activations{false, 8, false, 1.0, true, true, false};
  quantizer_config errors{false, 8, true, 1.0, true, true, false};
  quantizer_config update_x{false, 3, true, 1.0, true, true, true};
  quantizer_config update_d{false, 3, true, 1.0, true, true, true};
  void validate() const;
};

}  // namespace mcasim
