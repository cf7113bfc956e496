#include "workloads/characterize.h"
#include "util/version.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "models/rng.h"
#include "util/io.h"
#include "workloads/config_json.h"

namespace mcasim {

nlohmann::json run_characterization(const pcm_params& pcm, const characterize_options& opt) {
  if (opt.devices < 2) throw std::invalid_argument("--devices must be >= 2");
  if (opt.pulses < 1) throw std::invalid_argument("--pulses must be >= 1");
  if (opt.histogram_pulse < 1 || opt.histogram_pulse > opt.pulses) {
    throw std::invalid_argument("--histogram-pulse must be in [1, --pulses]");
  }
  ensure_directory(opt.out_dir);
  pcm_array dev(opt.devices, pcm, opt.seed, 0);
  rng read_rng(opt.seed, stream_id(stream_kind::characterize));
  const double t0 = pcm.drift_t0_s;
  double now = 0.0;
  for (std::size_t k = 0; k < opt.devices; ++k) dev.reset_pulse(k, now);

  std::ostringstream csv;
  csv << "pulse,mean_us,std_us,read_mean_us,read_std_us,model_mean_us\n";
  nlohmann::json rows = nlohmann::json::array();
  std::vector<float> hist_values;
  for (int p = 0; p <= opt.pulses; ++p) {
    if (p > 0) {
      now += 10.0 * t0;  // pulses spaced well apart; each read T0 after its pulse
      for (std::size_t k = 0; k < opt.devices; ++k) dev.set_pulse(k, now);
    }
    const double read_at = now + t0;
    double s = 0, s2 = 0, r = 0, r2 = 0;
    std::vector<float> reads(opt.devices);
    for (std::size_t k = 0; k < opt.devices; ++k) {
      const double g = dev.drifted(k, read_at);
      const double gr = dev.read(k, read_at, read_rng);
      s += g;
      s2 += g * g;
      r += gr;
      r2 += gr * gr;
      reads[k] = static_cast<float>(gr);
    }
    const double n = static_cast<double>(opt.devices);
    const double mean = s / n, sd = std::sqrt(std::max(0.0, s2 / n - mean * mean));
    const double rmean = r / n, rsd = std::sqrt(std::max(0.0, r2 / n - rmean * rmean));
    csv << p << ',' << mean << ',' << sd << ',' << rmean << ',' << rsd << ','
        << pcm.mean_after_pulses(p) << '\n';
    rows.push_back({{"pulse", p},
                    {"mean_us", mean},
                    {"std_us", sd},
                    {"read_mean_us", rmean},
                    {"read_std_us", rsd}});
    if (p == opt.histogram_pulse) hist_values = std::move(reads);
  }
  std::ostringstream hist;
  hist << "bin_lo_us,bin_hi_us,count\n";
  const int bins = static_cast<int>(std::ceil(pcm.g_max_us / opt.bin_us)) + 1;
  std::vector<std::size_t> counts(static_cast<std::size_t>(bins), 0);
  for (float g : hist_values) {
    const int b = std::clamp(static_cast<int>(std::floor(g / opt.bin_us)), 0, bins - 1);
    ++counts[static_cast<std::size_t>(b)];
  }
  for (int b = 0; b < bins; ++b) {
    hist << b * opt.bin_us << ',' << (b + 1) * opt.bin_us << ',' << counts[b] << '\n';
  }
  nlohmann::json doc{{"tool", "mcasim"},
                     {"version", version()},
                     {"command", "characterize"},
                     {"seed", opt.seed},
                     {"devices", opt.devices},
                     {"pulses", opt.pulses},
                     {"histogram_pulse", opt.histogram_pulse},
                     {"pcm", pcm},
                     {"per_pulse", rows}};
  write_file_atomic(opt.out_dir + "/characterization.csv", csv.str());
  write_file_atomic(opt.out_dir + "/distribution.csv", hist.str());
  write_file_atomic(opt.out_dir + "/characterization.json", doc.dump(2) + "\n");
  return doc;
}

}  // namespace mcasim
