// Output helpers: atomic writes (temp file + rename) so a result file is
// either complete or absent, and directory creation with clear errors.
#pragma once

#include <stdexcept>
#include <string>

namespace mcasim {

class output_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Creates `dir` and its parents; throws output_error naming the directory.
void ensure_directory(const std::string& dir);
// Writes `content` to `path` through `path.tmp.<pid>` and rename(2).
void write_file_atomic(const std::string& path, const std::string& content);

}  // namespace mcasim
