#include "platform/measure.h"

namespace mcasim {

design_snapshot take_snapshot(design& d) {
  design_snapshot snap;
  for (counted* c : counted_modules(d)) {
    const auto* obj = dynamic_cast<const sc_core::sc_object*>(c);
    const std::string path = obj ? obj->name() : c->component();
    const action_counters& ac = c->counters();
    for (int si = 0; si < k_stages; ++si) {
      const stage s = static_cast<stage>(si);
      for (std::size_t a = 0; a < ac.action_names().size(); ++a) {
        const double n = ac.count(s, a);
        if (n != 0)
          snap.counts.push_back({path, c->component(), stage_name(s), ac.action_names()[a], n});
      }
      snap.busy_times.push_back({d.part_of(*c), stage_name(s), ac.busy_time(s).to_seconds()});
    }
  }
  for (int si = 0; si < k_stages; ++si) {
    snap.stage_s[si] = d.unit().stage_time(static_cast<stage>(si)).to_seconds();
  }
  return snap;
}

ledger make_ledger(const design_snapshot& snap, const technology& tech) {
  ledger led(tech);
  for (const auto& c : snap.counts) led.add(c.path, c.kind, c.stage, c.action, c.n);
  return led;
}

double part_busy_s(const design_snapshot& snap, const std::string& part, stage s) {
  double sum = 0.0;
  for (const auto& b : snap.busy_times) {
    if (b.part == part && b.stage == stage_name(s)) sum += b.seconds;
  }
  return sum;
}

}  // namespace mcasim
