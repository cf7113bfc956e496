// A one-line progress indicator with rate and ETA, drawn on stderr only when
// stderr is a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace mcasim {

class progress {
 public:
  progress(std::string label, uint64_t total, bool enabled);
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
  clock::time_point start_, last_;
};

std::string format_duration(double seconds);

}  // namespace mcasim
