// Per-module action counters, tagged by stage, plus the busy time a module
// spent per stage. Modules bump them in b_transport; power/ turns counts into
// energy with the technology table.
#pragma once

#include <array>
#include <functional>
#include <string>
#include <vector>

#include <systemc>

#include "platform/payload.h"
#include "traces/timeline.h"

namespace mcasim {

class action_counters {
 public:
  explicit action_counters(std::vector<std::string> action_names)
      : names_(std::move(action_names)), counts_(names_.size()) {}

  void add(stage s, std::size_t action, double n = 1.0) {
    counts_[action][static_cast<int>(s)] += n;
    if (layer_ != nullptr && *layer_ >= 0) {
      const auto k = static_cast<std::size_t>(*layer_);
      if (per_layer_.size() <= k) {
        per_layer_.resize(k + 1, std::vector<std::array<double, k_stages>>(names_.size()));
      }
      per_layer_[k][action][static_cast<int>(s)] += n;
    }
  }
  // Attribution: while *layer >= 0 (the design's current weight layer,
  // digital_unit::current_layer), every count also goes to that layer.
  void attribute_to(const int* layer) { layer_ = layer; }
  // The counts attributed to weight layer k (0 when none).
  double count(std::size_t k, stage s, std::size_t action) const {
    return k < per_layer_.size() ? per_layer_[k][action][static_cast<int>(s)] : 0.0;
  }
  std::size_t attributed_layers() const { return per_layer_.size(); }
  void busy(stage s, const sc_core::sc_time& t) { busy_[static_cast<int>(s)] += t; }

  double count(stage s, std::size_t action) const { return counts_[action][static_cast<int>(s)]; }
  const sc_core::sc_time& busy_time(stage s) const { return busy_[static_cast<int>(s)]; }
  const std::vector<std::string>& action_names() const { return names_; }
  // Stable reference for sc_trace (the storage never moves).
  const double& count_ref(stage s, std::size_t action) const {
    return counts_[action][static_cast<int>(s)];
  }
  void clear() {
    for (auto& c : counts_) c.fill(0.0);
    for (auto& b : busy_) b = sc_core::SC_ZERO_TIME;
    per_layer_.clear();
  }

 private:
  std::vector<std::string> names_;
  std::vector<std::array<double, k_stages>> counts_;
  std::array<sc_core::sc_time, k_stages> busy_{};
  const int* layer_ = nullptr;
  std::vector<std::vector<std::array<double, k_stages>>> per_layer_;  // [layer][action][stage]
};

// Implemented by every module that owns counters, so reports can walk the
// object hierarchy and find them.
class counted {
 public:
  virtual ~counted() = default;
  // Transaction spans go to `tl` on track `track` (null: not traced).
  void attach_timeline(timeline* tl, int track) {
    timeline_ = tl;
    track_ = track;
  }
  bool tracing() const { return timeline_ != nullptr && timeline_->recording(track_); }
  timeline* attached_timeline() const { return timeline_; }
  int timeline_track() const { return track_; }
  // Records one span: its start (global time + the initiator's offset), its
  // duration, and the actions it performed.
  void trace_span(const char* name, stage s, const sc_core::sc_time& start,
                  const sc_core::sc_time& dur, uint64_t bytes,
                  std::vector<std::pair<std::string, double>> actions) {
    timeline_->add({track_, name, stage_name(s), component(), energy_size(),
                    start.to_seconds() * 1e6, dur.to_seconds() * 1e6, bytes, std::move(actions)});
  }
  virtual const action_counters& counters() const = 0;
  virtual action_counters& counters() = 0;
  virtual void clear_counters() = 0;
  virtual std::string component() const = 0;  // key in the technology table
  // What the module puts on silicon, as (unit, how many): priced by the
  // technology table's area per unit (area_um2.<component>.<unit>). None by
  // default (modules whose area is not modelled).
  virtual std::vector<std::pair<std::string, double>> area_units() const { return {}; }
  // The module's size for its component's energy scaling in the technology
  // table (energy_scaling; an SRAM: KiB per bank). 0: none.
  virtual double energy_size() const { return 0.0; }

 private:
  timeline* timeline_ = nullptr;
  int track_ = -1;
};

// Every counted module below `root` in the SystemC object hierarchy.
std::vector<counted*> counted_modules(sc_core::sc_object& root);
// Hierarchical name of a counted module (its component kind if it is not a
// SystemC object).
std::string counted_path(const counted& c);

}  // namespace mcasim
