// Every input kept under tests/fuzz/regressions/<target>/ (inputs that once
// crashed, hung or broke a promise) and every seed under
// tests/fuzz/corpus/<target>/ goes through the fuzz targets' entry functions:
// each loader must accept it or refuse it with its documented error type.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <typeinfo>
#include <vector>

#include "fuzz_entries.h"

namespace mcasim {
namespace {

namespace fs = std::filesystem;

const fs::path k_fuzz_dir = fs::path(MCASIM_SOURCE_DIR) / "tests" / "fuzz";

std::vector<fs::path> inputs_in(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().filename().string().front() != '.') {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<uint8_t> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

using entry = fuzz::outcome (*)(const uint8_t*, std::size_t);

// Runs `entries` on every regression and corpus input of `target`; returns
// how many inputs were accepted. The regression directory must exist and
// hold at least one input.
std::size_t run_all(const std::string& target, const std::vector<entry>& entries) {
  const fs::path regressions = k_fuzz_dir / "regressions" / target;
  const fs::path corpus = k_fuzz_dir / "corpus" / target;
  if (!fs::is_directory(regressions)) {
    ADD_FAILURE() << "regression directory " << regressions << " is missing";
    return 0;
  }
  const auto kept = inputs_in(regressions);
  EXPECT_FALSE(kept.empty()) << regressions << " holds no inputs";
  std::vector<fs::path> all = kept;
  if (fs::is_directory(corpus)) {
    const auto seeds = inputs_in(corpus);
    EXPECT_FALSE(seeds.empty()) << corpus << " holds no inputs";
    all.insert(all.end(), seeds.begin(), seeds.end());
  } else {
    ADD_FAILURE() << "corpus directory " << corpus << " is missing";
  }
  std::size_t accepted = 0;
  for (const auto& file : all) {
    const auto bytes = read_bytes(file);
    for (const entry e : entries) {
      try {
        if (e(bytes.data(), bytes.size()) == fuzz::outcome::accepted) ++accepted;
      } catch (const std::exception& ex) {
        ADD_FAILURE() << file << ": " << typeid(ex).name() << ": " << ex.what();
      } catch (...) {
        ADD_FAILURE() << file << ": an exception that is no std::exception";
      }
    }
  }
  return accepted;
}

TEST(fuzz_regressions, idx_reader_accepts_or_raises_data_error) {
  // The corpus seeds are valid IDX pairs.
  EXPECT_GE(run_all("fuzz_idx", {&fuzz::idx_pair}),
            inputs_in(k_fuzz_dir / "corpus" / "fuzz_idx").size());
}

TEST(fuzz_regressions, cifar10_parser_accepts_or_raises_data_error) {
  // The corpus seeds are valid batches.
  EXPECT_GE(run_all("fuzz_cifar10", {&fuzz::cifar10_batch}),
            inputs_in(k_fuzz_dir / "corpus" / "fuzz_cifar10").size());
}

TEST(fuzz_regressions, config_loader_accepts_or_raises_config_error) {
  // Each corpus seed is a valid --config file or a valid --set.
  EXPECT_GE(run_all("fuzz_config", {&fuzz::config_file, &fuzz::config_set}),
            inputs_in(k_fuzz_dir / "corpus" / "fuzz_config").size());
}

TEST(fuzz_regressions, sweep_loader_accepts_or_raises_sweep_error) {
  // The corpus seeds are valid specs.
  EXPECT_GE(run_all("fuzz_sweep", {&fuzz::sweep_spec_file}),
            inputs_in(k_fuzz_dir / "corpus" / "fuzz_sweep").size());
}

}  // namespace
}  // namespace mcasim
