// A trained network kept as a file (DIR/network.bin of a training run): its
// description, its weights and what the run measured. A GAN's Frechet
// distance takes the features of such a classifier.
//
// Layout: magic "MCASIMNW", format, the metadata JSON (network, numerics,
// seed, epochs, test accuracy, ...), then per weight layer rows, cols and
// the rows x cols weights (fp32, row-major; mca: the conductances' weights
// at the end of training), then a CRC-32. Written atomically.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workloads/model.h"
#include "workloads/network_spec.h"

namespace mcasim {

void write_trained_network(const std::string& path, const model& m, const nlohmann::json& meta);

// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
struct trained_network {
  std::string path;
  network_spec net;
  nlohmann::json meta;  // includes "network"
  std::vector<std::vector<float>> weights;
};
// Throws state_error naming the file (missing, truncated, foreign, corrupt).
trained_network read_trained_network(const std::string& path);

// A table of the file's weight layers (name, rows x cols, |w| at the median,
// 90th and 99th percentile, the largest |w|, the mean and the standard
// deviation), headed by the run's numerics, seed and test accuracy: the
// range and resolution the layers' weights took, to set a mapping by.
std::string weights_summary(const trained_network& t);

// The features of a trained classifier: what its last weight layer takes
// as input (the penultimate layer's outputs, dropout off), computed in fp32.
class feature_extractor {
 public:
  explicit feature_extractor(const trained_network& t, int threads = 1);
  ~feature_extractor();
  std::size_t dim() const { return dim_; }
  std::size_t input_size() const { return net_.input.size(); }
  // n samples in, n x dim() features out.
  std::vector<float> features(const float* x, std::size_t n);
  // Path, network name, feature layer, test accuracy (for metrics).
  nlohmann::json describe() const { return info_; }

 private:
  network_spec net_;
  std::unique_ptr<model> m_;
  std::size_t layers_ = 0, dim_ = 0;
  nlohmann::json info_;
};

}  // namespace mcasim
