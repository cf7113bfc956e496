#include "util/io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>

namespace mcasim {

void ensure_directory(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir, ec)) {
    throw output_error("cannot create output directory '" + dir +
                       "': " + (ec ? ec.message() : std::string("exists and is not a directory")));
  }
}

atomic_file::atomic_file(std::string path)
    : path_(std::move(path)), tmp_(path_ + ".tmp." + std::to_string(::getpid())) {
  // POSIX calls rather than a stream: a failed write reports its reason
  // (ENOSPC: "No space left on device").
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw output_error("cannot write '" + tmp_ + "': " + std::strerror(errno));
}

atomic_file::~atomic_file() {
  if (fd_ >= 0) {
    ::close(fd_);
    std::remove(tmp_.c_str());
  }
}

void atomic_file::fail(const std::string& why) {
  ::close(fd_);
  fd_ = -1;
  std::remove(tmp_.c_str());
  const std::string of = expected_ > 0 ? " of " + std::to_string(expected_) : "";
  throw output_error("cannot write '" + path_ + "' (" + std::to_string(written_) + of +
                     " bytes written): " + why);
}

void atomic_file::write(const char* data, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd_, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(n < 0 ? std::strerror(errno) : "nothing written");
    done += static_cast<std::size_t>(n);
    written_ += static_cast<std::size_t>(n);
  }
}

void atomic_file::commit() {
  // On disk before it replaces the previous version: a crash leaves the old
  // file or the new one.
  if (::fsync(fd_) != 0 && errno != EINVAL) fail(std::strerror(errno));
  const int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp_.c_str());
    throw output_error("cannot write '" + path_ + "': " + why);
  }
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp_.c_str());
    throw output_error("cannot rename '" + tmp_ + "' to '" + path_ + "': " + why);
  }
}

void write_file_atomic(const std::string& path, const std::string& content) {
  atomic_file f(path);
  f.expect_size(content.size());
  f.write(content.data(), content.size());
  f.commit();
}

}  // namespace mcasim
