// Sweeps under MPI (Debian's Open MPI): `mpirun -np N mcasim sweep SPEC --out
// DIR` spreads the points over the ranks (point i on rank i % N), rank 0
// tells every rank which points are already done (resume), and the ranks
// send their points' result files to rank 0, which writes the results table.
// The output directory need not be shared between machines.
#pragma once

#include "app/sweep.h"

namespace mcasim {

// True when this process was started by mpirun (and MPI support is built in).
bool launched_by_mpirun();
// Runs the sweep on this rank and gathers on rank 0; returns the number of
// failed points over all ranks (on rank 0; 0 elsewhere). *is_root tells
// whether this process was rank 0.
int run_sweep_mpi(const sweep_spec& spec, sweep_options opt, int* argc, char*** argv,
                  bool* is_root);

}  // namespace mcasim
