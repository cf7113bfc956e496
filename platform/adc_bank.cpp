#include "platform/adc_bank.h"

#include <stdexcept>

#include "platform/payload.h"

namespace mcasim {

void adc_bank_config::validate(const std::string& name) const {
  if (converters < 0) {
    throw std::invalid_argument(name +
                                ".converters must be >= 0 (0 = one per columns_per_adc lines)");
  }
  if (columns_per_adc < 1) throw std::invalid_argument(name + ".columns_per_adc must be >= 1");
  if (cycles_per_conversion < 0) {
    throw std::invalid_argument(name + ".cycles_per_conversion must be >= 0");
  }
  forward.validate((name + ".forward").c_str());
  backward.validate((name + ".backward").c_str());
}

adc_bank::adc_bank(const sc_core::sc_module_name& nm, const adc_bank_config& cfg, std::size_t lines,
                   const sc_core::sc_time& period)
    : sc_core::sc_module(nm), cfg_(cfg), lines_(lines), converters_(0), period_(period) {
  cfg_.validate(name());
  if (lines_ == 0) throw std::invalid_argument(std::string(name()) + ": a bank serves >= 1 line");
  const auto mux = static_cast<std::size_t>(cfg_.columns_per_adc);
  converters_ =
      cfg_.converters > 0 ? static_cast<std::size_t>(cfg_.converters) : (lines_ + mux - 1) / mux;
  if (converters_ * mux < lines_) {
    throw std::invalid_argument(std::string(name()) +
                                ".converters x columns_per_adc = " + std::to_string(converters_) +
                                " x " + std::to_string(mux) + " reaches fewer than the " +
                                std::to_string(lines_) + " lines of the tile");
  }
}

sc_core::sc_time adc_bank::convert_time(std::size_t n) const {
  const std::size_t rounds = (n + converters_ - 1) / converters_;
  return static_cast<double>(rounds) * cfg_.cycles_per_conversion * period_;
}

void adc_bank::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  const mcasim_ext& ext = ext_of(gp);
  bool backward = false;
  if (!bank_command(gp, ext.n_out, lines_, backward)) return;
  const quantizer_config& q = backward ? cfg_.backward : cfg_.forward;
  const double n = static_cast<double>(ext.n_out) * conversion_weight(q);
  const sc_core::sc_time t = convert_time(ext.n_out);
  counters_.add(ext.st, conversion, n);
  counters_.busy(ext.st, t);
  if (tracing() && ext.n_out > 0) {
    trace_span("convert", ext.st, sc_core::sc_time_stamp() + delay, t, 0, {{"conversion", n}});
  }
  delay += t;
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace mcasim
