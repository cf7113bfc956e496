// Output helpers: atomic writes (temp file + rename) so a result file is
// either complete or absent, and directory creation with clear errors.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace mcasim {

class output_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Creates `dir` and its parents; throws output_error naming the directory.
void ensure_directory(const std::string& dir);
// Writes `content` to `path` through `path.tmp.<pid>`, fsync(2) and rename(2).
void write_file_atomic(const std::string& path, const std::string& content);

// The same for content produced piecewise (large files never held whole in
// memory): write() appends, commit() makes the file appear at `path`; a
// file destroyed without commit() leaves nothing behind.
class atomic_file {
 public:
  explicit atomic_file(std::string path);
  ~atomic_file();
  atomic_file(const atomic_file&) = delete;
  atomic_file& operator=(const atomic_file&) = delete;
  void write(const char* data, std::size_t n);
  void commit();
  // The final size, when known: error messages then say "N of M bytes".
  void expect_size(std::size_t n) { expected_ = n; }

 private:
  [[noreturn]] void fail(const std::string& why);
  std::string path_, tmp_;
  int fd_ = -1;
  std::size_t written_ = 0, expected_ = 0;
};

}  // namespace mcasim
