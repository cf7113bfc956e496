#include "platform/pwm_dac.h"

#include <cmath>
#include <stdexcept>

#include "platform/payload.h"

namespace mcasim {

void pwm_dac_config::validate(const std::string& name) const {
  if (converters < 0) {
    throw std::invalid_argument(name + ".converters must be >= 0 (0 = one per line)");
  }
  if (cycles_per_level < 1) throw std::invalid_argument(name + ".cycles_per_level must be >= 1");
  forward.validate((name + ".forward").c_str());
  backward.validate((name + ".backward").c_str());
}

pwm_dac::pwm_dac(const sc_core::sc_module_name& nm, const pwm_dac_config& cfg, std::size_t lines,
                 const sc_core::sc_time& period)
    : sc_core::sc_module(nm),
      cfg_(cfg),
      lines_(lines),
      converters_(cfg.converters > 0 ? static_cast<std::size_t>(cfg.converters) : lines),
      period_(period) {
  cfg_.validate(name());
  if (lines_ == 0) throw std::invalid_argument(std::string(name()) + ": a bank drives >= 1 line");
}

sc_core::sc_time pwm_dac::window(bool backward) const {
  const double levels = std::ldexp(1.0, converter_bits(resolution(backward)));
  return levels * cfg_.cycles_per_level * period_;
}

double pwm_dac::window_weight(bool backward) const {
  return conversion_weight(resolution(backward)) * cfg_.cycles_per_level;
}

sc_core::sc_time pwm_dac::drive_time(std::size_t n, bool backward) const {
  const std::size_t windows = (n + converters_ - 1) / converters_;
  return static_cast<double>(windows) * window(backward);
}

void pwm_dac::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  const mcasim_ext& ext = ext_of(gp);
  bool backward = false;
  if (!bank_command(gp, ext.n_in, lines_, backward)) return;
  const double n = static_cast<double>(ext.n_in) * conversion_weight(resolution(backward));
  const sc_core::sc_time t = drive_time(ext.n_in, backward);
  counters_.add(ext.st, conversion, n);
  counters_.busy(ext.st, t);
  if (tracing() && ext.n_in > 0) {
    trace_span("window", ext.st, sc_core::sc_time_stamp() + delay, t, 0, {{"conversion", n}});
  }
  delay += t;
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace mcasim
