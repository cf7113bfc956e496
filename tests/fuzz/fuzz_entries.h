// Entry functions of the fuzz targets, shared by the libFuzzer programs
// (tests/fuzz/fuzz_*.cpp, built with clang) and by the regression test
// (tests/fuzz/test_fuzz_regressions.cpp, part of the ordinary suite). Each
// feeds one input to a loader and returns whether the loader accepted it or
// refused it with its documented error type (data_error, config_error,
// sweep_error). Any other exception escapes: for libFuzzer that is a crash,
// for the regression test a failure. An accepted input is also checked for
// the loader's promises (invariant_error when one does not hold).
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/config.h"
#include "app/sweep.h"
#include "workloads/cifar10.h"
#include "workloads/mnist.h"

namespace mcasim::fuzz {

enum class outcome { accepted, rejected };

// A loader accepted an input but broke one of its promises.
class invariant_error : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

inline void require(bool ok, const std::string& what) {
  if (!ok) throw invariant_error(what);
}

// A per-process scratch file holding `bytes` (the loaders under test read
// paths); removed again by the destructor.
class scratch_file {
 public:
  scratch_file(const std::string& name, const uint8_t* data, std::size_t size)
      : path_((std::filesystem::temp_directory_path() /
               ("mcasim-fuzz-" + std::to_string(::getpid()) + "-" + name))
                  .string()) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out) throw std::runtime_error("cannot write the scratch file " + path_);
  }
  ~scratch_file() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  scratch_file(const scratch_file&) = delete;
  scratch_file& operator=(const scratch_file&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// (a) The IDX reader. Input: two bytes (little-endian) giving the length of
// the image file, one byte giving the limit (0 = all), then the image file's
// bytes, then the label file's bytes.
inline outcome idx_pair(const uint8_t* data, std::size_t size) {
  if (size < 3) return outcome::rejected;
  const std::size_t rest = size - 3;
  const std::size_t split = (data[0] | (std::size_t{data[1]} << 8)) % (rest + 1);
  const std::size_t limit = data[2];
  const std::vector<unsigned char> images(data + 3, data + 3 + split);
  const std::vector<unsigned char> labels(data + 3 + split, data + size);
  dataset ds;
  try {
    ds = parse_idx_pair("images", images, "labels", labels, limit);
  } catch (const data_error&) {
    return outcome::rejected;
  }
  require(ds.pixels > 0, "a data set with 0 pixels per image");
  require(ds.size() > 0, "an empty data set");
  require(limit == 0 || ds.size() <= limit, "more items than the limit");
  require(ds.images.size() == ds.size() * ds.pixels, "images and labels differ in count");
  for (const uint8_t l : ds.labels) require(l <= 9, "a label outside 0..9");
  for (const float v : ds.images) require(v >= 0.0f && v <= 1.0f, "a pixel outside [0, 1]");
  return outcome::accepted;
}

// The configuration every run starts from: the default experiment (mca),
// the default platform and the checked-in technology file.
inline const run_config& default_run_config() {
  static const run_config base{
      make_experiment("mca"),
      platform_config(),
      technology::load(std::string(MCASIM_SOURCE_DIR) + "/power/tech_14lpp.json"),
      {}};
  return base;
}

// An accepted configuration must be repeatable: the merged patch
// (overrides.json of a run) applied alone gives the same tree.
inline void check_repeatable(const overrides& o, const run_config& rc) {
  const std::string patch = overrides_patch(o).dump();
  scratch_file file("patch.json", reinterpret_cast<const uint8_t*>(patch.data()), patch.size());
  overrides again;
  again.files = {file.path()};
  run_config rc2;
  try {
    rc2 = apply(default_run_config(), again);
  } catch (const config_error& e) {
    throw invariant_error(std::string("the merged patch of an accepted configuration is "
                                      "refused: ") +
                          e.what());
  }
  require(to_tree(rc2) == to_tree(rc), "the merged patch gives another configuration");
}

// Applies `o` to the default configuration: refused with config_error, or
// accepted and repeatable from its merged patch.
inline outcome apply_checked(const overrides& o) {
  run_config rc;
  try {
    rc = apply(default_run_config(), o);
  } catch (const config_error&) {
    return outcome::rejected;
  }
  check_repeatable(o, rc);
  return outcome::accepted;
}

// (b) The configuration loader: the bytes as a --config FILE.
inline outcome config_file(const uint8_t* data, std::size_t size) {
  scratch_file file("config.json", data, size);
  overrides o;
  o.files = {file.path()};
  return apply_checked(o);
}

// (b) The configuration loader: the bytes as one --set key.path=value.
inline outcome config_set(const uint8_t* data, std::size_t size) {
  overrides o;
  o.sets = {std::string(reinterpret_cast<const char*>(data), size)};
  return apply_checked(o);
}

// (c) The sweep spec loader: the bytes as a SPEC file.
inline outcome sweep_spec_file(const uint8_t* data, std::size_t size) {
  scratch_file file("spec.json", data, size);
  sweep_spec s;
  try {
    s = load_sweep_spec(file.path());
  } catch (const sweep_error&) {
    return outcome::rejected;
  }
  require(!s.points.empty() && s.points.size() <= 100000, "a point count outside 1..100,000");
  require(s.command == "table1" || s.command == "train", "an unknown command");
  require(s.base.is_object(), "a base configuration that is not an object");
  for (const auto& p : s.points) require(p.values.is_object(), "point values not an object");
  return outcome::accepted;
}

// (d) The CIFAR-10 batch parser. Input: one byte giving the limit (0 = all),
// then the batch file's bytes.
inline outcome cifar10_batch(const uint8_t* data, std::size_t size) {
  if (size < 1) return outcome::rejected;
  const std::size_t limit = data[0];
  const std::vector<unsigned char> batch(data + 1, data + size);
  dataset ds;
  try {
    ds = parse_cifar10_batch("batch", batch, limit);
  } catch (const data_error&) {
    return outcome::rejected;
  }
  const std::size_t records = batch.size() / k_cifar10_record;
  require(batch.size() % k_cifar10_record == 0, "accepted a partial record");
  require(ds.size() == (limit == 0 ? records : std::min(records, limit)),
          "not the first min(records, limit) records");
  require(ds.channels == 3 && ds.height == 32 && ds.width == 32 && ds.pixels == 3072,
          "a shape other than 3 x 32 x 32");
  require(ds.images.size() == ds.size() * ds.pixels, "images and labels differ in count");
  for (std::size_t i = 0; i < ds.size(); ++i) {
    const unsigned char* rec = batch.data() + i * k_cifar10_record;
    require(ds.labels[i] == rec[0] && rec[0] <= 9, "a label not the record's or outside 0..9");
    for (std::size_t k = 0; k < ds.pixels; ++k) {
      require(ds.image(i)[k] == rec[1 + k] / 255.0f, "a pixel not the record's byte / 255");
    }
  }
  return outcome::accepted;
}

}  // namespace mcasim::fuzz
