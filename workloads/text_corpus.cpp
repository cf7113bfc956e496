#include "workloads/text_corpus.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace mcasim {

namespace {

// A symbol as a message shows it: printable as is, else its byte value.
std::string shown(char c) {
  if (c == '\n') return "the line end";
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
  return "byte " + std::to_string(static_cast<unsigned>(u));
}

std::string read_text(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw data_error(path + ": no such file");
  if (!std::filesystem::is_regular_file(path, ec)) throw data_error(path + ": not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw data_error(path + ": cannot open (" + std::strerror(errno) + ")");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw data_error(path + ": read error (" + std::strerror(errno) + ")");
  return text;
}

// Calls f(symbol, line) for every symbol of a space-separated text; throws
// when two symbols are not separated by a space.
template <class F>
void for_each_symbol(const std::string& name, const std::string& text, F f) {
  std::size_t line = 1;
  bool after_symbol = false;
  for (const char c : text) {
    if (c == ' ') {
      after_symbol = false;
      continue;
    }
    if (after_symbol) {
      throw data_error(name + ": line " + std::to_string(line) + ": " + shown(c) +
                       " follows a symbol without a space (symbols are separated by spaces, "
                       "as in ptb.char.*.txt)");
    }
    f(c, line);
    after_symbol = true;
    if (c == '\n') ++line;
  }
}

}  // namespace

int char_vocabulary::index(char c) const {
  const auto it = std::lower_bound(symbols.begin(), symbols.end(), c, [](char a, char b) {
    return static_cast<unsigned char>(a) < static_cast<unsigned char>(b);
  });
  return it != symbols.end() && *it == c ? static_cast<int>(it - symbols.begin()) : -1;
}

char_vocabulary vocabulary_of(const std::string& name, const std::string& text) {
  std::array<bool, 256> seen{};
  for_each_symbol(name, text,
                  [&](char c, std::size_t) { seen[static_cast<unsigned char>(c)] = true; });
  char_vocabulary v;
  for (std::size_t b = 0; b < seen.size(); ++b) {
    if (seen[b]) v.symbols.push_back(static_cast<char>(b));
  }
  if (v.symbols.empty()) throw data_error(name + ": no symbols (an empty training text)");
  if (v.symbols.size() > 255) {
    throw data_error(name + ": " + std::to_string(v.symbols.size()) +
                     " distinct symbols; at most 255 are supported");
  }
  return v;
}

char_text parse_char_text(const std::string& name, const std::string& text,
                          const char_vocabulary& vocab) {
  char_text t;
  t.name = name;
  t.symbols.reserve(text.size() / 2 + 1);
  for_each_symbol(name, text, [&](char c, std::size_t line) {
    const int i = vocab.index(c);
    if (i < 0) {
      throw data_error(name + ": line " + std::to_string(line) + ": " + shown(c) +
                       " is not in the training text's vocabulary of " +
                       std::to_string(vocab.size()) + " symbols");
    }
    t.symbols.push_back(static_cast<uint8_t>(i));
  });
  return t;
}

char_corpus read_ptb_char(const std::string& dir, std::size_t limit) {
  const std::filesystem::path d(dir);
  auto path = [&](const char* split) {
    return (d / ("ptb.char." + std::string(split) + ".txt")).string();
  };
  char_corpus c;
  const std::string train_path = path("train");
  const std::string train_text = read_text(train_path);
  c.vocabulary = vocabulary_of(train_path, train_text);
  c.train = parse_char_text(train_path, train_text, c.vocabulary);
  c.valid = parse_char_text(path("valid"), read_text(path("valid")), c.vocabulary);
  c.test = parse_char_text(path("test"), read_text(path("test")), c.vocabulary);
  if (limit > 0) {
    for (char_text* t : {&c.train, &c.valid, &c.test}) {
      if (t->symbols.size() > limit) t->symbols.resize(limit);
    }
  }
  return c;
}

dataset char_sequences(const char_text& text, std::size_t steps, std::size_t limit) {
  if (steps < 1) throw std::invalid_argument("char_sequences: steps must be >= 1");
  std::size_t n = text.size() > 0 ? (text.size() - 1) / steps : 0;
  if (n == 0) {
    throw data_error(text.name + ": " + std::to_string(text.size()) +
                     " symbols hold no sequence of " + std::to_string(steps) +
                     " steps and its next symbols");
  }
  if (limit > 0) n = std::min(n, limit);
  dataset ds;
  ds.pixels = steps;
  ds.channels = 1;
  ds.height = steps;
  ds.width = 1;
  ds.targets = steps;
  ds.images.resize(n * steps);
  ds.labels.resize(n * steps);
  for (std::size_t k = 0; k < n * steps; ++k) {
    ds.images[k] = static_cast<float>(text.symbols[k]);
    ds.labels[k] = text.symbols[k + 1];
  }
  return ds;
}

}  // namespace mcasim
