#include "workloads/datasets.h"

#include <cstdlib>
#include <stdexcept>

#include "workloads/cifar10.h"
#include "workloads/text_corpus.h"

namespace mcasim {
namespace {

[[noreturn]] void unknown(const std::string& name) {
  std::string known;
  for (const auto& n : dataset_names()) known += (known.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown data set '" + name + "' (known: " + known + ")");
}

}  // namespace

const std::vector<std::string>& dataset_names() {
  static const std::vector<std::string> names{"mnist", "fashion-mnist", "cifar10", "ptb-char"};
  return names;
}

std::string default_data_dir(const std::string& name) {
  if (name == "mnist") {
    if (const char* env = std::getenv("MCASIM_DATA")) return env;
    return "data/mnist";
  }
  if (name == "fashion-mnist") return k_fashion_mnist_dir;
  if (name == "cifar10") return "data/cifar10";
  if (name == "ptb-char") return "data/ptb";
  unknown(name);
}

split_dataset load_dataset(const std::string& name, const std::string& dir, std::size_t train_limit,
                           std::size_t test_limit, std::size_t steps) {
  const std::string from = dir.empty() ? default_data_dir(name) : dir;
  split_dataset s;
  s.name = name;
  if (name == "mnist" || name == "fashion-mnist") {
    mnist m = name == "mnist" ? load_mnist(from, train_limit, test_limit)
                              : load_fashion_mnist(from, train_limit, test_limit);
    s.train = std::move(m.train);
    s.test = std::move(m.test);
  } else if (name == "cifar10") {
    cifar10 c = load_cifar10(from, train_limit, test_limit);
    s.train = std::move(c.train);
    s.test = std::move(c.test);
  } else if (name == "ptb-char") {
    const char_corpus c = read_ptb_char(from);
    s.train = char_sequences(c.train, steps, train_limit);
    s.valid = char_sequences(c.valid, steps, test_limit);
    s.test = char_sequences(c.test, steps, test_limit);
    s.symbols = true;
  } else {
    unknown(name);
  }
  return s;
}

}  // namespace mcasim
