// ADC bank of a computational-memory tile: `converters` ADCs, each behind a
// multiplexer of `columns_per_adc` lines. At the end of the PWM window every
// line holds its integrated charge; the ADCs then convert the outputs in
// rounds, the multiplexed lines in turn: ceil(outputs / converters) rounds of
// `cycles_per_conversion` clock cycles. One bank serves both directions
// (column outputs forward, row outputs backward).
// Address map (the tile calls b_transport directly; no socket inside a tile):
//   0x00 forward   convert ext.n_out outputs at the forward resolution
//   0x10 backward  convert ext.n_out outputs at the backward resolution
// Values are quantised by the tile (models/converters); this module models
// the time, the conversions and their energy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <systemc>
#include <tlm>

#include "models/converters.h"
#include "platform/counters.h"
#include "platform/pwm_dac.h"

namespace mcasim {

struct adc_bank_config {
  int converters = 0;       // ADCs in the bank; 0 = ceil(lines / columns_per_adc)
  int columns_per_adc = 1;  // column multiplexing: lines sharing one ADC
  int cycles_per_conversion = 2;
  // Resolution (bits; `ideal` counts as 8 bits). The designs take both from
  // the experiment (experiment.mca.adc_forward, .adc_backward), which also
  // drives the quantisation of the outputs.
  quantizer_config forward, backward;
  // Throws std::invalid_argument naming `name`.field.
  void validate(const std::string& name) const;
};

class adc_bank : public sc_core::sc_module, public counted {
 public:
  // A b-bit conversion counts 2^(b-8) conversions (energy doubles per bit,
  // power/tech_14lpp.md).
  enum action : std::size_t { conversion = 0 };
  // The same addresses as the PWM bank (bank_command in platform/pwm_dac.h).
  enum address : uint64_t {
    addr_forward = pwm_dac::addr_forward,
    addr_backward = pwm_dac::addr_backward
  };

  SC_HAS_PROCESS(adc_bank);
  // `lines`: the lines the bank must serve (the tile's larger dimension);
  // converters x columns_per_adc must reach them. `period`: the tile's clock.
  adc_bank(const sc_core::sc_module_name& nm, const adc_bank_config& cfg, std::size_t lines,
           const sc_core::sc_time& period);

  const adc_bank_config& config() const { return cfg_; }
  std::size_t converters() const { return converters_; }
  // Time to convert n outputs: ceil(n / converters()) rounds.
  sc_core::sc_time convert_time(std::size_t n) const;
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  const action_counters& counters() const override { return counters_; }
  action_counters& counters() override { return counters_; }
  void clear_counters() override { counters_.clear(); }
  std::string component() const override { return "adc_bank"; }
  std::vector<std::pair<std::string, double>> area_units() const override {
    return {{"converter", static_cast<double>(converters_)}};
  }

 private:
  adc_bank_config cfg_;
  std::size_t lines_, converters_;
  sc_core::sc_time period_;
  action_counters counters_{{"conversion"}};
};

}  // namespace mcasim
