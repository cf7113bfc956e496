#include "util/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace mcasim {

std::string format_duration(double s) {
  char buf[32];
  const long t = std::lround(s);
  if (t >= 3600) {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  } else if (t >= 60) {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lds", t);
  }
  return buf;
}

bool progress::stderr_is_terminal() {
  return ::isatty(STDERR_FILENO) == 1;
}

progress::progress(std::string label, uint64_t total, bool enabled)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled),
      terminal_(stderr_is_terminal()),
      start_(clock::now()),
      last_(clock::now()) {}

progress::~progress() {
  finish();
}

void progress::update(uint64_t done, const std::string& note) {
  if (!enabled_) return;
  const auto now = clock::now();
  const auto every = terminal_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(10000);
  if (now - last_ < every && (drawn_ || !terminal_) && done < total_) return;
  last_ = now;
  drawn_ = terminal_;
  const double el = std::chrono::duration<double>(now - start_).count();
  const double rate = el > 0 ? done / el : 0.0;
  const double eta = rate > 0 ? (total_ - done) / rate : 0.0;
  std::fprintf(stderr,
               terminal_ ? "\r\033[K%s %5.1f%% %llu/%llu  %.0f/s  ETA %s %s"
                         : "%s %5.1f%% %llu/%llu  %.0f/s  ETA %s %s\n",
               label_.c_str(), total_ ? 100.0 * done / total_ : 100.0,
               static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_), rate,
               format_duration(eta).c_str(), note.c_str());
  std::fflush(stderr);
}

void progress::finish() {
  if (enabled_ && drawn_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    drawn_ = false;
  }
}

}  // namespace mcasim
