// `mcasim report DIR`: one self-contained HTML page (plots drawn by Chart.js,
// inlined) for any result directory: table1 (energy per stage and design on a
// log scale with the paper's values, time breakdown), train (accuracy per
// epoch, Fig. 3d; device updates per epoch, Fig. 3c; conductance evolution,
// Fig. 3b; accuracy after drift, Fig. 3e; energy per stage for platform
// runs), characterize (Fig. 2a/b), sweep (scatter plots with Pareto fronts).
#pragma once

#include <string>

namespace mcasim {

// Writes DIR/report.html; returns the number of plots. Throws
// std::invalid_argument when DIR holds no known result, std::runtime_error
// when the plotting library cannot be read.
int write_report(const std::string& dir, const std::string& chartjs_path);

}  // namespace mcasim
