// libFuzzer target: the MNIST IDX reader (fuzz_entries.h, idx_pair).
#include "fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  mcasim::fuzz::idx_pair(data, size);
  return 0;
}

// libsystemc.so (linked through mcasim_platform) wants an sc_main; libFuzzer
// provides main().
int sc_main(int, char**) {
  return 0;
}
