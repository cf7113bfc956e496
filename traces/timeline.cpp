#include "traces/timeline.h"

#include <algorithm>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "util/io.h"

namespace mcasim {

int timeline::add_track(const std::string& process, const std::string& name) {
  auto p = std::find(processes_.begin(), processes_.end(), process);
  if (p == processes_.end()) {
    processes_.push_back(process);
    recording_.push_back(false);
    p = processes_.end() - 1;
  }
  const int pid = static_cast<int>(p - processes_.begin()) + 1;
  tracks_.push_back({pid, static_cast<int>(tracks_.size()) + 1, process, name});
  return static_cast<int>(tracks_.size()) - 1;
}

void timeline::write(const std::string& path, const pricing& energy_pj) const {
  nlohmann::json events = nlohmann::json::array();
  for (std::size_t p = 0; p < processes_.size(); ++p) {
    events.push_back({{"ph", "M"},
                      {"name", "process_name"},
                      {"pid", p + 1},
                      {"args", {{"name", processes_[p]}}}});
  }
  for (const auto& t : tracks_) {
    events.push_back({{"ph", "M"},
                      {"name", "thread_name"},
                      {"pid", t.pid},
                      {"tid", t.tid},
                      {"args", {{"name", t.name}}}});
  }
  for (const auto& s : spans_) {
    const track& t = tracks_.at(static_cast<std::size_t>(s.track));
    nlohmann::json args{{"stage", s.stage}, {"bytes", s.bytes}};
    double pj = 0.0;
    for (const auto& [action, count] : s.actions) {
      args["count." + action] = count;
      pj += count * energy_pj(s.kind, action, s.size);
    }
    args["energy_pj"] = pj;
    events.push_back({{"ph", "X"},
                      {"name", s.name},
                      {"cat", s.stage},
                      {"pid", t.pid},
                      {"tid", t.tid},
                      {"ts", s.start_us},
                      {"dur", s.dur_us},
                      {"args", args}});
  }
  const nlohmann::json doc{{"traceEvents", events}, {"displayTimeUnit", "ns"}};
  write_file_atomic(path, doc.dump() + "\n");
}

std::pair<uint64_t, uint64_t> parse_image_range(const std::string& text) {
  const auto colon = text.find(':');
  try {
    if (colon == std::string::npos) throw std::invalid_argument("no colon");
    std::size_t used = 0;
    const uint64_t a = colon == 0 ? 0 : std::stoull(text.substr(0, colon), &used);
    if (colon != 0 && used != colon) throw std::invalid_argument("junk");
    uint64_t b = 0;
    if (colon + 1 < text.size()) {
      b = std::stoull(text.substr(colon + 1), &used);
      if (used != text.size() - colon - 1) throw std::invalid_argument("junk");
      if (b <= a) throw std::invalid_argument("empty");
    }
    return {a, b};
  } catch (const std::exception&) {
    throw std::invalid_argument("--trace-images '" + text +
                                "': expected A:B with A < B (images A to B-1) or A: (from A on)");
  }
}

}  // namespace mcasim
