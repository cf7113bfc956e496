// Energy ledger: component x stage x action -> count and energy
// (count x technology energy per action). Built from module counters.
#pragma once

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "power/technology.h"

namespace mcasim {

struct ledger_entry {
  std::string component;  // instance path, e.g. "mca.tile1"
  std::string kind;       // technology-table component, e.g. "crossbar"
  std::string stage;
  std::string action;
  double count = 0.0;
  double energy_pj = 0.0;
};

class ledger {
 public:
  explicit ledger(const technology& tech) : tech_(&tech) {}
  // Adds `count` actions; looks the energy up at once (missing entry throws).
  // `size`: the module's size for the technology's energy scaling (0: none).
  void add(const std::string& component, const std::string& kind, const std::string& stage,
           const std::string& action, double count, double size = 0.0);
  const std::vector<ledger_entry>& entries() const { return entries_; }
  // Sum of energy over entries matching the filters ("" matches all).
  double energy_pj(const std::string& stage = "", const std::string& kind = "",
                   const std::string& component_prefix = "") const;
  double count(const std::string& kind, const std::string& action,
               const std::string& stage = "") const;

 private:
  const technology* tech_;
  std::vector<ledger_entry> entries_;
};

}  // namespace mcasim
