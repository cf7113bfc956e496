// util/io.h, progress.h and characterize.h: output helpers, duration
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
#include "util/io.h"
#include "util/progress.h"
#include "workloads/characterize.h"
#include "workloads/network_train.h"
#include "workloads/trainer.h"

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

// The CRC-32 trailer: the writer's checksum covers every byte before it;
// one flipped bit anywhere, or a missing byte, is refused with the source's
// name. The expected CRC is computed here from the bytes by the bit-wise
// definition (reflected polynomial 0xEDB88320), not by the library.
uint32_t crc32_bitwise(const std::string& bytes) {
  uint32_t c = 0xFFFFFFFFu;
  for (const unsigned char b : bytes) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return c ^ 0xFFFFFFFFu;
}

TEST(Io, StateChecksumTrailerDetectsAnyChangedByte) {
  EXPECT_EQ(crc32_bitwise("123456789"), 0xCBF43926u);  // the CRC-32 check value
  state_writer w;
  w.put(uint32_t{7});
  w.put(std::string("header"));
  w.put(std::vector<double>{1.0, -2.5, 3.0});
  const std::string payload = w.bytes();
  w.put_checksum();
  const std::string good = w.bytes();
  ASSERT_EQ(good.size(), payload.size() + 4);
  uint32_t stored = 0;
  std::memcpy(&stored, good.data() + payload.size(), 4);
  EXPECT_EQ(stored, crc32_bitwise(payload));

  auto read_all = [](const std::string& bytes) {
    state_reader r(bytes, "state.bin");
    uint32_t a = 0;
    r.get(a, "a");
    r.verify_checksum();
    std::string h;
    std::vector<double> v(3);
    r.get(h, "h");
    r.get(v, "v");
    if (!r.done()) r.fail("trailing bytes");
    return v;
  };
  EXPECT_EQ(read_all(good), (std::vector<double>{1.0, -2.5, 3.0}));
  for (std::size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    try {
      read_all(bad);
      ADD_FAILURE() << "flipped bit in byte " << i << " accepted";
    } catch (const state_error& e) {
      EXPECT_NE(std::string(e.what()).find("state.bin: checksum mismatch"), std::string::npos)
          << e.what();
    }
  }
  EXPECT_THROW(read_all(good.substr(0, good.size() - 1)), state_error);
  EXPECT_THROW(read_all(good.substr(0, 5)), state_error);
}

// A checkpoint whose length is right but one byte of the state is changed
// is refused on resume and by the header reader, naming the file.
TEST(Io, CorruptCheckpointOfTheRightLengthIsRefused) {
  test::temp_dir dir;
  const dataset train = test::make_synthetic_dataset(200, 1);
  const dataset test_set = test::make_synthetic_dataset(50, 2);
  train_options opt;
  opt.epochs = 1;
  opt.out_dir = dir.file("run");
  run_training(make_experiment("mca"), train, test_set, opt);
  const std::string path = checkpoint_path(opt.out_dir);
  std::string bytes = test::read_text(path);
  ASSERT_GT(bytes.size(), 1000u);
  auto ropt = resume_options(read_checkpoint_run(opt.out_dir), opt.out_dir);
  ropt.epochs = 2;
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 1);  // one device's bit
  test::write_bytes(path, std::vector<unsigned char>(bytes.begin(), bytes.end()));
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      if (attempt == 0) {
        read_checkpoint_run(opt.out_dir);
      } else {
        run_training(make_experiment("mca"), train, test_set, ropt);
      }
      ADD_FAILURE() << "corrupt checkpoint accepted (attempt " << attempt << ")";
    } catch (const state_error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path + ": checksum mismatch"), std::string::npos) << msg;
    }
  }
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
