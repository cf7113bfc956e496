// Computational-memory tile: PWM DAC bank + PCM crossbar (models/crossbar) +
// ADC bank. Address map (relative to the tile's base on the bus):
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
#include "platform/counters.h"

namespace mcasim {

struct pulse_cmd {
  uint32_t row, col;
  int32_t p;  // signed pulse count (chi_memory convention)
};

struct cm_tile_config {
  double clock_mhz = 2000.0;
  int adcs = 0;                  // ADCs per tile; 0 = one per column
  int adc_cycles = 2;            // cycles per conversion
  int pulse_ns = 50;             // SET / RESET pulse width for programming time
  int parallel_programming = 1;  // devices programmed at once
  quantizer_config pwm_forward, adc_forward, pwm_backward, adc_backward;
  refresh_config refresh;
  void validate() const;
};

class cm_tile : public sc_core::sc_module, public counted {
 public:
  // Converter and read counts are 8-bit equivalents: a b-bit conversion (and
  // a b-bit PWM window) counts 2^(b-8), the resolution scaling of converter
  // energy (Walden figure of merit) and of the window's length.
  enum action : std::size_t {
    pwm_conversion = 0,
    adc_conversion = 1,
    device_read = 2,  // one device read for a full 8-bit PWM window (duty-weighted)
    set_pulse = 3,
    reset_pulse = 4,
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

  tlm_utils::simple_target_socket<cm_tile> tgt_socket{"tgt_socket"};

  SC_HAS_PROCESS(cm_tile);
  cm_tile(const sc_core::sc_module_name& nm, const cm_tile_config& cfg,
          std::unique_ptr<crossbar> array);

  crossbar& array() { return *array_; }
  const cm_tile_config& config() const { return cfg_; }
  sc_core::sc_time pwm_window() const;
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  const action_counters& counters() const override { return counters_; }
  void clear_counters() override { counters_.clear(); }
  std::string component() const override { return "cm_tile"; }

 private:
  sc_core::sc_time mvm_time(std::size_t outputs) const;
  static double resolution_weight(const quantizer_config& q);
  double duty_weighted_reads(const float* x, std::size_t n, double full_scale,
                             std::size_t devices_per_input) const;

  cm_tile_config cfg_;
  std::unique_ptr<crossbar> array_;
  sc_core::sc_time period_;
  std::vector<float> in_, out_;
  std::size_t n_in_ = 0, n_out_ = 0;
  double in_scale_ = 1.0;
  rng g_read_rng_;  // conductance reads: their own stream, so observing never perturbs training
  action_counters counters_{
      {"pwm_conversion", "adc_conversion", "device_read", "set_pulse", "reset_pulse"}};
};

}  // namespace mcasim
