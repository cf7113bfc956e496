// Shared helpers for the mcasim tests: a self-deleting temporary directory,
// IDX (MNIST) file writers, a synthetic separable data set and small
// statistics.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "models/rng.h"
#include "workloads/mnist.h"

namespace mcasim::test {

// A fresh directory under the system temp directory, removed on destruction.
// The name carries the pid and the running test so parallel CTest processes
// never share one.
class temp_dir {
 public:
  temp_dir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "mcasim_test_" + std::to_string(::getpid());
    if (info) name += std::string("_") + info->test_suite_name() + "_" + info->name();
    for (char& ch : name) {
      if (ch == '/') ch = '_';
    }
    path_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline void put_be32(std::vector<unsigned char>& b, uint32_t v) {
  b.push_back(static_cast<unsigned char>(v >> 24));
  b.push_back(static_cast<unsigned char>(v >> 16));
  b.push_back(static_cast<unsigned char>(v >> 8));
  b.push_back(static_cast<unsigned char>(v));
}

// Bytes of an IDX3 unsigned-byte image file (magic 0x00000803).
inline std::vector<unsigned char> idx_images(uint32_t count, uint32_t rows, uint32_t cols,
                                             const std::vector<unsigned char>& pixels) {
  std::vector<unsigned char> b;
  put_be32(b, 0x00000803);
  put_be32(b, count);
  put_be32(b, rows);
  put_be32(b, cols);
  b.insert(b.end(), pixels.begin(), pixels.end());
  return b;
}

// Bytes of an IDX1 unsigned-byte label file (magic 0x00000801).
inline std::vector<unsigned char> idx_labels(const std::vector<unsigned char>& labels) {
  std::vector<unsigned char> b;
  put_be32(b, 0x00000801);
  put_be32(b, static_cast<uint32_t>(labels.size()));
  b.insert(b.end(), labels.begin(), labels.end());
  return b;
}

inline void write_bytes(const std::string& path, const std::vector<unsigned char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A separable 10-class problem shaped like MNIST: each class has a random
// binary prototype of 28x28 pixels; an image is its prototype with 10 % of the
// pixels flipped and a little grey noise. Pixel bytes are 0..255.
struct synthetic_images {
  std::vector<unsigned char> pixels;  // count * 784
  std::vector<unsigned char> labels;
};

inline synthetic_images make_synthetic_bytes(std::size_t count, uint64_t seed) {
  constexpr std::size_t k_pixels = 784;
  rng proto_rng(12345, 0);  // the same prototypes for every call (train and test share them)
  std::vector<std::vector<bool>> proto(10, std::vector<bool>(k_pixels));
  for (auto& p : proto) {
    for (std::size_t i = 0; i < k_pixels; ++i) p[i] = proto_rng.uniform() < 0.2;
  }
  rng r(seed, 99);
  synthetic_images s;
  s.pixels.resize(count * k_pixels);
  s.labels.resize(count);
  for (std::size_t n = 0; n < count; ++n) {
    const unsigned label = static_cast<unsigned>(n % 10);
    s.labels[n] = static_cast<unsigned char>(label);
    for (std::size_t i = 0; i < k_pixels; ++i) {
      bool on = proto[label][i];
      if (r.uniform() < 0.1) on = !on;
      const double v = (on ? 230.0 : 10.0) + 20.0 * r.normal();
      s.pixels[n * k_pixels + i] =
          static_cast<unsigned char>(std::lround(std::clamp(v, 0.0, 255.0)));
    }
  }
  return s;
}

// The same data as a dataset, pixels scaled by 1/255 as the IDX reader does.
inline dataset make_synthetic_dataset(std::size_t count, uint64_t seed) {
  const synthetic_images s = make_synthetic_bytes(count, seed);
  dataset ds;
  ds.pixels = 784;
  ds.channels = 1;
  ds.height = ds.width = 28;
  ds.labels = s.labels;
  ds.images.resize(s.pixels.size());
  for (std::size_t k = 0; k < s.pixels.size(); ++k) ds.images[k] = s.pixels[k] / 255.0f;
  return ds;
}

// Writes the four MNIST files of a synthetic data set into `dir`.
inline void write_synthetic_mnist(const std::string& dir, std::size_t train, std::size_t test) {
  const synthetic_images tr = make_synthetic_bytes(train, 1);
  const synthetic_images te = make_synthetic_bytes(test, 2);
  write_bytes(dir + "/train-images-idx3-ubyte",
              idx_images(static_cast<uint32_t>(train), 28, 28, tr.pixels));
  write_bytes(dir + "/train-labels-idx1-ubyte", idx_labels(tr.labels));
  write_bytes(dir + "/t10k-images-idx3-ubyte",
              idx_images(static_cast<uint32_t>(test), 28, 28, te.pixels));
  write_bytes(dir + "/t10k-labels-idx1-ubyte", idx_labels(te.labels));
}

// A GAN small enough for any test: 8 noise values, generator 8-16-784
// (ReLU, sigmoid), discriminator 784 -> dense 16, maxout 4 -> dense 1,
// sigmoid_cross_entropy (26,037 parameters).
inline std::string tiny_gan_json() {
  return R"({"name": "gan-tiny", "noise": 8,
    "generator": {"input": [8], "layers": [
      {"kind": "dense", "name": "g1", "units": 16}, {"kind": "relu"},
      {"kind": "dense", "name": "g2", "units": 784}, {"kind": "sigmoid"}]},
    "discriminator": {"input": [784], "layers": [
      {"kind": "dense", "name": "d1", "units": 16}, {"kind": "maxout", "pieces": 4},
      {"kind": "dense", "name": "d2", "units": 1}, {"kind": "sigmoid_cross_entropy"}]}})";
}

// Running mean and (population) variance.
struct moments {
  double n = 0, sum = 0, sum2 = 0;
  void add(double v) {
    n += 1;
    sum += v;
    sum2 += v * v;
  }
  double mean() const { return sum / n; }
  double variance() const { return std::max(0.0, sum2 / n - mean() * mean()); }
  double stddev() const { return std::sqrt(variance()); }
};

}  // namespace mcasim::test
