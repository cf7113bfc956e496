// PWM DAC bank of a computational-memory tile: one pulse-width modulator per
// driven line turns an input code into a read pulse whose length is the code
// (2^bits levels, `cycles_per_level` clock cycles each). The lines are read
// during the window, so the crossbar read overlaps it and adds no time of its
// own. With fewer converters than inputs, groups of inputs are driven in
// turn, one window each (the column integrators keep the charge).
// Address map (the tile calls b_transport directly; no socket inside a tile):
//   0x00 forward   drive ext.n_in inputs at the forward resolution
//   0x10 backward  drive ext.n_in inputs at the backward resolution
// Values are quantised by the tile (models/converters); this module models
// the time, the conversions and their energy.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include <systemc>
#include <tlm>

#include "models/converters.h"
#include "platform/counters.h"

namespace mcasim {

struct pwm_dac_config {
  int converters = 0;        // DACs in the bank; 0 = one per line of the tile
  int cycles_per_level = 1;  // window: 2^bits levels x cycles_per_level clock cycles
  // Resolution (bits; `ideal` counts as 8 bits). The designs take both from
  // the experiment (experiment.mca.pwm_forward, .pwm_backward), which also
  // drives the quantisation of the inputs.
  quantizer_config forward, backward;
  // Throws std::invalid_argument naming `name`.field.
  void validate(const std::string& name) const;
};

class pwm_dac : public sc_core::sc_module, public counted {
 public:
  // A b-bit conversion counts 2^(b-8) conversions: the energy per
  // conversion doubles per bit (power/tech_14lpp.md).
  enum action : std::size_t { conversion = 0 };
  enum address : uint64_t { addr_forward = 0x00, addr_backward = 0x10 };

  SC_HAS_PROCESS(pwm_dac);
  // `lines`: the lines the bank can drive (the tile's larger dimension);
  // `period`: the tile's clock period.
  pwm_dac(const sc_core::sc_module_name& nm, const pwm_dac_config& cfg, std::size_t lines,
          const sc_core::sc_time& period);

  const pwm_dac_config& config() const { return cfg_; }
  std::size_t converters() const { return converters_; }
  // Length of one full-scale window.
  sc_core::sc_time window(bool backward) const;
  // The same window in units of an 8-bit window of one cycle per level (the
  // unit of the crossbar's duty-weighted device reads).
  double window_weight(bool backward) const;
  // Time to drive n inputs: one window per group of `converters()` inputs.
  sc_core::sc_time drive_time(std::size_t n, bool backward) const;
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  const action_counters& counters() const override { return counters_; }
  action_counters& counters() override { return counters_; }
  void clear_counters() override { counters_.clear(); }
  std::string component() const override { return "pwm_dac"; }
  std::vector<std::pair<std::string, double>> area_units() const override {
    return {{"converter", static_cast<double>(converters_)}};
  }

 private:
  const quantizer_config& resolution(bool backward) const {
    return backward ? cfg_.backward : cfg_.forward;
  }

  pwm_dac_config cfg_;
  std::size_t lines_, converters_;
  sc_core::sc_time period_;
  action_counters counters_{{"conversion"}};
};

// Bits of a converter for timing and energy: an ideal converter counts as 8.
inline int converter_bits(const quantizer_config& q) {
  return q.ideal ? 8 : q.bits;
}
// Conversions in 8-bit units: 2^(bits-8) per conversion.
inline double conversion_weight(const quantizer_config& q) {
  return std::ldexp(1.0, converter_bits(q) - 8);
}

// The command of a converter bank (PWM DACs or ADCs): a write to the
// forward (0x00) or backward (0x10) address for at most `lines` values.
// Sets the error response and returns false for anything else; on success
// `backward` tells the direction.
inline bool bank_command(tlm::tlm_generic_payload& gp, std::size_t values, std::size_t lines,
                         bool& backward) {
  const uint64_t addr = gp.get_address();
  if (gp.get_command() != tlm::TLM_WRITE_COMMAND ||
      (addr != pwm_dac::addr_forward && addr != pwm_dac::addr_backward)) {
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return false;
  }
  if (values > lines) {
    gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
    return false;
  }
  backward = addr == pwm_dac::addr_backward;
  return true;
}

}  // namespace mcasim
