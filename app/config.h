// The configuration tree: every parameter of a run in one JSON document with
// documented defaults (the paper's design):
//   experiment  workload, network, device model, crossbars, converters,
//               chi, refresh, digital designs (workloads/experiment.h)
//   training    runs of any network (--network): numerics, batch, optimizer,
//               schedule, augmentation, per-layer mapping (workloads/numerics.h)
//   platform    digital units, SRAMs, MAC arrays, bus, tiles (designs.h)
//   technology  energy per action (power/tech_14lpp.json)
// `--config FILE` merges a JSON file into it, `--set key.path=value` one
// value. Unknown keys, wrong types and unusable values are errors naming the
// key path, the value and what is allowed.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "platform/designs.h"
#include "power/technology.h"
#include "workloads/experiment.h"
#include "workloads/numerics.h"

namespace mcasim {

class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct run_config {
  experiment_config experiment;
  platform_config platform;
  technology tech;
  network_run_config training;
};

nlohmann::json to_tree(const run_config& c);

// Overrides, in order: each --config file (JSON object), then each --set.
struct overrides {
  std::vector<std::string> files;
  std::vector<std::string> sets;  // "key.path=value"; value parsed as JSON, else a string
  bool empty() const { return files.empty() && sets.empty(); }
};

// Applies the overrides to `base` and validates the result. Throws config_error.
run_config apply(const run_config& base, const overrides& o);

// The overrides as one JSON patch (files, then --set values, merged): what
// `--config` takes back to repeat a run.
nlohmann::json overrides_patch(const overrides& o);

// Writes DIR/config.json ({"command", "seed", "effective": tree}) and
// DIR/overrides.json (the patch), atomically.
void write_run_files(const std::string& dir, const std::string& command, uint64_t seed,
                     const nlohmann::json& effective, const overrides& o);

}  // namespace mcasim
