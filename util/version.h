// The version recorded in every output (git describe at configure time).
#pragma once

namespace mcasim {

const char* version();

}  // namespace mcasim
