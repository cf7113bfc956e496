// Any network through the three designs (32-bit digital, digital mixed
// precision, MCA): its training samples run through each design's platform
// in the numerics that match it, and the ledger and SystemC time give the
// energy and time per sample and stage. `mcasim estimate` writes the result;
// `mcasim table1` is the same measurement of the paper's perceptron and
// designs with the paper's values beside it (app/table1.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/config.h"
#include "platform/designs.h"
#include "platform/mapping.h"
#include "platform/measure.h"
#include "power/technology.h"
#include "workloads/mnist.h"
#include "workloads/network_spec.h"
#include "workloads/numerics.h"

namespace mcasim {

// The designs compared, in order, and the numerics each computes in.
extern const char* const k_design_names[3];  // digital32, digital-mp, mca
numerics_kind design_numerics(const std::string& design);

// One design of a measurement: its name and run configuration.
struct design_run {
  std::string name;
  network_run_config training;
};

struct measure_options {
  std::size_t warmup = 0;       // training samples before the measured window
  std::size_t images = 1;       // measured training samples (averaged)
  std::size_t test_images = 0;  // test samples evaluated after training
  uint64_t seed = 1;
  trace_options traces;
  bool progress = false;
  std::string label = "estimate";  // of the progress line
};

struct design_measurement {
  design_snapshot snap;  // counters and stage times of the measured window
  std::size_t train_correct = 0, test_correct = 0;
  double train_wall_s = 0.0;  // wall-clock seconds of the design's training samples
};

struct measurement {
  std::vector<design_measurement> designs;  // as the runs
  double wall_s = 0.0;
};

// One elaboration of every run's design (call at most once per process):
// the same shuffled training samples (the trainer's shuffle stream) for
// each, warm-up, then the measured window (counters cleared first, frozen
// after), then the first test_images test samples.
measurement measure_designs(const platform_workload& w, const std::vector<design_run>& runs,
                            const dataset& train, const dataset& test, const platform_config& pc,
                            const technology& tech, const measure_options& opt);

// One design's report from its counters and times summed over `images`
// measured samples: per stage and in total, energy (nJ) and time (us) per
// sample ("stages"), throughput, and the energy ledger per sample. For
// "mca" also "parts" (the computational memory: the tiles and their
// converter banks, energy and busy time; the digital unit: every other
// entry and the rest of the stage, except in the update, where programming
// runs in parallel with the digital work), its "split" by block and
// "statistics"; for "digital-mp" its non-zero weight updates.
nlohmann::json design_report(const std::string& name, const design_snapshot& snap,
                             const technology& tech, std::size_t images);

// The training run's figures beside a design's report: its training wall
// time, samples per wall-clock second over the `trained` samples (warm-up
// and measured), and its accuracy over the `predictions` of the measured
// ones (a sample's count, a sequence's: one per step).
void add_training_figures(nlohmann::json& dj, const design_measurement& dm, std::size_t trained,
                          std::size_t predictions);

struct estimate_options {
  std::size_t warmup = 0;
  std::size_t images = 102;
  uint64_t seed = 1;
  std::string out_dir;
  trace_options traces;
  bool progress = false;
};

// `mcasim estimate`: the network's (or the GAN's) training samples through the three
// designs (`training` with each design's numerics), writing
// DIR/estimate.json and DIR/estimate.md: per design and stage energy and
// time per sample, the MCA's tiles by weight layer, the mapping of the
// network onto pc.tiles, throughput and the ratios between the designs.
nlohmann::json run_estimate(const platform_workload& w, const network_run_config& training,
                            const dataset& train, const technology& tech, const platform_config& pc,
                            const estimate_options& opt, const nlohmann::json& effective,
                            const overrides& o);

std::string estimate_markdown(const nlohmann::json& doc);

}  // namespace mcasim
