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

namespace mcasim {

class action_counters {
 public:
  explicit action_counters(std::vector<std::string> action_names)
      : names_(std::move(action_names)), counts_(names_.size()) {}

  void add(stage s, std::size_t action, double n = 1.0) {
    counts_[action][static_cast<int>(s)] += n;
  }
  void busy(stage s, const sc_core::sc_time& t) { busy_[static_cast<int>(s)] += t; }

  double count(stage s, std::size_t action) const { return counts_[action][static_cast<int>(s)]; }
  const sc_core::sc_time& busy_time(stage s) const { return busy_[static_cast<int>(s)]; }
  const std::vector<std::string>& action_names() const { return names_; }
  void clear() {
    for (auto& c : counts_) c.fill(0.0);
    for (auto& b : busy_) b = sc_core::SC_ZERO_TIME;
  }

 private:
  std::vector<std::string> names_;
  std::vector<std::array<double, k_stages>> counts_;
  std::array<sc_core::sc_time, k_stages> busy_{};
};

// Implemented by every module that owns counters, so reports can walk the
// object hierarchy and find them.
class counted {
 public:
  virtual ~counted() = default;
  virtual const action_counters& counters() const = 0;
  virtual void clear_counters() = 0;
  virtual std::string component() const = 0;  // key in the technology table
};

// Every counted module below `root` in the SystemC object hierarchy.
std::vector<counted*> counted_modules(sc_core::sc_object& root);

}  // namespace mcasim
