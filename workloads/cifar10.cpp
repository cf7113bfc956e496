#include "workloads/cifar10.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>

namespace mcasim {
namespace {

// A dataset with CIFAR-10's image shape and no images yet.
dataset empty_cifar10() {
  dataset ds;
  ds.channels = k_cifar10_channels;
  ds.height = k_cifar10_height;
  ds.width = k_cifar10_width;
  ds.pixels = k_cifar10_pixels;
  return ds;
}

// Refuses a batch of `size` bytes that is empty or not whole records.
void check_size(const std::string& name, uint64_t size) {
  if (size == 0) throw data_error(name + ": empty file (no CIFAR-10 records)");
  if (size % k_cifar10_record != 0) {
    throw data_error(name + ": size " + std::to_string(size) + " bytes is not a multiple of the " +
                     std::to_string(k_cifar10_record) + "-byte CIFAR-10 record (1 label byte + " +
                     std::to_string(k_cifar10_pixels) + " pixel bytes)");
  }
}

// Appends `count` whole records at `data` to `ds`; `first` is the index in
// the file of the first of them (for messages).
void append_records(const std::string& name, const unsigned char* data, std::size_t count,
                    std::size_t first, dataset& ds) {
  const std::size_t base = ds.size();
  ds.labels.resize(base + count);
  ds.images.resize((base + count) * k_cifar10_pixels);
  for (std::size_t i = 0; i < count; ++i) {
    const unsigned char* rec = data + i * k_cifar10_record;
    if (rec[0] > 9) {
      throw data_error(name + ": record " + std::to_string(first + i) + " has label " +
                       std::to_string(rec[0]) + ", outside 0..9");
    }
    ds.labels[base + i] = rec[0];
    float* out = &ds.images[(base + i) * k_cifar10_pixels];
    for (std::size_t k = 0; k < k_cifar10_pixels; ++k) out[k] = rec[1 + k] / 255.0f;
  }
}

struct file_closer {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// Appends at most `most` records of one batch file to `ds`; returns how many.
std::size_t read_batch(const std::string& path, std::size_t most, dataset& ds) {
  std::unique_ptr<std::FILE, file_closer> f(std::fopen(path.c_str(), "rb"));
  if (!f) throw data_error(path + ": cannot open (" + std::strerror(errno) + ")");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw data_error(path + ": not a regular file");
  }
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) throw data_error(path + ": cannot determine the file size (" + ec.message() + ")");
  check_size(path, size);
  const auto n = static_cast<std::size_t>(std::min<uint64_t>(size / k_cifar10_record, most));
  // A block of records at a time: only the records kept are read.
  constexpr std::size_t k_block = 1024;
  std::vector<unsigned char> buf(std::min(n, k_block) * k_cifar10_record);
  for (std::size_t done = 0; done < n;) {
    const std::size_t count = std::min(n - done, k_block);
    const std::size_t bytes = count * k_cifar10_record;
    if (std::fread(buf.data(), 1, bytes, f.get()) != bytes) {
      throw data_error(
          path + ": read error at record " + std::to_string(done) + " (" +
          (std::ferror(f.get()) ? std::strerror(errno) : "file shorter than its size") + ")");
    }
    append_records(path, buf.data(), count, done, ds);
    done += count;
  }
  return n;
}

}  // namespace

dataset parse_cifar10_batch(const std::string& name, const std::vector<unsigned char>& bytes,
                            std::size_t limit) {
  check_size(name, bytes.size());
  std::size_t n = bytes.size() / k_cifar10_record;
  if (limit > 0 && limit < n) n = limit;
  dataset ds = empty_cifar10();
  ds.labels.reserve(n);
  ds.images.reserve(n * k_cifar10_pixels);
  append_records(name, bytes.data(), n, 0, ds);
  return ds;
}

dataset read_cifar10_batches(const std::vector<std::string>& paths, std::size_t limit) {
  // Room for what the files promise (capped by the limit), so the images are
  // not copied as they grow; the files are checked when they are read.
  std::size_t expected = 0;
  for (const auto& p : paths) {
    std::error_code ec;
    const uint64_t size = std::filesystem::file_size(p, ec);
    if (!ec) expected += static_cast<std::size_t>(size / k_cifar10_record);
  }
  if (limit > 0) expected = std::min(expected, limit);
  dataset ds = empty_cifar10();
  ds.labels.reserve(expected);
  ds.images.reserve(expected * k_cifar10_pixels);
  std::size_t remaining = limit > 0 ? limit : std::numeric_limits<std::size_t>::max();
  for (const auto& p : paths) {
    if (remaining == 0) break;  // the files after the limit are not opened
    remaining -= read_batch(p, remaining, ds);
  }
  return ds;
}

cifar10 load_cifar10(const std::string& dir, std::size_t train_limit, std::size_t test_limit) {
  std::vector<std::string> train;
  for (int i = 1; i <= 5; ++i) train.push_back(dir + "/data_batch_" + std::to_string(i) + ".bin");
  cifar10 c;
  c.train = read_cifar10_batches(train, train_limit);
  c.test = read_cifar10_batches({dir + "/test_batch.bin"}, test_limit);
  return c;
}

}  // namespace mcasim
