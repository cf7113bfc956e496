// One training image (forward, backward, weight update) of each functional
// machine (workloads/experiment.h): the paper's training experiments fp64,
// mca, mca-nondiff, and the Table I workload of each design, table1-digital32,
// table1-digital-mp, table1-mca, on the network engine as `mcasim train
// --experiment` runs them (workloads/network_train.h). Real MNIST: the first 10,000 training
// images, cycled, the machine training on (items/s: training images per
// second on one core). Needs the data set (scripts/setup.sh --mnist);
// MCASIM_DATA overrides data/mnist; without it the benchmarks skip.
//
//   build/bench_train --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>

#include "tests/bench/bench_data.h"
#include "workloads/experiment.h"
#include "workloads/model.h"
#include "workloads/network_train.h"

namespace {

void BM_train(benchmark::State& state, const char* experiment) {
  const mcasim::mnist* data = mcasim_bench::require_mnist(state);
  if (!data) return;
  const mcasim::dataset& ds = data->train;
  const auto cfg = mcasim::make_experiment(experiment);
  std::size_t i = 0;
  uint64_t image = 0;
  mcasim::model m(mcasim::perceptron_network(cfg.mlp), mcasim::engine_config(cfg), 1);
  const double lr = cfg.mlp.learning_rate;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        m.train_batch(ds.image(i), &ds.labels[i], 1, lr, image * cfg.image_period_s));
    ++image;
    if (++i == ds.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

BENCHMARK_CAPTURE(BM_train, fp64, "fp64")->MinTime(2.0)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_train, mca, "mca")->MinTime(2.0)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_train, mca_nondiff, "mca-nondiff")
    ->MinTime(2.0)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_train, table1_digital32, "table1-digital32")
    ->MinTime(2.0)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_train, table1_digital_mp, "table1-digital-mp")
    ->MinTime(2.0)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_train, table1_mca, "table1-mca")->MinTime(2.0)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
