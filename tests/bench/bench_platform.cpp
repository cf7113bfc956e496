// The SystemC/TLM-2.0 platforms of Table I on real MNIST.
//
//  - BM_platform/<design>: one training image through the digital32,
//    digital-mp or mca top-level (the same preset, platform parameters and
//    seed as `mcasim table1`; images: the first 10,000 MNIST training images,
//    cycled, the design training on).
//  - BM_table1: `mcasim table1` end to end (fixed workload: 10,000 warm-up +
//    10,000 measured training images and the 10,000 test images per design),
//    with each design's training images per wall-clock second as counters.
//
// SystemC allows one elaboration per process, so:
//  - the three designs are elaborated once, together, the first time a
//    BM_platform benchmark runs, and then reused by every iteration and
//    repetition. Each design's image loop holds at a gate (an sc_event) before
//    its first image and after every image; an iteration opens the gate of one
//    design and runs the kernel (sc_start) until that design has trained
//    exactly one image and paused the simulation (sc_pause). The other two
//    designs stay parked, so an iteration is one image of one design plus one
//    return from sc_start;
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

#include "platform/designs.h"
#include "tests/bench/bench_data.h"
#include "workloads/experiment.h"

extern char** environ;

namespace {

constexpr const char* k_designs[3] = {"digital32", "digital-mp", "mca"};
// Images each design may train in this process (the benchmark images, cycled):
// far more than 5 repetitions of a 2 s benchmark need on the fastest design.
constexpr std::size_t k_max_images = 1000000;

struct platforms {
  std::array<std::unique_ptr<mcasim::design>, 3> designs;
  std::array<sc_core::sc_event, 3> gate;
  std::array<uint64_t, 3> images{};  // images each design has finished
};

// Elaborates the three designs once per process. Never destroyed: the image
// loops stay suspended inside the kernel until the process ends.
platforms* elaborate(const mcasim::mnist& data) {
  static platforms* p = [&data] {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    auto* pl = new platforms;
    const mcasim::platform_config pc;
    for (int d = 0; d < 3; ++d) {
      const auto exp = mcasim::make_experiment(std::string("table1-") + k_designs[d]);
      pl->designs[d] = mcasim::make_design(k_designs[d], exp, pc, 1);
      std::vector<mcasim::job_phase> phases(1);
      phases[0].data = &data.train;
      phases[0].order.resize(k_max_images);
      for (std::size_t i = 0; i < k_max_images; ++i) phases[0].order[i] = i % data.train.size();
      sc_core::sc_event* gate = &pl->gate[d];
      uint64_t* images = &pl->images[d];
      // Called inside the design's SC_THREAD, so they may wait.
      phases[0].before = [gate] { sc_core::wait(*gate); };
      pl->designs[d]->unit().set_job(std::move(phases));
      pl->designs[d]->unit().on_image([gate, images] {
        ++*images;
        sc_core::sc_pause();
        sc_core::wait(*gate);
      });
    }
    // The loosely timed set-up of mcasim::simulate(): a global quantum of 1 us.
    tlm::tlm_global_quantum::instance().set(sc_core::sc_time(1, sc_core::SC_US));
    // Initialisation: every image loop starts and parks at its gate (a gate
    // opened before this would fire with nobody waiting).
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
    return pl;
  }();
  return p;
}

void BM_platform(benchmark::State& state, int d) {
  const mcasim::mnist* data = mcasim_bench::require_mnist(state);
  if (!data) return;
  platforms* p = elaborate(*data);
  const uint64_t before = p->images[d];
  for (auto _ : state) {
    p->gate[d].notify(sc_core::SC_ZERO_TIME);
    sc_core::sc_start();
  }
  const uint64_t done = p->images[d] - before;
  if (done != static_cast<uint64_t>(state.iterations())) {
    state.SkipWithError("the design's image loop ran out of images (raise k_max_images)");
    return;
  }
  state.SetItemsProcessed(static_cast<int64_t>(done));
}
BENCHMARK_CAPTURE(BM_platform, digital32, 0)->MinTime(2.0)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_platform, digital_mp, 1)->MinTime(2.0)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_platform, mca, 2)->MinTime(2.0)->Unit(benchmark::kMicrosecond);

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
