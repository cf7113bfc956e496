// Kernels of the golden model on synthetic inputs (no data set needed), at
// the sizes of the 785-250-10 network: PCM SET and RESET pulses, drift of a
// whole array and single noisy reads (pcm_array); crossbar MVM and transposed
// MVM with read noise (785x250 and 251x10); the chi update of one layer for
// one image (chi_memory::accumulate_row on a sparse 3-bit operand); the
// aggregated read noise of a block of MVMs (add_read_noise on the outputs
// of one CIFAR-10 image's transposed conv2 products, 1,024 x 289).
// Device, crossbar and chi parameters are the table1-mca preset's.
//
//   build/bench_kernels --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "models/chi_memory.h"
#include "models/crossbar.h"
#include "models/noise_kernel.h"
#include "models/pcm_device.h"
#include "models/rng.h"
#include "workloads/experiment.h"

namespace {

constexpr std::size_t k_layer1_devices = 785 * 250;
constexpr uint64_t k_seed = 1;

const mcasim::experiment_config& preset() {
  static const mcasim::experiment_config e = mcasim::make_experiment("table1-mca");
  return e;
}

// Random device indices: pulses land on scattered cells, as in training.
std::vector<std::size_t> random_indices(std::size_t n, std::size_t count) {
  mcasim::rng r(k_seed, 99);
  std::vector<std::size_t> idx(count);
  for (auto& k : idx) k = static_cast<std::size_t>(r.below(n));
  return idx;
}

// --- pcm_array ----------------------------------------------------------------

// One SET pulse on a random device of a layer-1-sized array (items: pulses).
void BM_pcm_set_pulse(benchmark::State& state) {
  mcasim::pcm_array a(k_layer1_devices, preset().mca.pcm, k_seed, 0);
  const auto idx = random_indices(a.size(), 1 << 16);
  std::size_t i = 0;
  double now = 0.0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(a.set_pulse(idx[i], now));
    i = (i + 1) & (idx.size() - 1);
    now += 1e-6;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_pcm_set_pulse)->Unit(benchmark::kNanosecond);

// One RESET pulse on a random device (items: pulses).
void BM_pcm_reset_pulse(benchmark::State& state) {
  mcasim::pcm_array a(k_layer1_devices, preset().mca.pcm, k_seed, 0);
  const auto idx = random_indices(a.size(), 1 << 16);
  std::size_t i = 0;
  double now = 0.0;
  for (auto _ : state) {
    a.reset_pulse(idx[i], now);
    benchmark::ClobberMemory();
    i = (i + 1) & (idx.size() - 1);
    now += 1e-6;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_pcm_reset_pulse)->Unit(benchmark::kNanosecond);

// An array whose devices were programmed at times drawn from [0, spread_s)
// s (0: all at once, as after its initial programming).
mcasim::pcm_array programmed_array(double spread_s = 100.0) {
  mcasim::pcm_array a(k_layer1_devices, preset().mca.pcm, k_seed, 0);
  mcasim::rng r(k_seed, 98);
  for (std::size_t k = 0; k < a.size(); ++k)
    a.program_to(k, 0.5 + 8.0 * r.uniform(), spread_s * r.uniform());
  return a;
}

// Drifted conductances of the whole 785x250 array (what a crossbar sync does
// per array: the factors of its programming times, then every device;
// items: devices), programmed over state.range(0) s at random times (every
// device at its own time; 0: all at one time, as after the initial
// programming; training programs the devices of an update together).
void BM_pcm_drifted_range(benchmark::State& state) {
  mcasim::pcm_array a = programmed_array(static_cast<double>(state.range(0)));
  std::vector<float> out(a.size());
  double now = 1000.0;
  for (auto _ : state) {
    a.evaluate_drift(now);
    a.drifted_range(0, a.size(), now, out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
    now += 0.1;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * a.size()));
}
BENCHMARK(BM_pcm_drifted_range)
    ->ArgName("spread_s")
    ->Arg(100)
    ->Arg(0)
    ->Unit(benchmark::kMicrosecond);

// One noisy read (drift + read noise) of a random device (items: reads).
void BM_pcm_read(benchmark::State& state) {
  const mcasim::pcm_array a = programmed_array();
  const auto idx = random_indices(a.size(), 1 << 16);
  mcasim::rng noise(k_seed, 97);
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(a.read(idx[i], 1000.0, noise));
    i = (i + 1) & (idx.size() - 1);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_pcm_read)->Unit(benchmark::kNanosecond);

// --- crossbar -----------------------------------------------------------------

mcasim::crossbar make_crossbar(std::size_t rows, std::size_t cols) {
  const auto& e = preset();
  mcasim::crossbar xb(rows, cols, e.mca.crossbar, e.mca.pcm, k_seed, 0);
  xb.initialize(0.0);
  xb.sync(100.0);  // drifted weights and read-noise variances
  return xb;
}

// Input of a forward MVM: rows x 8-bit PWM levels in [0, 1]. Layer 1 (785
// rows) has MNIST's density, ~19 % non-zero pixels plus the bias; layer 2 is
// dense (hidden activations plus the bias).
std::vector<float> forward_input(std::size_t rows) {
  mcasim::rng r(k_seed, 96);
  std::vector<float> x(rows, 0.0f);
  const bool sparse = rows > 300;
  for (std::size_t i = 0; i + 1 < rows; ++i) {
    if (!sparse || r.uniform() < 0.19) x[i] = static_cast<float>(1 + r.below(255)) / 255.0f;
  }
  x[rows - 1] = 1.0f;
  return x;
}

// y = x W + read noise (items: MVMs; counter: multiply-accumulates per MVM).
void BM_crossbar_mvm(benchmark::State& state) {
  const auto rows = static_cast<std::size_t>(state.range(0));
  const auto cols = static_cast<std::size_t>(state.range(1));
  mcasim::crossbar xb = make_crossbar(rows, cols);
  const std::vector<float> x = forward_input(rows);
  std::vector<float> y(cols);
  for (auto _ : state) {
    xb.mvm(x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const auto active = std::count_if(x.begin(), x.end(), [](float v) { return v != 0.0f; });
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["macs"] = static_cast<double>(active) * static_cast<double>(cols);
}
BENCHMARK(BM_crossbar_mvm)
    ->Args({785, 250})
    ->Args({251, 10})
    ->ArgNames({"rows", "cols"})
    ->Unit(benchmark::kMicrosecond);

// y = W d + read noise over rows - 1 outputs (the bias row is not read back),
// d dense signed 8-bit levels (items: MVMs).
void BM_crossbar_mvm_t(benchmark::State& state) {
  const auto rows = static_cast<std::size_t>(state.range(0));
  const auto cols = static_cast<std::size_t>(state.range(1));
  mcasim::crossbar xb = make_crossbar(rows, cols);
  mcasim::rng r(k_seed, 95);
  std::vector<float> d(cols);
  for (auto& v : d) v = static_cast<float>(static_cast<int>(r.below(255)) - 127) / 127.0f;
  std::vector<float> y(rows - 1);
  for (auto _ : state) {
    xb.mvm_t(d.data(), y.data(), rows - 1);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["macs"] = static_cast<double>(rows - 1) * static_cast<double>(cols);
}
BENCHMARK(BM_crossbar_mvm_t)
    ->Args({785, 250})
    ->Args({251, 10})
    ->ArgNames({"rows", "cols"})
    ->Unit(benchmark::kMicrosecond);

// --- chi update ---------------------------------------------------------------

// One layer's weight update for one image: chi[r][c] += lr * ux[r] * ud[c] for
// every row with ux[r] != 0, pulses fired where |chi| reaches epsilon.
// Operands as the table1-mca update produces them: ux signed 3-bit codes of
// the layer input (MNIST density for layer 1, ~half the ReLU outputs non-zero
// for layer 2), ud 3-bit codes of the errors with only `nonzero` of `cols`
// entries non-zero (table1 measures ~2,200 non-zero chi updates per image,
// both layers). chi starts uniform in (-eps, eps).
// Items: non-zero chi updates; counter nonzero_chi_updates: per call.
void BM_chi_update(benchmark::State& state) {
  const auto rows = static_cast<std::size_t>(state.range(0));
  const auto cols = static_cast<std::size_t>(state.range(1));
  const auto nonzero = static_cast<std::size_t>(state.range(2));
  const auto& e = preset();
  mcasim::chi_memory chi(rows, cols, e.mca.chi);
  mcasim::rng r(k_seed, 94);
  {  // chi somewhere inside (-eps, eps)
    const float eps = static_cast<float>(e.mca.chi.eps_p);
    for (std::size_t row = 0; row < rows; ++row) {
      std::vector<float> d(cols);
      for (auto& v : d) v = static_cast<float>(2.0 * r.uniform() - 1.0) * 0.99f * eps;
      chi.accumulate_row(row, 1.0f, d.data(), cols, [](std::size_t, int) {});
    }
    chi.clear_counters();
  }
  const double density = rows > 300 ? 0.19 : 0.5;
  std::vector<float> ux(rows, 0.0f);
  for (std::size_t i = 0; i + 1 < rows; ++i) {
    if (r.uniform() < density) ux[i] = static_cast<float>(1 + r.below(3)) / 4.0f;
  }
  ux[rows - 1] = 1.0f;
  std::vector<float> ud(cols, 0.0f);
  for (std::size_t k = 0; k < nonzero; ++k) {
    std::size_t c;
    do {
      c = static_cast<std::size_t>(r.below(cols));
    } while (ud[c] != 0.0f);
    const float code = static_cast<float>(1 + r.below(3));
    ud[c] = (r.uniform() < 0.5 ? -code : code) * 0.0625f;
  }
  const float lr = static_cast<float>(e.mlp.learning_rate);
  uint64_t fired = 0;
  std::size_t active = 0;
  for (auto _ : state) {
    active = 0;
    for (std::size_t row = 0; row < rows; ++row) {
      if (ux[row] == 0.0f) continue;
      ++active;
      chi.accumulate_row(row, lr * ux[row], ud.data(), nonzero,
                         [&fired](std::size_t, int p) { fired += static_cast<uint64_t>(p != 0); });
    }
  }
  benchmark::DoNotOptimize(fired);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * active * nonzero));
  state.counters["nonzero_chi_updates"] = static_cast<double>(active * nonzero);
}
BENCHMARK(BM_chi_update)
    ->Args({785, 250, 10})
    ->Args({251, 10, 5})
    ->ArgNames({"rows", "cols", "nonzero"})
    ->Unit(benchmark::kMicrosecond);

}  // namespace

// --- read noise ---------------------------------------------------------------

// One Gaussian per output, scaled by its variance (items: outputs).
void BM_read_noise(benchmark::State& state) {
  constexpr std::size_t k_outputs = 1024 * 289;
  std::vector<float> y(k_outputs, 0.0f), var(k_outputs);
  mcasim::rng init(k_seed, 7);
  for (float& v : var) v = static_cast<float>(init.uniform() * 1e-3);
  mcasim::rng r(k_seed, 8);
  for (auto _ : state) {
    mcasim::add_read_noise(r, y.data(), var.data(), k_outputs);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(k_outputs));
}
BENCHMARK(BM_read_noise)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
