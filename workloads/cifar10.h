// CIFAR-10 (Krizhevsky 2009) in its standard binary layout: data_batch_1.bin
// .. data_batch_5.bin and test_batch.bin, each a sequence of 3,073-byte
// records (1 label byte 0..9, then 3,072 pixel bytes: the 32x32 red plane,
// then green, then blue, rows row-major). Images become floats in [0, 1] in
// the same order (CHW: 3 x 32 x 32).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "workloads/mnist.h"  // dataset, data_error

namespace mcasim {

constexpr std::size_t k_cifar10_channels = 3, k_cifar10_height = 32, k_cifar10_width = 32;
constexpr std::size_t k_cifar10_pixels = k_cifar10_channels * k_cifar10_height * k_cifar10_width;
constexpr std::size_t k_cifar10_record = 1 + k_cifar10_pixels;  // 3,073 bytes

// The records of one batch file's contents in memory, the first `limit` of
// them (0 = all); `name` stands for the file in messages. Throws data_error
// for no bytes, a size that is not a whole number of records, a label above 9.
dataset parse_cifar10_batch(const std::string& name, const std::vector<unsigned char>& bytes,
                            std::size_t limit = 0);

// The records of the batch files in the given order, the first `limit` of
// them in all (0 = all); only the bytes of the records kept are read, and
// files after the limit is reached are not opened. Throws data_error naming
// the file: missing or unreadable (with the system's reason), not a regular
// file, empty, a size that is not a whole number of records, a label above 9.
dataset read_cifar10_batches(const std::vector<std::string>& paths, std::size_t limit = 0);

struct cifar10 {
  dataset train, test;
};

// train: DIR/data_batch_1.bin .. data_batch_5.bin (50,000 images); test:
// DIR/test_batch.bin (10,000).
cifar10 load_cifar10(const std::string& dir, std::size_t train_limit = 0,
                     std::size_t test_limit = 0);

}  // namespace mcasim
