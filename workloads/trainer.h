// Training loop: epochs of shuffled SGD (batch 1) through a network machine,
// evaluation on the training and test sets, traces of chosen synapses,
// inference after drift. Writes DIR/metrics.json and, for PCM machines,
// DIR/synapses.csv (Fig. 3b).
//
// Nothing is lost: DIR/checkpoint.bin (machine state, chi, every random
// stream, the shuffle order, metrics so far) is written atomically after
// every epoch and when a stop is requested (SIGINT/SIGTERM in the command
// line), which takes effect before the next training image. Resuming from it
// finishes with results identical to an uninterrupted run (wall-clock fields
// aside).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workloads/experiment.h"
#include "workloads/mnist.h"

namespace mcasim {

struct train_options {
  int epochs = 30;
  uint64_t seed = 1;
  std::string out_dir;
  bool progress = false;
  bool eval_train = true;        // accuracy on the whole training set after each epoch
  int traced_synapses = 5;       // layer-2 synapses whose conductances are traced
  int trace_every_images = 100;  // trace sampling period
  std::vector<double> drift_times_s{1.0, 3600.0, 86400.0, 604800.0, 2592000.0};
  bool checkpoint = true;  // DIR/checkpoint.bin after every epoch
  bool resume = false;     // continue from DIR/checkpoint.bin
  // Where the data came from (the command's --data and limits), kept in the
  // checkpoint so that a resume loads the same data.
  nlohmann::json source = nlohmann::json::object();
  // Asked before every training image; true stops the run there with a
  // checkpoint (the command line answers SIGINT/SIGTERM through it).
  std::function<bool()> stop;
};

// Runs the training (or resumes it, opt.resume); returns the metrics document
// that it also wrote. A stopped run returns it with "status": "interrupted".
nlohmann::json run_training(const experiment_config& cfg, const dataset& train, const dataset& test,
                            const train_options& opt);

// The run description stored in DIR/checkpoint.bin: "experiment" (the
// configuration), "seed", "epochs", "source" and the training options.
// Throws state_error (missing, truncated or foreign file).
nlohmann::json read_checkpoint_run(const std::string& dir);
// Options of a resumed run from that description (out_dir = dir, resume = true).
train_options resume_options(const nlohmann::json& run, const std::string& dir);

std::string checkpoint_path(const std::string& dir);

}  // namespace mcasim
