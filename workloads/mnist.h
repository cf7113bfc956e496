// MNIST in the original IDX format (LeCun et al.), plain or gzipped (as
// Fashion-MNIST ships): images as floats in [0, 1].
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace mcasim {

// Raised for missing, truncated or malformed data files; the message names
// the file and the problem.
class data_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Images with their shape: pixels == channels * height * width, each image
// stored channel plane by channel plane, rows row-major within a plane (CHW).
// A sequence data set (text) holds sequences of `targets` steps: a value
// and a label per step.
struct dataset {
  std::size_t pixels = 0;  // per image (channels * height * width)
  std::size_t channels = 1, height = 0, width = 0;
  std::size_t targets = 1;      // labels per sample
  std::vector<float> images;    // size() * pixels, normalised to [0, 1]
  std::vector<uint8_t> labels;  // size() * targets (images: 0..9)
  std::size_t size() const { return labels.size() / targets; }
  const float* image(std::size_t i) const { return &images[i * pixels]; }
  const uint8_t* label(std::size_t i) const { return &labels[i * targets]; }
};

// Reads an IDX3 image file and an IDX1 label file; keeps the first `limit`
// pairs (0 = all). A path ending in ".gz" is a gzip file, decompressed in
// memory (read_gzip). Throws data_error.
dataset read_idx_pair(const std::string& images_path, const std::string& labels_path,
                      std::size_t limit = 0);
// The same from file contents in memory; the names stand for the files in
// messages. read_idx_pair reads both files and calls this.
dataset parse_idx_pair(const std::string& images_name, const std::vector<unsigned char>& images,
                       const std::string& labels_name, const std::vector<unsigned char>& labels,
                       std::size_t limit = 0);

// The most a gzipped file may decompress to (1 GiB).
constexpr std::size_t k_max_gunzipped_bytes = std::size_t{1} << 30;

// The decompressed contents of a gzip file (several members are read one
// after the other). Throws data_error naming the file for a missing or
// unreadable file, a corrupt stream (with zlib's message), a stream cut short
// and contents larger than `max_bytes`.
std::vector<unsigned char> read_gzip(const std::string& path,
                                     std::size_t max_bytes = k_max_gunzipped_bytes);

struct mnist {
  dataset train, test;
};

// Loads the four standard files from `dir` (train-images-idx3-ubyte, ...);
// where a file is absent but FILE.gz is present, that one is read.
mnist load_mnist(const std::string& dir, std::size_t train_limit = 0, std::size_t test_limit = 0);

// Where Debian's dataset-fashion-mnist installs Fashion-MNIST.
constexpr const char* k_fashion_mnist_dir = "/usr/share/datasets/fashion-mnist";

// Fashion-MNIST (Xiao et al. 2017): MNIST's four files and format, gzipped.
mnist load_fashion_mnist(const std::string& dir = k_fashion_mnist_dir, std::size_t train_limit = 0,
                         std::size_t test_limit = 0);

}  // namespace mcasim
