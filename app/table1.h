// The Table I reproduction: the Table I workload through the three designs,
// energy and time per image and stage from the ledger and SystemC time, next
// to the paper's values.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "app/config.h"
#include "platform/designs.h"
#include "platform/measure.h"
#include "power/technology.h"
#include "workloads/mnist.h"

namespace mcasim {

struct table1_options {
  std::size_t warmup = 10000;   // images trained before the measured window
  std::size_t images = 10000;   // measured images (averaged)
  std::size_t test_images = 0;  // test images evaluated after training (0 = all)
  std::size_t hidden = 250;
  double learning_rate = 0.0;  // 0 = the preset's
  uint64_t seed = 1;
  std::string out_dir;
  trace_options traces;
  bool progress = false;
};

// Runs the simulation (one elaboration, three designs) and writes
// DIR/table1.json and DIR/table1.md. Call at most once per process.
// `o` is applied to each design's experiment preset (after --hidden and
// --learning-rate); `pc` and `tech` are the effective platform and table.
nlohmann::json run_table1(const mnist& data, const technology& tech, const table1_options& opt,
                          const platform_config& pc = platform_config(),
                          const overrides& o = overrides());

// The assembly of the report, a pure function of measured numbers (no
// simulation): one design's part of table1.json ("digital32", "digital-mp"
// or "mca") from its counters and times summed over `images` measured
// images. Energies are the ledger of `snap` under `tech`, per image, in nJ;
// times are the stage times, per image, in us; each stage and the total sit
// next to the paper's value with the deviation in percent. For "mca" also
// "parts": "computational memory" is the entries of the tiles and their
// converter banks (cm_tile, pwm_dac, adc_bank; energy) and the busy time of
// the modules of that part, with "split": per stage, its energy by block
// (pwm_nj, crossbar_read_nj, adc_nj, programming_nj); "digital unit" is every other
// entry and the rest of the stage, except in the update, where programming
// runs in parallel with the digital work and the digital unit's time is the
// whole stage. Plus "statistics", "throughput_images_per_s" and "ledger".
nlohmann::json table1_design_report(const std::string& name, const design_snapshot& snap,
                                    const technology& tech, std::size_t images);
// The headline ratios ({value, paper, dev_pct}) from the "designs" object of
// table1.json (each with "stages" as table1_design_report gives them).
nlohmann::json table1_ratios(const nlohmann::json& designs);

// Markdown rendering of a table1.json document.
std::string table1_markdown(const nlohmann::json& doc);

}  // namespace mcasim
