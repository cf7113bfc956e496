// MNIST for the whole-image benchmarks: data/mnist of the source tree, or
// MCASIM_DATA. When the files are missing the benchmarks that need them skip
// with a message naming the directory (scripts/setup.sh --mnist fetches them).
// The CNN benchmarks' fixed batch and training configuration.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <string>

#include "models/rng.h"
#include "workloads/mnist.h"
#include "workloads/numerics.h"

namespace mcasim_bench {

inline std::string data_dir() {
  const char* env = std::getenv("MCASIM_DATA");
  return env && *env ? env : std::string(MCASIM_SOURCE_DIR) + "/data/mnist";
}

// Images the whole-image benchmarks cycle through: the first 10,000 training
// images (every design sees the same ones).
constexpr std::size_t k_train_images = 10000;

// The benchmark images (and one test image), loaded once per process; null
// (and `why` set) when they cannot be read.
inline const mcasim::mnist* mnist_or_null(std::string& why) {
  static std::unique_ptr<mcasim::mnist> data;
  static std::string error;
  static bool tried = false;
  if (!tried) {
    tried = true;
    try {
      data = std::make_unique<mcasim::mnist>(mcasim::load_mnist(data_dir(), k_train_images, 1));
    } catch (const std::exception& e) {
      error = "MNIST not available in " + data_dir() +
              " (run scripts/setup.sh --mnist or set MCASIM_DATA): " + e.what();
    }
  }
  why = error;
  return data.get();
}

// Skips the benchmark with the reason when MNIST is missing.
inline const mcasim::mnist* require_mnist(benchmark::State& state) {
  std::string why;
  const mcasim::mnist* d = mnist_or_null(why);
  if (!d) state.SkipWithError(why.c_str());
  return d;
}

// The CNN benchmarks (bench_network, bench_platform): cnn-cifar10 trained on
// one fixed batch of 51 random 3 x 32 x 32 images (pixels U(0, 1), labels
// 0..9, seed 1), learning rate 0.01, momentum 0.9, conv_update "sum", 2
// threads.
constexpr std::size_t k_cnn_batch = 51;
constexpr int k_cnn_threads = 2;
constexpr uint64_t k_cnn_seed = 1;

inline const mcasim::dataset& cnn_batch() {
  static const mcasim::dataset b = [] {
    mcasim::dataset r;
    r.channels = 3;
    r.height = r.width = 32;
    r.pixels = 3 * 32 * 32;
    mcasim::rng g(k_cnn_seed, 0);
    r.images.resize(k_cnn_batch * r.pixels);
    for (float& v : r.images) v = static_cast<float>(g.uniform());
    r.labels.resize(k_cnn_batch);
    for (uint8_t& l : r.labels) l = static_cast<uint8_t>(g.below(10));
    return r;
  }();
  return b;
}

inline mcasim::network_run_config cnn_config(mcasim::numerics_kind numerics) {
  mcasim::network_run_config cfg;
  cfg.numerics = numerics;
  cfg.batch = k_cnn_batch;
  cfg.learning_rate = 0.01;
  cfg.momentum = 0.9;
  cfg.threads = k_cnn_threads;
  cfg.conv_update = "sum";
  return cfg;
}

}  // namespace mcasim_bench
