// The training loop, one for every run: epochs of shuffled mini-batches
// (with augmentation) through a trainable machine (workloads/trainable.h),
// a learning-rate schedule, evaluation on the training and test sets, traces
// of chosen synapses, inference after drift. Writes DIR/metrics.json and,
// for PCM machines with a traced array, DIR/synapses.csv (Fig. 3b). A loss
// that becomes NaN or infinite ends the run with training_error naming the
// epoch and batch.
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
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workloads/experiment.h"
#include "workloads/mnist.h"
#include "workloads/numerics.h"
#include "workloads/trainable.h"

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
  // Asked before every training batch; true stops the run there with a
  // checkpoint (the command line answers SIGINT/SIGTERM through it).
  std::function<bool()> stop;
  std::size_t eval_batch = 500;  // samples per evaluation batch
};

// A loss that became NaN or infinite (the run stops; metrics.json says so).
class training_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What a kind of run gives the loop besides the machine.
// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
struct loop_setup {
  std::string label;                    // progress and log prefix
  nlohmann::json run;                   // run description entries (checkpointed)
  std::vector<std::string> must_match;  // entries of `run` a resume must find unchanged
  nlohmann::json doc;                   // first entries of metrics.json
  std::size_t batch = 1;
  double learning_rate = 0.0;  // of epoch 1; the schedule scales it
  lr_schedule schedule;
  augment_config augment;
  double image_period_s = 0.1;  // simulated device time per training sample
  // A validation split evaluated after every epoch (valid_* fields), if any.
  const dataset* valid = nullptr;
  // A language model: every evaluated loss also in bits per symbol (*_bpc:
  // the mean cross-entropy per step over ln 2).
  bool bits_per_symbol = false;
  // A loss that becomes NaN or infinite is a result (a GAN's divergence):
  // the run ends with status "diverged" and the message in "error" instead
  // of throwing training_error.
  bool divergence_is_result = false;
};

// Learning rate of epoch e (1-based).
double scheduled_rate(double lr, const lr_schedule& s, int epoch);

// Samples order[0..) of `ds` in that order as a data set of their own, each
// augmented as training augments it (`a`, the run's augmentation stream of
// `seed`), e.g. to feed the same samples to several hardware designs.
dataset prepared_samples(const dataset& ds, const std::vector<std::size_t>& order,
                         const augment_config& a, uint64_t seed);

// Runs (or resumes, opt.resume) the training of `machine`, built by the
// caller from the configuration and seed; returns the metrics document that
// it also wrote ("status": "complete", "interrupted", or "diverged" with
// setup.divergence_is_result).
nlohmann::json train_loop(trainable& machine, const loop_setup& setup, const dataset& train,
                          const dataset& test, const train_options& opt);

// The run description stored in DIR/checkpoint.bin: "experiment" (the
// configuration; network runs: "network" and "numerics"), "seed", "epochs",
// "source" and the training options.
// Throws state_error (missing, truncated or foreign file).
nlohmann::json read_checkpoint_run(const std::string& dir);
// Options of a resumed run from that description (out_dir = dir, resume = true).
train_options resume_options(const nlohmann::json& run, const std::string& dir);

std::string checkpoint_path(const std::string& dir);

}  // namespace mcasim
