// libFuzzer target: the CIFAR-10 batch parser (fuzz_entries.h, cifar10_batch).
#include "fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  mcasim::fuzz::cifar10_batch(data, size);
  return 0;
}

// libsystemc.so (linked through mcasim_platform) wants an sc_main; libFuzzer
// provides main().
int sc_main(int, char**) {
  return 0;
}
