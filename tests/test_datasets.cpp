// workloads/cifar10.h, gzipped IDX (workloads/mnist.h) and workloads/datasets.h:
// small files written here with known pixels, every kind of broken file
// (data_error naming the file and the problem), the dispatch by name, and
// Debian's Fashion-MNIST when it is installed.
#include <zlib.h>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

#include "test_util.h"
#include "workloads/cifar10.h"
#include "workloads/datasets.h"
#include "workloads/mnist.h"

namespace mcasim {
namespace {

using test::idx_images;
using test::idx_labels;
using test::write_bytes;

// Expects `f` to throw data_error whose message contains every one of `words`.
template <class F>
void expect_data_error(F f, const std::vector<std::string>& words) {
  try {
    f();
    ADD_FAILURE() << "no data_error; expected one saying '" << words.front() << "'";
  } catch (const data_error& e) {
    const std::string msg = e.what();
    for (const auto& w : words) {
      EXPECT_NE(msg.find(w), std::string::npos) << "message '" << msg << "' lacks '" << w << "'";
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected data_error, got " << typeid(e).name() << ": " << e.what();
  }
}

// ---- CIFAR-10 ----------------------------------------------------------------

// The pixel byte of record `seed`, channel c, row y, column x: distinct across
// channels, rows and columns, so a layout mix-up changes values.
unsigned char pixel_byte(unsigned seed, std::size_t c, std::size_t y, std::size_t x) {
  return static_cast<unsigned char>((seed * 31 + c * 85 + y * 7 + x * 3) % 256);
}

// One 3,073-byte record: the label byte, then the red, green and blue planes.
std::vector<unsigned char> cifar_record(unsigned label, unsigned seed) {
  std::vector<unsigned char> r{static_cast<unsigned char>(label)};
  for (std::size_t c = 0; c < 3; ++c) {
    for (std::size_t y = 0; y < 32; ++y) {
      for (std::size_t x = 0; x < 32; ++x) r.push_back(pixel_byte(seed, c, y, x));
    }
  }
  return r;
}

// Records with the given labels; record i uses seed first_seed + i.
std::vector<unsigned char> cifar_batch(const std::vector<unsigned>& labels,
                                       unsigned first_seed = 0) {
  std::vector<unsigned char> b;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto r = cifar_record(labels[i], first_seed + static_cast<unsigned>(i));
    b.insert(b.end(), r.begin(), r.end());
  }
  return b;
}

// Image i of `ds` holds the pixels of seed `seed`, in CHW order.
void expect_image(const dataset& ds, std::size_t i, unsigned seed) {
  const float* im = ds.image(i);
  for (std::size_t c = 0; c < 3; ++c) {
    for (std::size_t y = 0; y < 32; ++y) {
      for (std::size_t x = 0; x < 32; ++x) {
        ASSERT_EQ(im[c * 1024 + y * 32 + x], pixel_byte(seed, c, y, x) / 255.0f)
            << "image " << i << " channel " << c << " row " << y << " column " << x;
      }
    }
  }
}

void expect_cifar_shape(const dataset& ds) {
  EXPECT_EQ(ds.channels, 3u);
  EXPECT_EQ(ds.height, 32u);
  EXPECT_EQ(ds.width, 32u);
  EXPECT_EQ(ds.pixels, 3072u);
  EXPECT_EQ(ds.images.size(), ds.size() * 3072u);
}

TEST(Cifar10, ReadsRecordsInChwOrder) {
  test::temp_dir dir;
  const std::string path = dir.file("data_batch_1.bin");
  write_bytes(path, cifar_batch({3, 0, 9}));
  const dataset ds = read_cifar10_batches({path});
  ASSERT_EQ(ds.size(), 3u);
  expect_cifar_shape(ds);
  EXPECT_EQ(ds.labels, (std::vector<uint8_t>{3, 0, 9}));
  for (unsigned i = 0; i < 3; ++i) expect_image(ds, i, i);
}

TEST(Cifar10, RedPlaneComesFirst) {
  // A pure red-ish image: red 255, green 0, blue 51 everywhere.
  std::vector<unsigned char> r{6};
  r.insert(r.end(), 1024, 255);
  r.insert(r.end(), 1024, 0);
  r.insert(r.end(), 1024, 51);
  const dataset ds = parse_cifar10_batch("one", r);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds.labels[0], 6);
  EXPECT_EQ(ds.image(0)[0], 1.0f);
  EXPECT_EQ(ds.image(0)[1023], 1.0f);
  EXPECT_EQ(ds.image(0)[1024], 0.0f);
  EXPECT_EQ(ds.image(0)[2047], 0.0f);
  EXPECT_FLOAT_EQ(ds.image(0)[2048], 0.2f);
  EXPECT_FLOAT_EQ(ds.image(0)[3071], 0.2f);
}

TEST(Cifar10, LimitRunsAcrossBatchFiles) {
  test::temp_dir dir;
  const std::string a = dir.file("a.bin"), b = dir.file("b.bin"), c = dir.file("c.bin");
  write_bytes(a, cifar_batch({1, 2, 3}, 0));
  write_bytes(b, cifar_batch({4, 5}, 3));
  // c is missing: it is never opened while the limit is met before it.
  const dataset four = read_cifar10_batches({a, b, c}, 4);
  ASSERT_EQ(four.size(), 4u);
  expect_cifar_shape(four);
  EXPECT_EQ(four.labels, (std::vector<uint8_t>{1, 2, 3, 4}));
  for (unsigned i = 0; i < 4; ++i) expect_image(four, i, i);
  EXPECT_EQ(read_cifar10_batches({a, b, c}, 2).labels, (std::vector<uint8_t>{1, 2}));
  EXPECT_EQ(read_cifar10_batches({a, b}, 0).size(), 5u);  // 0 = all
  EXPECT_EQ(read_cifar10_batches({a, b}, 9).size(), 5u);  // a limit beyond the files
  expect_data_error([&] { read_cifar10_batches({a, b, c}, 6); }, {c, "cannot open"});
}

TEST(Cifar10, RecordsBeyondTheLimitAreNotRead) {
  // The third record's label is invalid; with a limit of 2 it is never read.
  test::temp_dir dir;
  const std::string path = dir.file("batch.bin");
  write_bytes(path, cifar_batch({1, 2, 200}));
  EXPECT_EQ(read_cifar10_batches({path}, 2).labels, (std::vector<uint8_t>{1, 2}));
  expect_data_error([&] { read_cifar10_batches({path}); },
                    {path, "record 2 has label 200", "outside 0..9"});
}

TEST(Cifar10, LoadsTheStandardFiles) {
  test::temp_dir dir;
  for (unsigned i = 1; i <= 5; ++i) {
    write_bytes(dir.file("data_batch_" + std::to_string(i) + ".bin"), cifar_batch({i, i}, 10 * i));
  }
  write_bytes(dir.file("test_batch.bin"), cifar_batch({7, 8, 9}, 100));
  const cifar10 c = load_cifar10(dir.path().string());
  ASSERT_EQ(c.train.size(), 10u);
  ASSERT_EQ(c.test.size(), 3u);
  expect_cifar_shape(c.train);
  expect_cifar_shape(c.test);
  EXPECT_EQ(c.train.labels, (std::vector<uint8_t>{1, 1, 2, 2, 3, 3, 4, 4, 5, 5}));
  EXPECT_EQ(c.test.labels, (std::vector<uint8_t>{7, 8, 9}));
  expect_image(c.train, 9, 51);  // data_batch_5's second record
  expect_image(c.test, 2, 102);
  const cifar10 some = load_cifar10(dir.path().string(), 3, 1);
  EXPECT_EQ(some.train.labels, (std::vector<uint8_t>{1, 1, 2}));
  EXPECT_EQ(some.test.labels, (std::vector<uint8_t>{7}));
  std::filesystem::remove(dir.file("data_batch_3.bin"));
  expect_data_error([&] { load_cifar10(dir.path().string()); },
                    {dir.file("data_batch_3.bin"), "cannot open", "No such file or directory"});
}

TEST(Cifar10, MissingFileNamesItWithTheSystemsReason) {
  test::temp_dir dir;
  const std::string path = dir.file("no-such-batch.bin");
  expect_data_error([&] { read_cifar10_batches({path}); },
                    {path, "cannot open (No such file or directory)"});
}

TEST(Cifar10, UnreadableFile) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads files without read permission";
  test::temp_dir dir;
  const std::string path = dir.file("locked.bin");
  write_bytes(path, cifar_batch({1}));
  std::filesystem::permissions(path, std::filesystem::perms::none);
  expect_data_error([&] { read_cifar10_batches({path}); }, {path, "Permission denied"});
}

TEST(Cifar10, DirectoryIsNotABatch) {
  test::temp_dir dir;
  const std::string path = dir.file("a-directory");
  std::filesystem::create_directories(path);
  expect_data_error([&] { read_cifar10_batches({path}); }, {path, "not a regular file"});
}

TEST(Cifar10, EmptyFile) {
  test::temp_dir dir;
  const std::string path = dir.file("empty.bin");
  write_bytes(path, {});
  expect_data_error([&] { read_cifar10_batches({path}); }, {path, "empty file"});
}

TEST(Cifar10, SizeNotAWholeNumberOfRecords) {
  test::temp_dir dir;
  const std::string path = dir.file("odd.bin");
  auto b = cifar_batch({1, 2});
  b.push_back(0);
  write_bytes(path, b);
  expect_data_error([&] { read_cifar10_batches({path}); },
                    {path, "size 6147 bytes is not a multiple of the 3073-byte CIFAR-10 record"});
  b.resize(3072);  // one pixel short of a record
  write_bytes(path, b);
  expect_data_error([&] { read_cifar10_batches({path}, 1); }, {path, "size 3072 bytes"});
}

TEST(Cifar10, LabelAboveNine) {
  test::temp_dir dir;
  const std::string path = dir.file("labels.bin");
  write_bytes(path, cifar_batch({9, 10, 0}));
  expect_data_error([&] { read_cifar10_batches({path}); },
                    {path, "record 1 has label 10, outside 0..9"});
}

// The in-memory parser takes the same checks; messages use the given name.
TEST(Cifar10, ParsesFromMemory) {
  const dataset ds = parse_cifar10_batch("mem", cifar_batch({4, 5, 6}), 2);
  ASSERT_EQ(ds.size(), 2u);
  expect_cifar_shape(ds);
  EXPECT_EQ(ds.labels, (std::vector<uint8_t>{4, 5}));
  expect_image(ds, 1, 1);
  expect_data_error([] { parse_cifar10_batch("mem", {}); }, {"mem: empty file"});
  expect_data_error(
      [] {
        parse_cifar10_batch("mem", {1, 2, 3});
      },
      {"mem: size 3 bytes is not a multiple"});
  expect_data_error([] { parse_cifar10_batch("mem", cifar_batch({11})); },
                    {"mem: record 0 has label 11"});
}

// ---- gzipped IDX -------------------------------------------------------------

// Writes `bytes` to `path` as a gzip file (zlib's own gzip writer).
void write_gzip(const std::string& path, const std::vector<unsigned char>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb9");
  ASSERT_NE(f, nullptr) << "cannot write " << path;
  if (!bytes.empty()) {
    ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
  }
  ASSERT_EQ(gzclose(f), Z_OK);
}

std::vector<unsigned char> read_all(const std::string& path) {
  const std::string s = test::read_text(path);
  return std::vector<unsigned char>(s.begin(), s.end());
}

// Three 2x3 images with known pixel bytes and labels 7, 0, 9 (as in test_mnist.cpp).
const std::vector<unsigned char> k_pixels{0, 51, 102, 153, 204, 255, 1,  2,  3,
                                          4, 5,  6,   10,  20,  30,  40, 50, 60};
const std::vector<unsigned char> k_labels{7, 0, 9};

class GzipIdx : public ::testing::Test {
 protected:
  void SetUp() override {
    images_ = dir_.file("images-idx3-ubyte.gz");
    labels_ = dir_.file("labels-idx1-ubyte.gz");
    write_gzip(images_, idx_images(3, 2, 3, k_pixels));
    write_gzip(labels_, idx_labels(k_labels));
  }
  test::temp_dir dir_;
  std::string images_, labels_;
};

TEST_F(GzipIdx, ReadsTheSameValuesAsThePlainFiles) {
  const dataset ds = read_idx_pair(images_, labels_);
  ASSERT_EQ(ds.size(), 3u);
  EXPECT_EQ(ds.pixels, 6u);
  EXPECT_EQ(ds.channels, 1u);
  EXPECT_EQ(ds.height, 2u);
  EXPECT_EQ(ds.width, 3u);
  EXPECT_EQ(ds.labels, (std::vector<uint8_t>{7, 0, 9}));
  ASSERT_EQ(ds.images.size(), 18u);
  for (std::size_t k = 0; k < 18; ++k) EXPECT_EQ(ds.images[k], k_pixels[k] / 255.0f) << k;
  EXPECT_EQ(read_idx_pair(images_, labels_, 2).size(), 2u);
  // A plain image file with gzipped labels.
  const std::string plain = dir_.file("images-idx3-ubyte");
  write_bytes(plain, idx_images(3, 2, 3, k_pixels));
  EXPECT_EQ(read_idx_pair(plain, labels_).images, ds.images);
}

TEST_F(GzipIdx, ReadGzipReturnsTheDecompressedBytes) {
  EXPECT_EQ(read_gzip(labels_), idx_labels(k_labels));
  // Two gzip members one after the other are one stream of their contents.
  const std::string two = dir_.file("two.gz");
  auto bytes = read_all(labels_);
  const auto again = read_all(images_);
  bytes.insert(bytes.end(), again.begin(), again.end());
  write_bytes(two, bytes);
  auto expected = idx_labels(k_labels);
  const auto im = idx_images(3, 2, 3, k_pixels);
  expected.insert(expected.end(), im.begin(), im.end());
  EXPECT_EQ(read_gzip(two), expected);
}

TEST_F(GzipIdx, TruncatedStream) {
  auto b = read_all(images_);
  b.resize(b.size() - 6);  // into the CRC-32 and length trailer
  write_bytes(images_, b);
  expect_data_error([&] { read_idx_pair(images_, labels_); }, {images_, "truncated gzip stream"});
  b.resize(12);  // into the compressed data
  write_bytes(images_, b);
  expect_data_error([&] { read_idx_pair(images_, labels_); }, {images_, "truncated gzip stream"});
}

TEST_F(GzipIdx, CorruptStreamGivesZlibsMessage) {
  auto b = read_all(labels_);
  b[0] = 0x00;  // not the gzip magic number
  write_bytes(labels_, b);
  expect_data_error([&] { read_idx_pair(images_, labels_); },
                    {labels_, "corrupt gzip data (zlib: incorrect header check)"});
  b = read_all(images_);
  b[b.size() - 8] ^= 0xff;  // the CRC-32 of the contents
  write_bytes(images_, b);
  write_gzip(labels_, idx_labels(k_labels));
  expect_data_error([&] { read_idx_pair(images_, labels_); },
                    {images_, "corrupt gzip data (zlib: incorrect data check)"});
}

TEST_F(GzipIdx, EmptyAndMissingFiles) {
  write_bytes(images_, {});
  expect_data_error([&] { read_idx_pair(images_, labels_); }, {images_, "empty file"});
  const std::string missing = dir_.file("missing-idx3-ubyte.gz");
  expect_data_error([&] { read_idx_pair(missing, labels_); }, {missing, "cannot open"});
}

TEST_F(GzipIdx, DecompressedContentsAreCheckedLikeAPlainFile) {
  auto b = idx_images(3, 2, 3, k_pixels);
  b.push_back(0);
  write_gzip(images_, b);
  expect_data_error([&] { read_idx_pair(images_, labels_); }, {images_, "unexpected bytes"});
  write_gzip(labels_, idx_labels({1, 2, 12}));
  write_gzip(images_, idx_images(3, 2, 3, k_pixels));
  expect_data_error([&] { read_idx_pair(images_, labels_); }, {labels_, "outside 0..9"});
}

TEST_F(GzipIdx, DecompressedSizeIsBounded) {
  const std::string big = dir_.file("zeros.gz");
  write_gzip(big, std::vector<unsigned char>(100000, 0));
  EXPECT_EQ(read_gzip(big, 100000).size(), 100000u);
  expect_data_error([&] { read_gzip(big, 99999); }, {big, "decompresses to more than 99999 bytes"});
  EXPECT_EQ(k_max_gunzipped_bytes, std::size_t{1} << 30);
}

TEST(LoadFashionMnist, ReadsTheFourGzippedFiles) {
  test::temp_dir dir;
  const test::synthetic_images tr = test::make_synthetic_bytes(30, 1);
  const test::synthetic_images te = test::make_synthetic_bytes(20, 2);
  write_gzip(dir.file("train-images-idx3-ubyte.gz"), idx_images(30, 28, 28, tr.pixels));
  write_gzip(dir.file("train-labels-idx1-ubyte.gz"), idx_labels(tr.labels));
  write_gzip(dir.file("t10k-images-idx3-ubyte.gz"), idx_images(20, 28, 28, te.pixels));
  write_gzip(dir.file("t10k-labels-idx1-ubyte.gz"), idx_labels(te.labels));
  const mnist m = load_fashion_mnist(dir.path().string(), 25);
  ASSERT_EQ(m.train.size(), 25u);
  ASSERT_EQ(m.test.size(), 20u);
  EXPECT_EQ(m.train.height, 28u);
  EXPECT_EQ(m.train.width, 28u);
  EXPECT_EQ(m.test.channels, 1u);
  EXPECT_EQ(std::vector<uint8_t>(m.test.labels), te.labels);
  for (std::size_t k = 0; k < te.pixels.size(); ++k) {
    ASSERT_EQ(m.test.images[k], te.pixels[k] / 255.0f) << k;
  }
  // A plain file, where there is one, is read rather than FILE.gz.
  write_bytes(dir.file("t10k-labels-idx1-ubyte"), idx_labels(std::vector<unsigned char>(20, 3)));
  EXPECT_EQ(load_mnist(dir.path().string()).test.labels, std::vector<uint8_t>(20, 3));
  std::filesystem::remove(dir.file("train-images-idx3-ubyte.gz"));
  expect_data_error([&] { load_fashion_mnist(dir.path().string()); },
                    {dir.file("train-images-idx3-ubyte"), "cannot open (missing file)"});
}

// ---- load_dataset ------------------------------------------------------------

TEST(LoadDataset, DispatchesByName) {
  test::temp_dir dir;  // one per test: mnist/ and cifar10/ inside
  const std::string mn = dir.file("mnist"), cf = dir.file("cifar10");
  std::filesystem::create_directories(mn);
  std::filesystem::create_directories(cf);
  test::write_synthetic_mnist(mn, 12, 8);
  for (unsigned i = 1; i <= 5; ++i) {
    write_bytes(cf + "/data_batch_" + std::to_string(i) + ".bin", cifar_batch({i}));
  }
  write_bytes(cf + "/test_batch.bin", cifar_batch({0, 1}));

  const split_dataset m = load_dataset("mnist", mn, 10, 0);
  EXPECT_EQ(m.name, "mnist");
  EXPECT_EQ(m.train.size(), 10u);
  EXPECT_EQ(m.test.size(), 8u);
  EXPECT_EQ(m.train.pixels, 784u);
  EXPECT_EQ(m.train.channels * m.train.height * m.train.width, 784u);

  const split_dataset c = load_dataset("cifar10", cf, 0, 1);
  EXPECT_EQ(c.name, "cifar10");
  EXPECT_EQ(c.train.labels, (std::vector<uint8_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(c.test.labels, (std::vector<uint8_t>{0}));
  expect_cifar_shape(c.train);

  // Fashion-MNIST reads the same four files, gzipped or not.
  const split_dataset f = load_dataset("fashion-mnist", mn, 3, 2);
  EXPECT_EQ(f.name, "fashion-mnist");
  EXPECT_EQ(f.train.size(), 3u);
  EXPECT_EQ(f.test.size(), 2u);

  expect_data_error([&] { load_dataset("cifar10", mn, 0, 0); },
                    {mn + "/data_batch_1.bin", "cannot open"});
}

TEST(LoadDataset, UnknownNameListsTheKnownOnes) {
  for (const auto& call : std::vector<std::function<void()>>{
           [] { load_dataset("cifar100", "/tmp", 0, 0); }, [] { default_data_dir("imagenet"); }}) {
    try {
      call();
      ADD_FAILURE() << "no invalid_argument for an unknown data set";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("(known: mnist, fashion-mnist, cifar10, ptb-char)"),
                std::string::npos)
          << e.what();
    }
  }
  EXPECT_EQ(dataset_names(),
            (std::vector<std::string>{"mnist", "fashion-mnist", "cifar10", "ptb-char"}));
}

TEST(LoadDataset, DefaultDirectories) {
  EXPECT_EQ(default_data_dir("fashion-mnist"), "/usr/share/datasets/fashion-mnist");
  EXPECT_EQ(default_data_dir("cifar10"), "data/cifar10");
  const char* old = std::getenv("MCASIM_DATA");
  const std::string saved = old ? old : "";
  ::setenv("MCASIM_DATA", "/somewhere/mnist", 1);
  EXPECT_EQ(default_data_dir("mnist"), "/somewhere/mnist");
  ::unsetenv("MCASIM_DATA");
  EXPECT_EQ(default_data_dir("mnist"), "data/mnist");
  if (old) ::setenv("MCASIM_DATA", saved.c_str(), 1);
}

// Debian's dataset-fashion-mnist (a system package): the real test set.
TEST(FashionMnistPackage, TestSetHasTenThousandImagesOfTenClasses) {
  if (!std::filesystem::is_directory(k_fashion_mnist_dir)) {
    GTEST_SKIP() << k_fashion_mnist_dir << " is absent (Debian package dataset-fashion-mnist)";
  }
  const split_dataset f = load_dataset("fashion-mnist", "", 100, 0);
  EXPECT_EQ(f.train.size(), 100u);
  ASSERT_EQ(f.test.size(), 10000u);
  EXPECT_EQ(f.test.channels, 1u);
  EXPECT_EQ(f.test.height, 28u);
  EXPECT_EQ(f.test.width, 28u);
  EXPECT_EQ(f.test.pixels, 784u);
  std::array<std::size_t, 10> count{};
  for (const uint8_t l : f.test.labels) {
    ASSERT_LE(l, 9);
    ++count[l];
  }
  for (std::size_t c = 0; c < 10; ++c) EXPECT_EQ(count[c], 1000u) << "class " << c;
  test::moments px;
  for (const float v : f.test.images) px.add(v);
  EXPECT_NEAR(px.mean(), 0.286, 0.01);  // Fashion-MNIST's mean pixel
}

// Run by hand on a CIFAR-10 copy (MCASIM_CIFAR10, default data/cifar10):
//   test_workloads --gtest_also_run_disabled_tests --gtest_filter='*Cifar10Copy*'
TEST(Cifar10Copy, DISABLED_LoadsAndSummarises) {
  const char* env = std::getenv("MCASIM_CIFAR10");
  const std::string dir = env ? env : "data/cifar10";
  const auto start = std::chrono::steady_clock::now();
  const cifar10 c = load_cifar10(dir);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(c.train.size(), 50000u);
  ASSERT_EQ(c.test.size(), 10000u);
  std::cout << "CIFAR-10 from " << dir << ": loaded in " << seconds << " s\n";
  for (const auto* part : {&c.train, &c.test}) {
    std::array<std::size_t, 10> count{};
    for (const uint8_t l : part->labels) ++count[l];
    std::array<test::moments, 3> ch;
    for (std::size_t i = 0; i < part->size(); ++i) {
      for (std::size_t k = 0; k < part->pixels; ++k) ch[k / 1024].add(part->image(i)[k]);
    }
    std::cout << (part == &c.train ? "train" : "test") << ": " << part->size()
              << " images; per class";
    for (const auto n : count) std::cout << ' ' << n;
    std::cout << "; mean (std) R " << ch[0].mean() << " (" << ch[0].stddev() << ") G "
              << ch[1].mean() << " (" << ch[1].stddev() << ") B " << ch[2].mean() << " ("
              << ch[2].stddev() << ")\n";
    for (const auto n : count) EXPECT_EQ(n, part->size() / 10);
  }
}

}  // namespace
}  // namespace mcasim
