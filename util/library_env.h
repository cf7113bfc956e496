// The environment the numeric libraries read when the program loads, before
// main: libgomp's OMP_WAIT_POLICY and OpenBLAS's OPENBLAS_CORETYPE.
#pragma once

#include <string>

namespace mcasim {

// Starts the program again (the same arguments, the same process id) when
// the environment leaves either of them unset and setting it makes the
// numeric libraries faster, without changing what they compute beyond
// float rounding:
//  - OMP_WAIT_POLICY=PASSIVE: OpenMP threads sleep between parallel regions
//    instead of spinning (2-3x faster steps on 2 threads, same results);
//  - OPENBLAS_CORETYPE=SKYLAKEX on a processor with AVX-512 F, BW, CD, DQ
//    and VL: OpenBLAS's AVX-512 kernels, which it picks itself on Intel
//    processors with AVX-512 but not on AMD Zen 4 (Debian 12's OpenBLAS
//    0.3.21 runs its AVX2 kernels there: 1.24x slower mca CNN steps).
// Returns when nothing is to be set or the restart failed.
void restart_with_library_environment(char** argv);

}  // namespace mcasim
