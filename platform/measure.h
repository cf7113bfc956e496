// Frozen copies of a design's counters and stage times, and the ledger built
// from them: what table1 and platform training report.
#pragma once

#include <array>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "platform/designs.h"
#include "power/ledger.h"

namespace mcasim {

struct design_snapshot {
  struct count {
    std::string path, kind, stage, action;
    double n;
    double size = 0.0;  // the module's energy_size()
  };
  struct busy {
    std::string part, kind, stage;  // kind: the module's technology-table component
    double seconds;
  };
  struct area {
    std::string path, kind, unit;  // kind: the technology-table component
    double n;
  };
  std::vector<count> counts;
  struct layer_count {
    std::size_t layer;
    std::string path, kind, stage, action;
    double n;
    double size = 0.0;
  };
  std::vector<layer_count> layer_counts;  // the counts attributed to weight layers
  std::vector<busy> busy_times;
  std::vector<area> areas;                          // what each module puts on silicon
  std::array<pipeline_stats, k_stages> pipeline{};  // the unit's pipelined stages
  std::array<double, k_stages> stage_s{};
  std::vector<std::array<double, k_stages>> layer_s;  // digital_unit::layer_times
};

design_snapshot take_snapshot(design& d);
ledger make_ledger(const design_snapshot& snap, const technology& tech);
// Silicon area (um^2) of the snapshot's modules by technology component.
std::map<std::string, double> area_by_kind_um2(const design_snapshot& snap, const technology& tech);
// Busy seconds of the modules of one part ("computational memory", ...) in a stage.
double part_busy_s(const design_snapshot& snap, const std::string& part, stage s);
// Busy seconds of the modules of one component kind ("pwm_dac", ...) in a stage.
double kind_busy_s(const design_snapshot& snap, const std::string& kind, stage s);

// Traces a run may write (see docs/exploration.md).
struct trace_options {
  std::string timeline;          // Chrome/Perfetto trace-event JSON
  std::string vcd;               // VCD via sc_trace
  uint64_t first = 0, last = 0;  // images [first, last); last = 0: no bound
};

// Runs the simulation of `designs` with the requested traces: attaches them,
// sets the global quantum (1 us; zero with a VCD, so that simulated time
// follows every transaction), calls sc_start, closes the VCD and writes the
// timeline (energies from `tech`).
void simulate(const std::vector<design*>& designs, const trace_options& traces,
              const technology& tech);

}  // namespace mcasim
