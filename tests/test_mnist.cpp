// workloads/mnist.h: the IDX reader on small valid files and on every kind of
// broken file, each of which must raise data_error naming the file and the
// problem.
#include "workloads/mnist.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <typeinfo>
#include <vector>

#include "test_util.h"

namespace mcasim {
namespace {

using test::idx_images;
using test::idx_labels;
using test::write_bytes;

// Three 2x3 images with known pixel bytes and labels 7, 0, 9.
struct small_files {
  std::vector<unsigned char> pixels{0,  51, 102, 153, 204, 255,  //
                                    1,  2,  3,   4,   5,   6,    //
                                    10, 20, 30,  40,  50,  60};
  std::vector<unsigned char> labels{7, 0, 9};
  std::vector<unsigned char> image_bytes() const { return idx_images(3, 2, 3, pixels); }
  std::vector<unsigned char> label_bytes() const { return idx_labels(labels); }
};

class MnistReader : public ::testing::Test {
 protected:
  void SetUp() override {
    images_ = dir_.file("images-idx3-ubyte");
    labels_ = dir_.file("labels-idx1-ubyte");
    write_bytes(images_, files_.image_bytes());
    write_bytes(labels_, files_.label_bytes());
  }

  // Expects read_idx_pair to throw data_error whose message names `path`
  // and contains `word`.
  void expect_error(const std::string& path, const std::string& word) {
    try {
      read_idx_pair(images_, labels_);
      ADD_FAILURE() << "no data_error for a file that should fail with '" << word << "'";
    } catch (const data_error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path), std::string::npos) << "message '" << msg << "' lacks " << path;
      EXPECT_NE(msg.find(word), std::string::npos) << "message '" << msg << "' lacks " << word;
    }
  }

  test::temp_dir dir_;
  small_files files_;
  std::string images_, labels_;
};

TEST_F(MnistReader, ReadsValidFiles) {
  const dataset ds = read_idx_pair(images_, labels_);
  ASSERT_EQ(ds.size(), 3u);
  EXPECT_EQ(ds.pixels, 6u);
  EXPECT_EQ(ds.channels, 1u);  // the shape from the header: 1 x rows x cols
  EXPECT_EQ(ds.height, 2u);
  EXPECT_EQ(ds.width, 3u);
  ASSERT_EQ(ds.images.size(), 18u);
  EXPECT_EQ(ds.labels, (std::vector<uint8_t>{7, 0, 9}));
  for (std::size_t k = 0; k < 18; ++k) {
    EXPECT_FLOAT_EQ(ds.images[k], files_.pixels[k] / 255.0f) << k;
  }
  EXPECT_EQ(ds.image(0)[5], 1.0f);
  EXPECT_EQ(ds.image(0)[0], 0.0f);
  EXPECT_FLOAT_EQ(ds.image(2)[1], 20.0f / 255.0f);
}

TEST_F(MnistReader, LimitKeepsTheFirstPairs) {
  const dataset ds = read_idx_pair(images_, labels_, 2);
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds.images.size(), 12u);
  EXPECT_EQ(ds.labels, (std::vector<uint8_t>{7, 0}));
  EXPECT_FLOAT_EQ(ds.image(1)[3], 4.0f / 255.0f);
  EXPECT_EQ(read_idx_pair(images_, labels_, 10).size(), 3u);  // limit beyond the file
  EXPECT_EQ(read_idx_pair(images_, labels_, 0).size(), 3u);   // 0 = all
}

TEST_F(MnistReader, MissingFile) {
  images_ = dir_.file("no-such-file");
  expect_error(images_, "cannot open");
  images_ = dir_.file("images-idx3-ubyte");
  labels_ = dir_.file("no-labels");
  expect_error(labels_, "cannot open");
}

TEST_F(MnistReader, TruncatedHeader) {
  auto b = files_.image_bytes();
  b.resize(10);
  write_bytes(images_, b);
  expect_error(images_, "truncated header");
  write_bytes(images_, {});
  expect_error(images_, "truncated header");
  write_bytes(images_, files_.image_bytes());
  write_bytes(labels_, {0, 0, 8, 1, 0});
  expect_error(labels_, "truncated header");
}

TEST_F(MnistReader, WrongMagic) {
  // A label file where images are expected, and the other way round.
  write_bytes(images_, idx_labels(std::vector<unsigned char>(22, 0)));
  expect_error(images_, "magic");
  write_bytes(images_, files_.image_bytes());
  auto b = files_.label_bytes();
  b[3] = 0x03;
  write_bytes(labels_, b);
  expect_error(labels_, "magic");
}

TEST_F(MnistReader, TruncatedPayload) {
  auto b = files_.image_bytes();
  b.pop_back();
  write_bytes(images_, b);
  expect_error(images_, "truncated");
  write_bytes(images_, files_.image_bytes());
  b = files_.label_bytes();
  b.pop_back();
  write_bytes(labels_, b);
  expect_error(labels_, "truncated");
}

TEST_F(MnistReader, ExtraTrailingBytes) {
  auto b = files_.image_bytes();
  b.push_back(0);
  b.push_back(0);
  write_bytes(images_, b);
  expect_error(images_, "unexpected bytes");
  write_bytes(images_, files_.image_bytes());
  b = files_.label_bytes();
  b.push_back(1);
  write_bytes(labels_, b);
  expect_error(labels_, "unexpected bytes");
}

TEST_F(MnistReader, CountMismatch) {
  write_bytes(labels_, idx_labels({1, 2}));
  expect_error(images_, "labels");
  expect_error(labels_, "labels");
}

TEST_F(MnistReader, LabelOutOfRange) {
  write_bytes(labels_, idx_labels({3, 10, 4}));
  expect_error(labels_, "outside 0..9");
}

TEST_F(MnistReader, EmptyImageSize) {
  write_bytes(images_, idx_images(3, 0, 3, {}));
  expect_error(images_, "empty");
}

// Regression: a path that names a directory opened as an ifstream; on ext4
// tellg() then reported a huge size and allocation threw std::bad_alloc
// instead of a data_error naming the file.
TEST_F(MnistReader, PathIsADirectory) {
  images_ = dir_.file("a-directory");
  std::filesystem::create_directories(images_);
  try {
    read_idx_pair(images_, labels_);
    ADD_FAILURE() << "a directory was read as an image file";
  } catch (const data_error& e) {
    EXPECT_NE(std::string(e.what()).find(images_), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected data_error naming " << images_ << ", got " << typeid(e).name()
                  << ": " << e.what();
  }
}

TEST_F(MnistReader, NoImages) {
  write_bytes(images_, idx_images(0, 28, 28, {}));
  write_bytes(labels_, idx_labels({}));
  expect_error(images_, "no images");
}

TEST_F(MnistReader, DimensionsWhoseProductOverflows) {
  write_bytes(images_, idx_images(0xffffffffu, 0xffffffffu, 0xffffffffu, {}));
  expect_error(images_, "4294967295 x 4294967295 x 4294967295 overflow");
}

TEST_F(MnistReader, HeaderPromisingMoreThanTheFile) {
  write_bytes(images_, idx_images(60000, 28000, 28000, {0, 0, 0, 0}));
  expect_error(images_, "60000 x 28000 x 28000) promises 47040000000000 data bytes");
}

// Regression: the whole file was read into memory before its header was
// checked, so a huge wrong file (here a sparse 1 GiB one) was allocated in
// full before being refused.
TEST_F(MnistReader, HugeFileIsRefusedBeforeItIsRead) {
  std::error_code ec;
  std::filesystem::resize_file(images_, uint64_t{1} << 30, ec);
  if (ec) GTEST_SKIP() << "no sparse 1 GiB file here: " << ec.message();
  expect_error(images_, "unexpected bytes");
}

// The in-memory parser is the one read_idx_pair uses: same result, and
// messages name the given names.
TEST(ParseIdxPair, ParsesFromMemory) {
  const small_files files;
  const dataset ds = parse_idx_pair("imgs", files.image_bytes(), "labs", files.label_bytes(), 2);
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds.pixels, 6u);
  EXPECT_EQ(ds.labels, (std::vector<uint8_t>{7, 0}));
  EXPECT_FLOAT_EQ(ds.image(1)[3], 4.0f / 255.0f);
  try {
    parse_idx_pair("imgs", {0, 0, 8}, "labs", files.label_bytes());
    FAIL() << "no data_error for a 3-byte image file";
  } catch (const data_error& e) {
    EXPECT_NE(std::string(e.what()).find("imgs: truncated header"), std::string::npos) << e.what();
  }
}

TEST(LoadMnist, ReadsTheFourStandardFiles) {
  test::temp_dir dir;
  test::write_synthetic_mnist(dir.path().string(), 30, 20);
  const mnist m = load_mnist(dir.path().string(), 25, 0);
  EXPECT_EQ(m.train.size(), 25u);
  EXPECT_EQ(m.test.size(), 20u);
  EXPECT_EQ(m.train.pixels, 784u);
  EXPECT_EQ(m.test.pixels, 784u);
  EXPECT_EQ(m.test.channels, 1u);
  EXPECT_EQ(m.test.height, 28u);
  EXPECT_EQ(m.test.width, 28u);
  for (float v : m.train.images) {
    ASSERT_GE(v, 0.0f);
    ASSERT_LE(v, 1.0f);
  }
}

TEST(LoadMnist, MissingDirectoryNamesTheFile) {
  try {
    load_mnist("/nonexistent-mcasim-dir");
    FAIL() << "no data_error";
  } catch (const data_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-mcasim-dir/train-images-idx3-ubyte"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace mcasim
