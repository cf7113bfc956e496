// Binary state of the models for checkpoints: a writer that appends
// trivially copyable values and vectors, and a reader that checks every
// length against what the object being restored already has (the object is
// rebuilt from its configuration first, then its mutable state is loaded),
// so a checkpoint of another configuration fails with a message instead of
// loading garbage. Native byte order: checkpoints resume on the machine type
// that wrote them. The writer keeps a CRC-32 of every byte it has written;
// put_checksum() appends it, and the reader's verify_checksum() refuses bytes
// whose last four do not match the CRC-32 of the rest, so a corrupted file of
// the right length is refused before its state is read.
#pragma once

#include <boost/crc.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace mcasim {

class state_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Without a sink the bytes accumulate in memory (bytes()); with one they are
// passed on in chunks of at most 1 MiB, so a large state is never held twice.
class state_writer {
 public:
  using sink = std::function<void(const char*, std::size_t)>;
  state_writer() = default;
  explicit state_writer(sink out) : out_(std::move(out)) {}

  template <class T>
  void put(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>, "raw state must be trivially copyable");
    append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  template <class T>
  void put(const std::vector<T>& v) {
    static_assert(std::is_trivially_copyable_v<T>, "raw state must be trivially copyable");
    put<uint64_t>(v.size());
    append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  void put(const std::string& s) {
    put<uint64_t>(s.size());
    append(s.data(), s.size());
  }
  // Appends the CRC-32 of every byte written so far (the file's trailer).
  void put_checksum() {
    const uint32_t c = crc_.checksum();
    put(c);
  }
  // Passes what is buffered to the sink.
  void flush() {
    if (out_ && !buf_.empty()) out_(buf_.data(), buf_.size());
    buf_.clear();
  }
  const std::string& bytes() const { return buf_; }

 private:
  static constexpr std::size_t k_chunk = std::size_t{1} << 20;
  void append(const char* p, std::size_t n) {
    if (n == 0) return;  // an empty vector's data() may be null
    crc_.process_bytes(p, n);
    if (!out_) {
      buf_.append(p, n);
      return;
    }
    if (buf_.size() + n > k_chunk) flush();
    if (n >= k_chunk) {
      out_(p, n);
    } else {
      buf_.append(p, n);
    }
  }
  sink out_;
  std::string buf_;
  boost::crc_32_type crc_;
};

class state_reader {
 public:
  // `what` names the source in error messages (e.g. the checkpoint file).
  state_reader(const std::string& bytes, std::string what)
      : buf_(bytes), what_(std::move(what)), end_(bytes.size()) {}

  // Checks that the last four bytes are the CRC-32 of all the others
  // (state_writer::put_checksum) and ends the state before them. Call it
  // once, after reading what identifies the format (so that a file of
  // another format gets that message rather than a checksum mismatch).
  void verify_checksum() {
    if (end_ != buf_.size() || end_ - pos_ < sizeof(uint32_t)) {
      fail("too short to hold a checksum");
    }
    end_ = buf_.size() - sizeof(uint32_t);
    uint32_t stored = 0;
    std::memcpy(&stored, buf_.data() + end_, sizeof stored);
    boost::crc_32_type crc;
    crc.process_bytes(buf_.data(), end_);
    if (crc.checksum() != stored) {
      char msg[160];
      std::snprintf(msg, sizeof msg,
                    "checksum mismatch (stored CRC-32 %08x, contents give %08x): the file is "
                    "corrupt or truncated",
                    static_cast<unsigned>(stored), static_cast<unsigned>(crc.checksum()));
      throw state_error(what_ + ": " + msg);
    }
  }

  template <class T>
  void get(T& v, const char* field) {
    static_assert(std::is_trivially_copyable_v<T>, "raw state must be trivially copyable");
    need(sizeof v, field);
    std::memcpy(&v, buf_.data() + pos_, sizeof v);
    pos_ += sizeof v;
  }
  // Reads a vector whose length must equal v.size() (the restored object's
  // shape); `resizable` accepts any length that fits in the remaining bytes.
  template <class T>
  void get(std::vector<T>& v, const char* field, bool resizable = false) {
    static_assert(std::is_trivially_copyable_v<T>, "raw state must be trivially copyable");
    uint64_t n = 0;
    get(n, field);
    if (!resizable && n != v.size()) {
      fail(std::string(field) + " has " + std::to_string(n) + " entries, the model " +
           std::to_string(v.size()) + " (a checkpoint of another configuration?)");
    }
    if (n > (end_ - pos_) / sizeof(T)) need(n * sizeof(T), field);
    v.resize(static_cast<std::size_t>(n));
    if (n > 0) std::memcpy(v.data(), buf_.data() + pos_, v.size() * sizeof(T));
    pos_ += v.size() * sizeof(T);
  }
  void get(std::string& s, const char* field) {
    uint64_t n = 0;
    get(n, field);
    need(n, field);
    s.assign(buf_.data() + pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
  }
  // Throws unless a value read back equals the one the model was built with.
  template <class T>
  void expect(const T& want, const char* field) {
    T got{};
    get(got, field);
    if (std::memcmp(&got, &want, sizeof(T)) != 0) {
      fail(std::string(field) + " differs from the configuration being resumed");
    }
  }
  bool done() const { return pos_ == end_; }
  [[noreturn]] void fail(const std::string& msg) const {
    throw state_error(what_ + ": " + msg + " (at byte " + std::to_string(pos_) + ")");
  }

 private:
  void need(uint64_t n, const char* field) const {
    if (n > end_ - pos_) fail(std::string("truncated while reading ") + field);
  }
  const std::string& buf_;
  std::string what_;
  std::size_t end_;  // end of the state (before the checksum, if any)
  std::size_t pos_ = 0;
};

}  // namespace mcasim
