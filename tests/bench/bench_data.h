// MNIST for the whole-image benchmarks: data/mnist of the source tree, or
// MCASIM_DATA. When the files are missing the benchmarks that need them skip
// with a message naming the directory (scripts/setup.sh --mnist fetches them).
#pragma once

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <string>

#include "workloads/mnist.h"

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

}  // namespace mcasim_bench
