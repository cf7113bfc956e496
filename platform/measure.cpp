#include "platform/measure.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "util/io.h"

namespace mcasim {
std::map<std::string, double> area_by_kind_um2(const design_snapshot& snap,
                                               const technology& tech) {
  std::map<std::string, double> by_kind;
  for (const auto& a : snap.areas) by_kind[a.kind] += a.n * tech.area_um2(a.kind, a.unit);
  return by_kind;
}

namespace {

// Moves SystemC's VCD file into place with its $date section (the wall-clock
// time of writing) blanked, so that equal runs give equal traces.
void finish_vcd(const std::string& tmp, const std::string& path) {
  std::ifstream in(tmp, std::ios::binary);
  if (!in) throw output_error("cannot read the VCD trace '" + tmp + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  in.close();
  std::string text = ss.str();
  const std::size_t d = text.find("$date");
  const std::size_t e = d == std::string::npos ? d : text.find("$end", d);
  if (e != std::string::npos) text.replace(d, e - d, "$date\n     (not recorded)\n");
  write_file_atomic(path, text);
  std::remove(tmp.c_str());
}

}  // namespace

design_snapshot take_snapshot(design& d) {
  design_snapshot snap;
  for (counted* c : counted_modules(d)) {
    const std::string path = counted_path(*c);
    const action_counters& ac = c->counters();
    for (int si = 0; si < k_stages; ++si) {
      const stage s = static_cast<stage>(si);
      for (std::size_t a = 0; a < ac.action_names().size(); ++a) {
        const double n = ac.count(s, a);
        if (n != 0)
          snap.counts.push_back(
              {path, c->component(), stage_name(s), ac.action_names()[a], n, c->energy_size()});
      }
      snap.busy_times.push_back(
          {d.part_of(*c), c->component(), stage_name(s), ac.busy_time(s).to_seconds()});
    }
    for (std::size_t k = 0; k < ac.attributed_layers(); ++k) {
      for (int si = 0; si < k_stages; ++si) {
        for (std::size_t a = 0; a < ac.action_names().size(); ++a) {
          const double n = ac.count(k, static_cast<stage>(si), a);
          if (n != 0) {
            snap.layer_counts.push_back({k, path, c->component(),
                                         stage_name(static_cast<stage>(si)), ac.action_names()[a],
                                         n, c->energy_size()});
          }
        }
      }
    }
    for (const auto& [unit, n] : c->area_units())
      snap.areas.push_back({path, c->component(), unit, n});
  }
  for (const auto& per_stage : d.unit().layer_times()) {
    std::array<double, k_stages> s{};
    for (int si = 0; si < k_stages; ++si) s[si] = per_stage[si].to_seconds();
    snap.layer_s.push_back(s);
  }
  for (int si = 0; si < k_stages; ++si) {
    snap.stage_s[si] = d.unit().stage_time(static_cast<stage>(si)).to_seconds();
    snap.pipeline[si] = d.unit().pipeline(static_cast<stage>(si));
  }
  return snap;
}

ledger make_ledger(const design_snapshot& snap, const technology& tech) {
  ledger led(tech);
  for (const auto& c : snap.counts) led.add(c.path, c.kind, c.stage, c.action, c.n, c.size);
  return led;
}

namespace {

// Busy seconds in stage s of the modules whose `field` equals `value`.
double busy_s(const design_snapshot& snap, std::string design_snapshot::busy::*field,
              const std::string& value, stage s) {
  double sum = 0.0;
  for (const auto& b : snap.busy_times) {
    if (b.*field == value && b.stage == stage_name(s)) sum += b.seconds;
  }
  return sum;
}

}  // namespace

double part_busy_s(const design_snapshot& snap, const std::string& part, stage s) {
  return busy_s(snap, &design_snapshot::busy::part, part, s);
}

double kind_busy_s(const design_snapshot& snap, const std::string& kind, stage s) {
  return busy_s(snap, &design_snapshot::busy::kind, kind, s);
}

void simulate(const std::vector<design*>& designs, const trace_options& traces,
              const technology& tech) {
  timeline tl;
  if (!traces.timeline.empty()) {
    tl.set_window(traces.first, traces.last);
    for (design* d : designs) d->attach_timeline(tl);
  }
  sc_core::sc_trace_file* vcd = nullptr;
  std::string vcd_path = traces.vcd;
  if (!vcd_path.empty() && (vcd_path.size() < 4 || vcd_path.substr(vcd_path.size() - 4) != ".vcd"))
    vcd_path += ".vcd";
  // SystemC writes to a temporary file (it appends ".vcd" to the base name);
  // the finished trace is then moved into place.
  const std::string vcd_tmp = vcd_path + ".tmp." + std::to_string(::getpid());
  if (!vcd_path.empty()) {
    vcd = sc_core::sc_create_vcd_trace_file(vcd_tmp.c_str());
    vcd->set_time_unit(1, sc_core::SC_PS);
    for (design* d : designs) d->trace_vcd(vcd, traces.first, traces.last);
  }
  // Loosely timed: initiators run ahead of the kernel by up to one quantum,
  // set once, here, by the platform.
  tlm::tlm_global_quantum::instance().set(vcd ? sc_core::SC_ZERO_TIME
                                              : sc_core::sc_time(1, sc_core::SC_US));
  sc_core::sc_start();
  if (vcd) {
    sc_core::sc_close_vcd_trace_file(vcd);
    finish_vcd(vcd_tmp + ".vcd", vcd_path);
  }
  if (!traces.timeline.empty()) {
    tl.write(traces.timeline, [&tech](const std::string& k, const std::string& a, double size) {
      return tech.energy_pj(k, a, size);
    });
  }
}

}  // namespace mcasim
