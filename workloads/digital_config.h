// Configuration of the digital designs of Table I: which design (fixed32:
// the 32-bit design, computing in fp32 on the engine; mixed: the
// mixed-precision design) and the mixed-precision design's converters
// (workloads/network_train.h engine_config maps them to digital-mp).
#pragma once

#include "models/converters.h"

namespace mcasim {

enum class digital_kind { fixed32, mixed };

struct digital_config {
  digital_kind kind = digital_kind::fixed32;
  quantizer_config weights{false, 4, true, 1.0, true, true, false};
  quantizer_config activations{false, 8, false, 1.0, true, true, false};
  quantizer_config errors{false, 8, true, 1.0, true, true, false};
  quantizer_config update_x{false, 3, true, 1.0, true, true, true};
  quantizer_config update_d{false, 3, true, 1.0, true, true, true};
  void validate() const;
};

}  // namespace mcasim
