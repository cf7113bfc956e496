#include "power/ledger.h"

namespace mcasim {

void ledger::add(const std::string& component, const std::string& kind, const std::string& stage,
                 const std::string& action, double count, double size) {
  const double per = tech_->energy_pj(kind, action, size);
  entries_.push_back({component, kind, stage, action, count, count * per});
}

double ledger::energy_pj(const std::string& stage, const std::string& kind,
                         const std::string& component_prefix) const {
  double sum = 0.0;
  for (const auto& e : entries_) {
    if (!stage.empty() && e.stage != stage) continue;
    if (!kind.empty() && e.kind != kind) continue;
    if (e.component.compare(0, component_prefix.size(), component_prefix) != 0) continue;
    sum += e.energy_pj;
  }
  return sum;
}

double ledger::count(const std::string& kind, const std::string& action,
                     const std::string& stage) const {
  double sum = 0.0;
  for (const auto& e : entries_) {
    if (e.kind == kind && e.action == action && (stage.empty() || e.stage == stage)) sum += e.count;
  }
  return sum;
}

}  // namespace mcasim
