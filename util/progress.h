// Progress with rate and ETA on stderr: a redrawn line on a terminal, a plain
// line every 10 seconds otherwise (logs, CI), nothing when disabled.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace mcasim {

class progress {
 public:
  progress(std::string label, uint64_t total, bool enabled);
  // For commands: enabled unless --quiet; the style follows the terminal.
  ~progress();
  void update(uint64_t done, const std::string& note = "");
  void finish();
  static bool stderr_is_terminal();

 private:
  using clock = std::chrono::steady_clock;
  std::string label_;
  uint64_t total_;
  bool enabled_;
  bool drawn_ = false;
  bool terminal_;
  clock::time_point start_, last_;
};

std::string format_duration(double seconds);

}  // namespace mcasim
