// Device characterization (paper Fig. 2a/b): devices from RESET receive SET
// pulses; each is read T0 after every pulse. Writes DIR/characterization.csv
// (mean and std per pulse), DIR/distribution.csv (histogram after
// `histogram_pulse` pulses) and DIR/characterization.json.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "models/pcm_device.h"

namespace mcasim {

struct characterize_options {
  std::size_t devices = 10000;
  int pulses = 20;
  int histogram_pulse = 15;
  double bin_us = 0.5;
  uint64_t seed = 1;
  std::string out_dir;
};

nlohmann::json run_characterization(const pcm_params& pcm, const characterize_options& opt);

}  // namespace mcasim
