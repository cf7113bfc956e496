// Transaction timeline in Chrome / Perfetto trace-event JSON: one track per
// module, one span per transaction with its stage, bytes and energy in the
// arguments. Viewable in Perfetto UI (ui.perfetto.dev) or chrome://tracing.
// Records only while the current image lies in the window [first, last).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace mcasim {

class timeline {
 public:
  struct span {
    int track = 0;
    std::string name, stage, kind;  // kind: technology-table component
    double size = 0;                // the module's size for the energy scaling
    double start_us = 0, dur_us = 0;
    uint64_t bytes = 0;
    std::vector<std::pair<std::string, double>> actions;  // action -> count
  };

  // Images [first, last) are recorded (last = 0: no upper bound).
  void set_window(uint64_t first, uint64_t last) {
    first_ = first;
    last_ = last;
  }
  // The image a process (a design) is working on decides whether its
  // tracks record.
  void set_image(int track, uint64_t image) {
    recording_.at(static_cast<std::size_t>(tracks_.at(track).pid - 1)) =
        image >= first_ && (last_ == 0 || image < last_);
  }
  bool recording(int track) const {
    return recording_[static_cast<std::size_t>(tracks_[track].pid - 1)];
  }

  // A named track in a named process (e.g. design "mca", module "mca.tile_0").
  int add_track(const std::string& process, const std::string& name);
  void add(span s) { spans_.push_back(std::move(s)); }
  std::size_t size() const { return spans_.size(); }

  // Writes the JSON atomically; energy_pj(kind, action, size) prices the
  // actions (a missing table entry throws).
  using pricing = std::function<double(const std::string&, const std::string&, double)>;
  void write(const std::string& path, const pricing& energy_pj) const;

 private:
  struct track {
    int pid, tid;
    std::string process, name;
  };
  std::vector<track> tracks_;
  std::vector<std::string> processes_;
  std::vector<span> spans_;
  uint64_t first_ = 0, last_ = 0;
  std::vector<bool> recording_;  // per process
};

// Parses "A:B" (images A to B-1) or "A:" (from A on); throws std::invalid_argument.
std::pair<uint64_t, uint64_t> parse_image_range(const std::string& text);

}  // namespace mcasim
