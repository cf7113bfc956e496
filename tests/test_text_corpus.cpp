// Character corpora in the PTB character files' layout: vocabulary from the
// training text, indices, and errors that name the file, line and symbol.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "test_util.h"
#include "workloads/datasets.h"
#include "workloads/text_corpus.h"

namespace mcasim {
namespace {

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Writes the three splits into `dir`.
void write_corpus(const test::temp_dir& dir, const std::string& train, const std::string& valid,
                  const std::string& test) {
  write(dir.file("ptb.char.train.txt"), train);
  write(dir.file("ptb.char.valid.txt"), valid);
  write(dir.file("ptb.char.test.txt"), test);
}

// Expects `f` to throw data_error whose message contains every part.
template <class F>
void expect_data_error(F f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no data_error";
  } catch (const data_error& e) {
    for (const auto& p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

TEST(CharCorpus, VocabularyComesFromTheTrainingTextInByteOrder) {
  test::temp_dir dir;
  write_corpus(dir, " a b _ c \n b a \n ", " c a \n ", " _ \n ");
  const char_corpus c = read_ptb_char(dir.path().string());
  // '\n' (10) < '_' (95) < 'a' < 'b' < 'c'
  EXPECT_EQ(c.vocabulary.symbols, (std::vector<char>{'\n', '_', 'a', 'b', 'c'}));
  EXPECT_EQ(c.vocabulary.index('b'), 3);
  EXPECT_EQ(c.vocabulary.index('z'), -1);
  EXPECT_EQ(c.train.symbols, (std::vector<uint8_t>{2, 3, 1, 4, 0, 3, 2, 0}));
  EXPECT_EQ(c.valid.symbols, (std::vector<uint8_t>{4, 2, 0}));
  EXPECT_EQ(c.test.symbols, (std::vector<uint8_t>{1, 0}));
  EXPECT_EQ(c.valid.name, dir.file("ptb.char.valid.txt"));
  // A limit keeps the first symbols of every split.
  const char_corpus first = read_ptb_char(dir.path().string(), 3);
  EXPECT_EQ(first.train.symbols, (std::vector<uint8_t>{2, 3, 1}));
  EXPECT_EQ(first.test.size(), 2u);
  EXPECT_EQ(first.vocabulary.size(), 5u);  // still the whole training text's
}

TEST(CharCorpus, BadFilesAreNamedWithTheLineAndSymbol) {
  test::temp_dir dir;
  // A symbol the training text does not have, on the valid file's line 2.
  write_corpus(dir, " a b \n ", " a \n b z \n ", " a \n ");
  expect_data_error([&] { read_ptb_char(dir.path().string()); },
                    {dir.file("ptb.char.valid.txt"), "line 2", "'z'", "vocabulary of 3 symbols"});
  // Two symbols without a space between them.
  write_corpus(dir, " a b \n ", " a \n ", " ab \n ");
  expect_data_error([&] { read_ptb_char(dir.path().string()); },
                    {dir.file("ptb.char.test.txt"), "line 1", "'b' follows a symbol"});
  // An unprintable byte is shown by value.
  write_corpus(dir, " a b \n ", " a \n ", std::string(" \x01 \n "));
  expect_data_error([&] { read_ptb_char(dir.path().string()); }, {"line 1", "byte 1"});
  // An empty training text, and a missing split.
  write_corpus(dir, "   ", " a \n ", " a \n ");
  expect_data_error([&] { read_ptb_char(dir.path().string()); },
                    {dir.file("ptb.char.train.txt"), "no symbols"});
  std::filesystem::remove(dir.file("ptb.char.test.txt"));
  write(dir.file("ptb.char.train.txt"), " a \n ");
  expect_data_error([&] { read_ptb_char(dir.path().string()); },
                    {dir.file("ptb.char.test.txt"), "no such file"});
}

TEST(CharCorpus, SequencesHoldTheNextSymbolOfEveryStepAsLabels) {
  char_text t;
  t.name = "t.txt";
  t.symbols = {0, 1, 2, 3, 4, 5, 6, 7};
  const dataset d = char_sequences(t, 3);
  // (8 - 1) / 3 = 2 sequences, not overlapping; symbol 7 is only a label.
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d.targets, 3u);
  EXPECT_EQ(d.pixels, 3u);
  EXPECT_EQ(d.images, (std::vector<float>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(d.labels, (std::vector<uint8_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(*d.label(1), 4);
  EXPECT_EQ(char_sequences(t, 3, 1).size(), 1u);  // the first `limit` sequences
  EXPECT_EQ(char_sequences(t, 7).size(), 1u);
  expect_data_error([&] { char_sequences(t, 8); }, {"t.txt", "8 symbols hold no sequence of 8"});
}

TEST(CharCorpus, PtbCharDataSetHasAValidationSplitAndCountsBits) {
  test::temp_dir dir;
  write_corpus(dir, " a b _ c \n b a \n a b c \n ", " c a \n a b ", " _ \n a \n b ");
  const split_dataset s = load_dataset("ptb-char", dir.path().string(), 0, 1, 2);
  EXPECT_TRUE(s.symbols);
  EXPECT_EQ(s.train.size(), 5u);  // (12 symbols - 1) / 2
  EXPECT_EQ(s.valid.size(), 1u);  // test_limit applies to both evaluation splits
  EXPECT_EQ(s.test.size(), 1u);
  EXPECT_EQ(s.valid.labels, (std::vector<uint8_t>{2, 0}));  // c a \n: a, \n
  EXPECT_EQ(default_data_dir("ptb-char"), "data/ptb");
}

// Run by hand on the PTB character files (MCASIM_PTB, default data/ptb; `bash
// ../shared/data/ptb/build.sh data/ptb`):
//   test_workloads --gtest_also_run_disabled_tests --gtest_filter='*PtbChar*'
TEST(PtbChar, DISABLED_LoadsTheFiftySymbols) {
  const char* env = std::getenv("MCASIM_PTB");
  const char_corpus c = read_ptb_char(env ? env : "data/ptb");
  std::cout << "PTB characters: vocabulary " << c.vocabulary.size() << ", train " << c.train.size()
            << ", valid " << c.valid.size() << ", test " << c.test.size() << "\n";
  EXPECT_EQ(c.vocabulary.size(), 50u);  // 49 characters and the line end
  EXPECT_EQ(c.vocabulary.symbols.front(), '\n');
}

}  // namespace
}  // namespace mcasim
