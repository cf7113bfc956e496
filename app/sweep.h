// Parameter sweeps: a SPEC (JSON) names the command to run per point, its
// options, a base configuration and the parameters to vary; every point runs
// as a child `mcasim` process with its own result directory. Resumable (a
// finished point is never run again; a killed sweep loses at most the points
// in flight) and parallel on local cores. Results: DIR/results.csv and
// DIR/results.json, with Pareto fronts (energy per image vs test accuracy,
// time per image vs test accuracy).
//
// SPEC:
//   {
//     "command": "table1",                      // or "train", "estimate"
//     "args": ["--images", "2000"],             // options for every point
//     "base": {"experiment": {...}},            // optional configuration patch
//     "grid": {"experiment.mca.adc_forward.bits": [4, 5, 6, 7, 8]},
//     "zip": {"experiment.mca.chi.eps_p": [0.048, 0.096],
//             "experiment.mca.chi.eps_d": [0.048, 0.096]},
//     "seed": 1                                 // or [1, 2, 3], or a range
//   }
// "base" may also name a configuration file (relative to the spec's folder),
// or list files and patches merged in order, later ones winning:
//   "base": ["cnn-cifar10.json", {"training": {"epochs": 3}}]
// A value list may also be {"range": [start, stop, step]} (stop included).
// A grid value that is an object sets several keys in one step, e.g.
//   "grid": {"adc": [{"experiment.mca.adc_forward.bits": 4,
//                     "experiment.mca.adc_backward.bits": 4}, ...]}
// Points: every combination of the grid lists, times the rows of the zip
// lists (which must have equal lengths), times the seeds. The seed varies
// slowest, so the points of the first seed keep the ids a one-seed sweep
// gives them; with several seeds, the results also summarise every metric
// over the seeds of each parameter set (mean, sample standard deviation,
// minimum, maximum).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mcasim {

// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
struct sweep_point {
  std::string id;
  nlohmann::json values;  // key.path -> value
  uint64_t seed = 1;
};

struct sweep_spec {
  std::string command;
  std::vector<std::string> args;
  nlohmann::json base = nlohmann::json::object();
  std::vector<sweep_point> points;
  std::vector<uint64_t> seeds{1};
};

// A SPEC the sweep cannot run; the message names the file, the key and what
// is allowed.
class sweep_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Throws sweep_error.
sweep_spec load_sweep_spec(const std::string& path);

struct sweep_options {
  std::string out_dir;
  int jobs = 1;
  bool progress = false;
  std::string exe;  // the mcasim binary
  // Restrict to points whose index % stride == offset (MPI ranks).
  int stride = 1, offset = 0;
  // Points known to be done elsewhere (MPI: rank 0's view), by index.
  std::vector<char> known_done;
};

// Runs the missing points; returns the number of failed points.
int run_sweep(const sweep_spec& spec, const sweep_options& opt);
// Collects every point's results into DIR/results.csv and DIR/results.json.
nlohmann::json collect_sweep(const sweep_spec& spec, const std::string& out_dir);

}  // namespace mcasim
