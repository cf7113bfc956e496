// libFuzzer target: the sweep spec loader (fuzz_entries.h, sweep_spec_file).
#include "fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  mcasim::fuzz::sweep_spec_file(data, size);
  return 0;
}

// libsystemc.so (linked through mcasim_platform) wants an sc_main; libFuzzer
// provides main().
int sc_main(int, char**) {
  return 0;
}
