// The data sets by name, for the command line: MNIST and Fashion-MNIST (IDX,
// 1 x 28 x 28), CIFAR-10 (binary batches, 3 x 32 x 32) and the Penn
// Treebank's characters (ptb-char: sequences of symbol indices with the
// next symbol of every step as its label; workloads/text_corpus.h).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "workloads/mnist.h"  // dataset, data_error

namespace mcasim {

struct split_dataset {
  dataset train, test;
  dataset valid;         // a validation split, when the data set has one (ptb-char)
  std::string name;      // one of dataset_names()
  bool symbols = false;  // a language model's text: losses also in bits per symbol
};

// "mnist", "fashion-mnist", "cifar10", "ptb-char".
const std::vector<std::string>& dataset_names();

// Where a data set is looked for without --data: mnist: $MCASIM_DATA or
// data/mnist; fashion-mnist: /usr/share/datasets/fashion-mnist (Debian's
// dataset-fashion-mnist); cifar10: data/cifar10; ptb-char: data/ptb. Throws
// std::invalid_argument for an unknown name, listing the known ones.
std::string default_data_dir(const std::string& name);

// Loads data set `name` from `dir` (empty: default_data_dir(name)), keeping
// the first train_limit training and test_limit test (and validation)
// samples (0 = all). Text comes as sequences of `steps` symbols (a
// recurrent network's training.bptt). Throws std::invalid_argument for an
// unknown name, data_error for the files.
split_dataset load_dataset(const std::string& name, const std::string& dir,
                           std::size_t train_limit = 0, std::size_t test_limit = 0,
                           std::size_t steps = 1);

}  // namespace mcasim
