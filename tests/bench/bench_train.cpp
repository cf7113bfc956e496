// Training throughput (images/s on one core) of the functional machines on
// real MNIST: the first 10,000 training images, cycled. Needs the data set
// (scripts/setup.sh --mnist); MCASIM_DATA overrides data/mnist.
//
//   build/bench_train --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "workloads/experiment.h"
#include "workloads/mnist.h"
#include "workloads/network.h"

namespace {

const mcasim::dataset& data() {
  static const mcasim::dataset ds = [] {
    const char* env = std::getenv("MCASIM_DATA");
    const std::string dir = env ? env : std::string(MCASIM_SOURCE_DIR) + "/data/mnist";
    return mcasim::read_idx_pair(dir + "/train-images-idx3-ubyte", dir + "/train-labels-idx1-ubyte",
                                 10000);
  }();
  return ds;
}

void train_images(benchmark::State& state, const char* experiment) {
  const auto& ds = data();
  auto cfg = mcasim::make_experiment(experiment);
  auto net = mcasim::make_network(cfg, 1);
  std::size_t i = 0;
  uint64_t image = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(net->train(ds.image(i), ds.labels[i], image * cfg.image_period_s));
    ++image;
    if (++i == ds.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void BM_train_fp64(benchmark::State& s) {
  train_images(s, "fp64");
}
void BM_train_mca(benchmark::State& s) {
  train_images(s, "mca");
}
void BM_train_mca_nondiff(benchmark::State& s) {
  train_images(s, "mca-nondiff");
}
BENCHMARK(BM_train_fp64)->MinTime(2.0)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_train_mca)->MinTime(2.0)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_train_mca_nondiff)->MinTime(2.0)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
