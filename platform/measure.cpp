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

void simulate(const std::vector<design*>& designs, const trace_options& traces,
              const technology& tech) {
  timeline tl;
  if (!traces.timeline.empty()) {
    tl.set_window(traces.first, traces.last);
    for (design* d : designs) d->attach_timeline(tl);
  }
  sc_core::sc_trace_file* vcd = nullptr;
  if (!traces.vcd.empty()) {
    std::string base = traces.vcd;  // SystemC appends ".vcd"
    if (base.size() > 4 && base.compare(base.size() - 4, 4, ".vcd") == 0)
      base.resize(base.size() - 4);
    vcd = sc_core::sc_create_vcd_trace_file(base.c_str());
    vcd->set_time_unit(1, sc_core::SC_PS);
    for (design* d : designs) d->trace_vcd(vcd, traces.first, traces.last);
  }
  // Loosely timed: initiators run ahead of the kernel by up to one quantum,
  // set once, here, by the platform.
  tlm::tlm_global_quantum::instance().set(vcd ? sc_core::SC_ZERO_TIME
                                              : sc_core::sc_time(1, sc_core::SC_US));
  sc_core::sc_start();
  if (vcd) sc_core::sc_close_vcd_trace_file(vcd);
  if (!traces.timeline.empty()) {
    tl.write(traces.timeline,
             [&tech](const std::string& k, const std::string& a) { return tech.energy_pj(k, a); });
  }
}

}  // namespace mcasim
