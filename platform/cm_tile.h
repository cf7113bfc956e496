// Computational-memory tile: a hierarchical module of a PWM DAC bank
// (child "pwm", platform/pwm_dac), the PCM crossbar (models/crossbar; the
// tile counts its device reads and programming pulses) and an ADC bank
// (child "adc", platform/adc_bank). The tile decodes the address, quantises
// the values (models/converters) and drives its parts by direct b_transport
// calls that add their delays: an MVM takes the PWM window(s), during which
// the crossbar is read, then the ADC rounds of its outputs.
// Address map (relative to the tile's base on the bus):
//   0x000 input    write n_in values (PWM-quantised on arrival)
//   0x100 mvm      forward product of the input: cols outputs
//   0x200 mvm_t    transposed product of the input (cols values): n_out rows
//   0x300 output   read the ADC outputs
//   0x400 program  write a pulse list (pulse_cmd[ops]) at the current time
//   0x500 sync     re-evaluate drift of every device at the current time
//   0x600 refresh  refresh check of rows [n_in, n_out)
//   0x700 read_g   read the conductances of cells [n_in, n_in + ops) (row-major
//                  cell index): (Gp, Gn) pairs in uS, one noisy read each
// The device clock is SystemC time: sc_time_stamp() + the annotated delay.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "models/converters.h"
#include "models/crossbar.h"
#include "platform/adc_bank.h"
#include "platform/counters.h"
#include "platform/pwm_dac.h"

namespace mcasim {

struct pulse_cmd {
  uint32_t row, col;
  int32_t p;  // signed pulse count (chi_memory convention)
};

struct cm_tile_config {
  double clock_mhz = 2000.0;     // the tile's clock, shared by its converter banks
  int pulse_ns = 50;             // SET / RESET pulse width for programming time
  int parallel_programming = 1;  // devices programmed at once
  pwm_dac_config pwm;            // the input converters (child "pwm")
  adc_bank_config adc;           // the output converters (child "adc")
  refresh_config refresh;
  void validate() const;
};

class cm_tile : public sc_core::sc_module, public counted {
 public:
  // The crossbar's actions. Device reads are counted in 8-bit windows: a
  // read during a window of w 8-bit windows (pwm_dac::window_weight) counts w,
  // duty-weighted. The converters count their own conversions.
  enum action : std::size_t {
    device_read = 0,  // one device read for a full 8-bit PWM window (duty-weighted)
    set_pulse = 1,
    reset_pulse = 2,
  };
  enum address : uint64_t {
    addr_input = 0x000,
    addr_mvm = 0x100,
    addr_mvm_t = 0x200,
    addr_output = 0x300,
    addr_program = 0x400,
    addr_sync = 0x500,
    addr_refresh = 0x600,
    addr_read_g = 0x700,
    addr_span = 0x1000,
  };

  SC_HAS_PROCESS(cm_tile);
  cm_tile(const sc_core::sc_module_name& nm, const cm_tile_config& cfg,
          std::unique_ptr<crossbar> array);
  ~cm_tile() override;
  cm_tile(const cm_tile&) = delete;
  cm_tile& operator=(const cm_tile&) = delete;

 private:
  // Declared before the parts, which are built from them.
  cm_tile_config cfg_;
  std::unique_ptr<crossbar> array_;
  sc_core::sc_time period_;

 public:
  tlm_utils::simple_target_socket<cm_tile> tgt_socket{"tgt_socket"};
  pwm_dac pwm;
  adc_bank adc;

  crossbar& array() { return *array_; }
  const cm_tile_config& config() const { return cfg_; }
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  const action_counters& counters() const override { return counters_; }
  void clear_counters() override { counters_.clear(); }
  std::string component() const override { return "cm_tile"; }

 private:
  // Drives n_in inputs through the PWM bank and converts n_out outputs with
  // the ADC bank, starting at `start` (the caller's annotated delay); returns
  // the time the two add, or false in `ok` on a part's error response.
  sc_core::sc_time drive_parts(stage st, bool backward_in, std::size_t n_in, bool backward_out,
                               std::size_t n_out, const sc_core::sc_time& start, bool& ok);
  double duty_weighted_reads(const float* x, std::size_t n, double full_scale,
                             std::size_t devices_per_input) const;

  std::vector<float> in_, out_;
  std::size_t n_in_ = 0, n_out_ = 0;
  bool in_backward_ = false;  // the input was quantised at the backward resolution
  double in_scale_ = 1.0;
  rng g_read_rng_;  // conductance reads: their own stream, so observing never perturbs training
  tlm::tlm_generic_payload part_gp_;  // transactions to the parts
  mcasim_ext part_ext_;
  action_counters counters_{{"device_read", "set_pulse", "reset_pulse"}};
};

}  // namespace mcasim
