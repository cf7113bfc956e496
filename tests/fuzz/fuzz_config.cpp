// libFuzzer target: the configuration loader, each input both as a --config
// file and as a --set value (fuzz_entries.h).
#include "fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  mcasim::fuzz::config_file(data, size);
  mcasim::fuzz::config_set(data, size);
  return 0;
}

// libsystemc.so (linked through mcasim_platform) wants an sc_main; libFuzzer
// provides main().
int sc_main(int, char**) {
  return 0;
}
