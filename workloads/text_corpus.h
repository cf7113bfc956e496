// Character-level text corpora for language models, in the layout of the
// Penn Treebank character files (ptb.char.{train,valid,test}.txt): every
// symbol, the line end included, is followed by one space, e.g.
// " a e r _ b a n k \n p i e r r e _ ...". Symbols are single bytes; the
// vocabulary is every distinct symbol of the training text (50 for PTB: 49
// characters and the line end), numbered in byte order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "workloads/mnist.h"  // data_error

namespace mcasim {

struct char_vocabulary {
  std::vector<char> symbols;  // index -> symbol, in byte order
  std::size_t size() const { return symbols.size(); }
  // The symbol's index, or -1 when it is not in the vocabulary.
  int index(char c) const;
};

// One split of a corpus: its symbols as vocabulary indices, in order.
struct char_text {
  std::string name;              // the file it came from (messages)
  std::vector<uint8_t> symbols;  // vocabulary indices
  std::size_t size() const { return symbols.size(); }
};

struct char_corpus {
  char_vocabulary vocabulary;  // of the training text
  char_text train, valid, test;
};

// The vocabulary of a training text (its distinct symbols). Throws
// data_error naming `name` for an empty text or more than 255 symbols.
char_vocabulary vocabulary_of(const std::string& name, const std::string& text);
// Parses `text` (named `name` in messages) into indices of `vocab`. Throws
// data_error naming the file, the line and the symbol: a symbol outside the
// vocabulary, or two symbols not separated by a space.
char_text parse_char_text(const std::string& name, const std::string& text,
                          const char_vocabulary& vocab);
// Reads DIR/ptb.char.{train,valid,test}.txt; the vocabulary comes from the
// training file. `limit` keeps the first `limit` symbols of each split (0:
// all). Throws data_error naming a missing or malformed file.
char_corpus read_ptb_char(const std::string& dir, std::size_t limit = 0);

// A text as sequences for a language model: sample k has the `steps`
// symbols from k steps on as its values (symbol indices) and the symbols
// one further as its labels (the next symbol of every step); the samples
// do not overlap, the last symbols that fill no sequence are left out.
// `limit` keeps the first `limit` sequences (0: all). Throws data_error
// naming the text when it is too short for one sequence.
dataset char_sequences(const char_text& text, std::size_t steps, std::size_t limit = 0);

}  // namespace mcasim
