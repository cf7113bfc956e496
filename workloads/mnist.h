// MNIST in the original IDX format (LeCun et al.): images as floats in [0, 1].
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

struct dataset {
  std::size_t pixels = 0;       // per image (rows * cols)
  std::vector<float> images;    // size() * pixels, normalised to [0, 1]
  std::vector<uint8_t> labels;  // 0..9
  std::size_t size() const { return labels.size(); }
  const float* image(std::size_t i) const { return &images[i * pixels]; }
};

// Reads an IDX3 image file and an IDX1 label file; keeps the first `limit`
// pairs (0 = all). Throws data_error.
dataset read_idx_pair(const std::string& images_path, const std::string& labels_path,
                      std::size_t limit = 0);
// The same from file contents in memory; the names stand for the files in
// messages. read_idx_pair reads both files and calls this.
dataset parse_idx_pair(const std::string& images_name, const std::vector<unsigned char>& images,
                       const std::string& labels_name, const std::vector<unsigned char>& labels,
                       std::size_t limit = 0);

struct mnist {
  dataset train, test;
};

// Loads the four standard files from `dir` (train-images-idx3-ubyte, ...).
mnist load_mnist(const std::string& dir, std::size_t train_limit = 0, std::size_t test_limit = 0);

}  // namespace mcasim
