// workloads/io.h, progress.h and characterize.h: output helpers, duration
// formatting and the device characterization run.
#include <sys/resource.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/state_io.h"
#include "test_util.h"
#include "workloads/characterize.h"
#include "workloads/io.h"
#include "workloads/progress.h"

namespace mcasim {
namespace {

TEST(Io, EnsureDirectoryCreatesParents) {
  test::temp_dir dir;
  const std::string nested = dir.file("a/b/c");
  ensure_directory(nested);
  EXPECT_TRUE(std::filesystem::is_directory(nested));
  EXPECT_NO_THROW(ensure_directory(nested));  // existing directory is fine
}

TEST(Io, EnsureDirectoryOnAFileNamesIt) {
  test::temp_dir dir;
  const std::string file = dir.file("plain");
  test::write_bytes(file, {1, 2, 3});
  try {
    ensure_directory(file);
    FAIL() << "a regular file accepted as directory";
  } catch (const output_error& e) {
    EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
  }
}

TEST(Io, WriteFileAtomicLeavesOnlyTheFile) {
  test::temp_dir dir;
  const std::string path = dir.file("out.txt");
  write_file_atomic(path, "first");
  write_file_atomic(path, "second\n");
  EXPECT_EQ(test::read_text(path), "second\n");
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    names.push_back(e.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"out.txt"}) << "temporary file left behind";
  EXPECT_THROW(write_file_atomic(dir.file("missing/x.txt"), "x"), output_error);
}

// Regression: a failed write said only "failed (disk full?)". Now it names
// the file, how much was written and the system's reason, and leaves no
// temporary file. A file size limit stands in for a full disk (root may
// write to a full file system's reserve, so tmpfs is not used here).
TEST(Io, WriteFileAtomicReportsWhyAWriteFailed) {
  test::temp_dir dir;
  const std::string path = dir.file("big.txt");
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  const auto previous = std::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of the signal
  rlimit small = old;
  small.rlim_cur = 1000;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string message;
  try {
    write_file_atomic(path, std::string(5000, 'x'));
  } catch (const output_error& e) {
    message = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, previous);
  EXPECT_NE(message.find("cannot write '" + path + "' (1000 of 5000 bytes written): "),
            std::string::npos)
      << message;
  EXPECT_NE(message.find(std::strerror(EFBIG)), std::string::npos) << message;
  EXPECT_TRUE(std::filesystem::is_empty(dir.path())) << "partial or temporary file left behind";
}

TEST(Io, AtomicFileAppearsOnlyOnCommit) {
  test::temp_dir dir;
  const std::string path = dir.file("big.bin");
  {
    atomic_file f(path);
    f.write("abc", 3);
    EXPECT_FALSE(std::filesystem::exists(path)) << "visible before commit";
  }  // destroyed without commit: nothing left
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            0);
  atomic_file f(path);
  f.write("abc", 3);
  f.write("def", 3);
  f.commit();
  EXPECT_EQ(test::read_text(path), "abcdef");
}

// A state written through a sink in chunks is byte for byte the state
// written to memory.
TEST(Io, StateWriterSinkGivesTheSameBytes) {
  std::vector<float> big(600000, 1.5f);  // 2.4 MB: larger than one chunk
  big[12345] = -2.0f;
  auto fill = [&big](state_writer& w) {
    w.put(uint32_t{7});
    w.put(std::string("header"));
    w.put(big);
    w.put(3.25);
  };
  state_writer mem;
  fill(mem);
  std::string streamed;
  int calls = 0;
  state_writer out([&](const char* p, std::size_t n) {
    streamed.append(p, n);
    ++calls;
  });
  fill(out);
  out.flush();
  EXPECT_EQ(streamed, mem.bytes());
  EXPECT_GE(calls, 2);
  state_reader r(streamed, "test");
  uint32_t a = 0;
  std::string h;
  std::vector<float> back(big.size());
  double d = 0;
  r.get(a, "a");
  r.get(h, "h");
  r.get(back, "big");
  r.get(d, "d");
  EXPECT_TRUE(r.done());
  EXPECT_EQ(back, big);
  EXPECT_EQ(d, 3.25);
}

TEST(Progress, FormatDuration) {
  EXPECT_EQ(format_duration(0.0), "0s");
  EXPECT_EQ(format_duration(59.4), "59s");
  EXPECT_EQ(format_duration(61.0), "1m01s");
  EXPECT_EQ(format_duration(3599.6), "1h00m");
  EXPECT_EQ(format_duration(3 * 3600 + 7 * 60 + 5), "3h07m");
}

TEST(Characterize, WritesPerPulseStatistics) {
  test::temp_dir dir;
  characterize_options opt;
  opt.devices = 2000;
  opt.pulses = 20;
  opt.out_dir = dir.file("char");
  const pcm_params pcm;
  const nlohmann::json doc = run_characterization(pcm, opt);
  ASSERT_EQ(doc["per_pulse"].size(), 21u);
  // Read T0 after each pulse (no drift yet): the reference means, 10 %.
  const std::vector<std::pair<int, double>> reference{{0, 0.1}, {1, 2.0},  {2, 3.4},
                                                      {5, 5.9}, {10, 7.8}, {20, 9.4}};
  for (const auto& [p, mean] : reference) {
    EXPECT_NEAR(doc["per_pulse"][p]["mean_us"].get<double>(), mean, 0.1 * mean) << "pulse " << p;
  }
  for (const auto& row : doc["per_pulse"]) {
    // Read noise widens the read distribution a little, never narrows it much.
    EXPECT_GE(row["read_std_us"].get<double>(), 0.9 * row["std_us"].get<double>());
  }
  for (const char* f : {"characterization.csv", "distribution.csv", "characterization.json"}) {
    EXPECT_TRUE(std::filesystem::exists(dir.file(std::string("char/") + f))) << f;
  }
  // The histogram holds every device once.
  std::istringstream hist(test::read_text(dir.file("char/distribution.csv")));
  std::string line;
  std::getline(hist, line);
  EXPECT_EQ(line, "bin_lo_us,bin_hi_us,count");
  std::size_t total = 0;
  while (std::getline(hist, line)) total += std::stoul(line.substr(line.rfind(',') + 1));
  EXPECT_EQ(total, opt.devices);
}

TEST(Characterize, RejectsBadOptions) {
  test::temp_dir dir;
  characterize_options opt;
  opt.out_dir = dir.file("x");
  opt.devices = 1;
  EXPECT_THROW(run_characterization(pcm_params{}, opt), std::invalid_argument);
  opt.devices = 10;
  opt.pulses = 5;
  opt.histogram_pulse = 6;
  EXPECT_THROW(run_characterization(pcm_params{}, opt), std::invalid_argument);
}

}  // namespace
}  // namespace mcasim
