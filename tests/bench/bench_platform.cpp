// The SystemC/TLM-2.0 platforms of Table I on real MNIST.
//
//  - BM_platform/<design>: one training image through the digital32,
//    digital-mp or mca top-level (the same preset, platform parameters and
//    seed as `mcasim table1`; images: the first 10,000 MNIST training images,
//    cycled, the design training on).
//  - BM_cnn_platform/mca: one training batch of cnn-cifar10 through an mca
//    design (the fixed batch and configuration of bench_network's
//    BM_cnn_engine: 51 random images, momentum 0.9, 2 threads), every conv
//    layer's block of patch MVMs a tile transaction; items/s = images per
//    wall-clock second, to compare with BM_cnn_engine/mca (the functional
//    run of the same network and batch).
//  - BM_table1: `mcasim table1` end to end (fixed workload: 10,000 warm-up +
//    10,000 measured training images and the 10,000 test images per design),
//    with each design's training images per wall-clock second as counters.
//
// SystemC allows one elaboration per process, so:
//  - the designs (the three of Table I when MNIST is there, and the CNN's
//    mca design) are elaborated once, together, the first time a platform
//    benchmark runs, and then reused by every iteration and repetition. Each
//    design's sample loop holds at a gate (an sc_event) before its first
//    batch and after every batch; an iteration opens the gate of one design
//    and runs the kernel (sc_start) until that design has trained exactly
//    one batch and paused the simulation (sc_pause). The other designs stay
//    parked, so an iteration is one batch of one design plus one return from
//    sc_start;
//  - BM_table1 elaborates in a child process (`mcasim table1`, the executable
//    built next to this one) and reads the figures from its table1.json.
//
//   build/bench_platform --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <systemc>
#include <tlm>

#include <ATen/Parallel.h>

#include "platform/designs.h"
#include "tests/bench/bench_data.h"
#include "workloads/experiment.h"
#include "workloads/network_spec.h"

extern char** environ;

namespace {

constexpr const char* k_designs[3] = {"digital32", "digital-mp", "mca"};
constexpr int k_cnn_mca = 3;  // the CNN's design, after the three of Table I
// Batches each design may train in this process (the benchmark samples,
// cycled): far more than 5 repetitions of a 2 s benchmark need.
constexpr std::size_t k_max_batches = 1000000;

struct platforms {
  std::array<std::unique_ptr<mcasim::design>, 4> designs;  // Table I ones null without MNIST
  std::array<sc_core::sc_event, 4> gate;
  std::array<uint64_t, 4> batches{};  // batches each design has finished
};

// Design d trains on `data` in batches of `batch`, cycling through its
// samples, parked at its gate before the first batch and after every batch.
void gate_design(platforms& pl, int d, const mcasim::dataset& data, std::size_t batch) {
  std::vector<mcasim::job_phase> phases(1);
  phases[0].data = &data;
  phases[0].order.resize(k_max_batches * batch);
  for (std::size_t i = 0; i < phases[0].order.size(); ++i) phases[0].order[i] = i % data.size();
  sc_core::sc_event* gate = &pl.gate[d];
  uint64_t* batches = &pl.batches[d];
  // Called inside the design's SC_THREAD, so they may wait.
  phases[0].before = [gate] { sc_core::wait(*gate); };
  pl.designs[d]->unit().set_job(std::move(phases));
  auto samples = std::make_shared<std::size_t>(0);
  pl.designs[d]->unit().on_image([gate, batches, samples, batch] {
    if (++*samples % batch != 0) return;
    ++*batches;
    sc_core::sc_pause();
    sc_core::wait(*gate);
  });
}

// Elaborates the designs once per process. Never destroyed: the sample
// loops stay suspended inside the kernel until the process ends.
platforms* elaborate() {
  static platforms* p = [] {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    auto* pl = new platforms;
    const mcasim::platform_config pc;
    std::string why;
    if (const mcasim::mnist* data = mcasim_bench::mnist_or_null(why)) {
      for (int d = 0; d < 3; ++d) {
        const auto exp = mcasim::make_experiment(std::string("table1-") + k_designs[d]);
        pl->designs[d] = mcasim::make_design(k_designs[d], exp, pc, 1);
        gate_design(*pl, d, data->train, 1);
      }
    }
    const mcasim::network_run_config cnn = mcasim_bench::cnn_config(mcasim::numerics_kind::mca);
    pl->designs[k_cnn_mca] = mcasim::make_design("cnn_mca", mcasim::load_network("cnn-cifar10"),
                                                 cnn, pc, mcasim_bench::k_cnn_seed);
    gate_design(*pl, k_cnn_mca, mcasim_bench::cnn_batch(), cnn.batch);
    // The loosely timed set-up of mcasim::simulate(): a global quantum of 1 us.
    tlm::tlm_global_quantum::instance().set(sc_core::sc_time(1, sc_core::SC_US));
    // Initialisation: every sample loop starts and parks at its gate (a gate
    // opened before this would fire with nobody waiting).
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
    return pl;
  }();
  return p;
}

// `batches` batches of `batch` samples per iteration of design d.
void run_design(benchmark::State& state, int d, std::size_t batch) {
  platforms* p = elaborate();
  const uint64_t before = p->batches[d];
  for (auto _ : state) {
    p->gate[d].notify(sc_core::SC_ZERO_TIME);
    sc_core::sc_start();
  }
  const uint64_t done = p->batches[d] - before;
  if (done != static_cast<uint64_t>(state.iterations())) {
    state.SkipWithError("the design's sample loop ran out of samples (raise k_max_batches)");
    return;
  }
  state.SetItemsProcessed(static_cast<int64_t>(done * batch));
}

void BM_platform(benchmark::State& state, int d) {
  if (!mcasim_bench::require_mnist(state)) return;
  run_design(state, d, 1);
}
BENCHMARK_CAPTURE(BM_platform, digital32, 0)->MinTime(2.0)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_platform, digital_mp, 1)->MinTime(2.0)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_platform, mca, 2)->MinTime(2.0)->Unit(benchmark::kMicrosecond);

void BM_cnn_platform(benchmark::State& state) {
  at::set_num_threads(mcasim_bench::k_cnn_threads);
  run_design(state, k_cnn_mca, mcasim_bench::k_cnn_batch);
}
BENCHMARK(BM_cnn_platform)
    ->Name("BM_cnn_platform/mca")
    ->MinTime(3.0)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Runs `argv` with stdout and stderr to `log`; returns the exit status.
int run_child(const std::vector<std::string>& args, const std::string& log) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// `mcasim table1` as a child process (wall time: process start, MNIST load,
// elaboration, 3 x 30,000 images, result files).
void BM_table1(benchmark::State& state) {
  std::string why;
  if (!mcasim_bench::mnist_or_null(why)) {
    state.SkipWithError(why.c_str());
    return;
  }
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  char tmpl[] = "/tmp/mcasim-bench-table1-XXXXXX";
  if (!mkdtemp(tmpl)) {
    state.SkipWithError("cannot create a temporary directory");
    return;
  }
  const std::string dir = tmpl;
  const std::vector<std::string> args = {
      MCASIM_EXE, "table1", "--quiet", "--data", mcasim_bench::data_dir(), "--out", dir + "/out"};
  std::array<double, 3> per_s{};
  double simulated_per_s = 0.0;
  bool ok = true;
  for (auto _ : state) {
    if (run_child(args, dir + "/log.txt") != 0) {
      ok = false;
      break;
    }
  }
  if (ok) {
    std::ifstream in(dir + "/out/table1.json");
    const auto doc = nlohmann::json::parse(in, nullptr, false);
    if (doc.is_discarded()) {
      ok = false;
    } else {
      for (int d = 0; d < 3; ++d)
        per_s[d] = doc["designs"][k_designs[d]]["train_images_per_wall_s"].get<double>();
      simulated_per_s = doc["simulated_images_per_wall_s"].get<double>();
    }
  }
  if (!ok) {
    std::string log;
    std::ifstream l(dir + "/log.txt");
    std::getline(l, log, '\0');
    state.SkipWithError(("mcasim table1 failed: " + log).c_str());
  } else {
    // Figures of the last iteration (BM_table1 runs one per repetition).
    state.counters["digital32_img_per_s"] = per_s[0];
    state.counters["digital_mp_img_per_s"] = per_s[1];
    state.counters["mca_img_per_s"] = per_s[2];
    state.counters["all_img_per_s"] = simulated_per_s;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}
BENCHMARK(BM_table1)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

// The SystemC library owns main() and calls sc_main.
int sc_main(int argc, char* argv[]) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
