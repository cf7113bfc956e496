// Reproducibility: one point run alone, inside a local sweep and inside a
// sweep under MPI (where it runs on rank 1) gives bit-identical result files
// (wall-clock measurements aside): training metrics, synapse traces, Table I
// results with their Perfetto timeline and VCD traces, configuration and the
// HTML report.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../test_util.h"

#ifndef MCASIM_EXE
#error "MCASIM_EXE must name the mcasim binary"
#endif

namespace mcasim {
namespace {

// Runs a shell command line; returns its exit status (0 = success).
int sh(const std::string& cmd, const std::string& log) {
  return std::system((cmd + " > '" + log + "' 2>&1").c_str());
}

// A JSON document with every wall-clock field (key containing "wall") removed.
nlohmann::json without_wall_clock(nlohmann::json j) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end();) {
      if (it.key().find("wall") != std::string::npos) {
        it = j.erase(it);
      } else {
        *it = without_wall_clock(*it);
        ++it;
      }
    }
  } else if (j.is_array()) {
    for (auto& v : j) v = without_wall_clock(v);
  }
  return j;
}

// Compares the result files of two run directories.
void expect_same_results(const std::string& a, const std::string& b,
                         const std::vector<std::string>& json_files,
                         const std::vector<std::string>& exact_files) {
  for (const auto& f : json_files) {
    SCOPED_TRACE(f);
    ASSERT_TRUE(std::filesystem::exists(a + "/" + f)) << a;
    ASSERT_TRUE(std::filesystem::exists(b + "/" + f)) << b;
    const auto ja = without_wall_clock(nlohmann::json::parse(test::read_text(a + "/" + f)));
    const auto jb = without_wall_clock(nlohmann::json::parse(test::read_text(b + "/" + f)));
    EXPECT_EQ(ja, jb) << a << " vs " << b;
  }
  for (const auto& f : exact_files) {
    SCOPED_TRACE(f);
    const std::string ta = test::read_text(a + "/" + f), tb = test::read_text(b + "/" + f);
    EXPECT_FALSE(ta.empty()) << a + "/" + f;
    EXPECT_TRUE(ta == tb) << a + "/" + f << " differs from " << b + "/" + f;
  }
}

class Reproducibility : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.file("mnist");
    std::filesystem::create_directories(data_);
    test::write_synthetic_mnist(data_, 300, 60);
  }

  // The point alone, in a local sweep (2 jobs) and under MPI with 2 ranks;
  // the point is p00001 (rank 1).
  void check(const std::string& command, const std::vector<std::string>& args,
             const std::vector<std::string>& json_files, std::vector<std::string> exact_files) {
    std::string spec_args, alone_args;
    for (const auto& a : args) {
      spec_args += (spec_args.empty() ? "\"" : ", \"") + a + "\"";
      std::string v = a;
      const std::size_t at = v.find("{point}");
      if (at != std::string::npos) v.replace(at, 7, dir_.file("alone"));
      alone_args += " '" + v + "'";
    }
    const std::string spec = dir_.file("spec.json");
    const std::string text = "{\"command\": \"" + command + "\", \"args\": [" + spec_args +
                             "], \"seed\": 3, \"grid\": {\"experiment.mca.adc_forward.bits\": "
                             "[6, 8]}}";
    test::write_bytes(spec, std::vector<unsigned char>(text.begin(), text.end()));
    const std::string exe = MCASIM_EXE;
    const std::string alone = dir_.file("alone");
    ASSERT_EQ(sh(exe + " " + command + " --quiet --seed 3 --set experiment.mca.adc_forward.bits=8" +
                     alone_args + " --out '" + alone + "'",
                 dir_.file("alone.log")),
              0)
        << test::read_text(dir_.file("alone.log"));
    ASSERT_EQ(sh(exe + " sweep '" + spec + "' --jobs 2 --quiet --out '" + dir_.file("sweep") + "'",
                 dir_.file("sweep.log")),
              0)
        << test::read_text(dir_.file("sweep.log"));
    const std::string in_sweep = dir_.file("sweep/points/p00001");
    for (const std::string& d : {alone, in_sweep}) {
      ASSERT_EQ(sh(exe + " report '" + d + "'", dir_.file("report.log")), 0)
          << test::read_text(dir_.file("report.log"));
    }
    exact_files.push_back("report.html");
    expect_same_results(alone, in_sweep, json_files, exact_files);

    // scripts/setup.sh installs Open MPI: a missing mpirun is a broken set-up,
    // not a reason to pass without the MPI half.
    ASSERT_EQ(std::system("command -v mpirun > /dev/null 2>&1"), 0)
        << "mpirun not found: scripts/setup.sh installs openmpi-bin";
    const std::string mpirun =
        "ASAN_OPTIONS=detect_leaks=0 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
        "mpirun --oversubscribe --mca btl self,vader -np 2 ";
    ASSERT_EQ(sh(mpirun + exe + " sweep '" + spec + "' --quiet --out '" + dir_.file("mpi") + "'",
                 dir_.file("mpi.log")),
              0)
        << test::read_text(dir_.file("mpi.log"));
    EXPECT_NE(test::read_text(dir_.file("mpi.log")).find("rank 1 1 points here"), std::string::npos)
        << test::read_text(dir_.file("mpi.log"));
    const std::string on_rank1 = dir_.file("mpi/points/p00001");
    ASSERT_EQ(sh(exe + " report '" + on_rank1 + "'", dir_.file("report.log")), 0);
    expect_same_results(alone, on_rank1, json_files, exact_files);
  }

  test::temp_dir dir_;
  std::string data_;
};

TEST_F(Reproducibility, TrainingPointAloneInASweepAndUnderMpi) {
  check("train",
        {"--experiment", "mca", "--epochs", "2", "--no-train-eval", "--trace-every", "20", "--data",
         data_},
        {"metrics.json", "config.json", "overrides.json"}, {"synapses.csv"});
}

TEST_F(Reproducibility, Table1PointWithTracesAloneInASweepAndUnderMpi) {
  check("table1",
        {"--warmup", "40", "--images", "50", "--test-images", "30", "--data", data_,
         "--trace-timeline", "{point}/timeline.json", "--trace-vcd", "{point}/activity.vcd",
         "--trace-images", "40:42"},
        {"table1.json", "config.json", "overrides.json"},
        {"table1.md", "timeline.json", "activity.vcd"});
}

}  // namespace
}  // namespace mcasim
