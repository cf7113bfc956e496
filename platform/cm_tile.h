// Computational-memory tile: a hierarchical module of a PWM DAC bank
// (child "pwm", platform/pwm_dac), the PCM crossbar (child "array",
// platform/crossbar_array) and an ADC bank (child "adc", platform/adc_bank).
// A tile holds one block of a weight layer (the whole layer when it fits;
// workloads/analog_tile splits larger layers). The tile decodes the
// address, computes its block's values with the layer's functional tile
// (workloads/analog_tile: PWM codes, crossbar products, ADC outputs; the
// same object the functional run uses, so both agree bit for bit) and drives
// its parts by direct b_transport calls that add their delays: every MVM of
// a block takes the PWM window(s), during which the array is read, then the
// ADC rounds of its outputs. The parts count the actions; the tile has none
// of its own.
// Address map (relative to the tile's base on the bus):
//   0x000 input    write a block of ext.vectors vectors of ext.n_in values
//                  each (the layer's whole vectors: its rows forward, its
//                  columns in the backward stage); the layer's own codes
//                  (analog_tile::codes, quantised by the digital unit) are
//                  taken as they are, other values are quantised first
//   0x100 mvm      forward product of the block's rows of every input vector:
//                  its cols outputs each (partial sums when the layer has
//                  more row blocks)
//   0x200 mvm_t    transposed product of the block's columns of every input
//                  vector: its rows within the layer's first ext.n_out rows
//   0x300 output   read the block's ADC outputs
//   0x400 program  write a pulse list (pulse_cmd[ops], the layer's cells in
//                  the block) at the current time
//   0x500 sync     re-evaluate drift of every device at the current time
//   0x600 refresh  refresh check of the layer's rows [n_in, n_out) in the block
//   0x700 read_g   read the conductances of cells [n_in, n_in + ops) (row-major
//                  cell index in the block): (Gp, Gn) pairs in uS, one noisy
//                  read each, each device converted by one ADC after a
//                  one-line window
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
#include "platform/crossbar_array.h"
#include "platform/pwm_dac.h"
#include "workloads/analog_tile.h"

namespace mcasim {

struct cm_tile_config {
  double clock_mhz = 2000.0;    // the tile's clock, shared by its converter banks
  pwm_dac_config pwm;           // the input converters (child "pwm")
  crossbar_array_config array;  // the devices (child "array")
  adc_bank_config adc;          // the output converters (child "adc")
  void validate() const;
};

class cm_tile : public sc_core::sc_module {
 public:
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
  // The tile owns `devices` and computes with its own converters (cfg.pwm
  // and cfg.adc quantisers, ADC full scales cfg.adc.*.range).
  cm_tile(const sc_core::sc_module_name& nm, const cm_tile_config& cfg,
          std::unique_ptr<crossbar> devices);
  // The values come from `values` (a model's mca layer), whose block
  // `block` the tile holds, on a tile of tile_rows x tile_cols devices (0:
  // the block's size); both outlive the tile.
  cm_tile(const sc_core::sc_module_name& nm, const cm_tile_config& cfg, analog_tile& values,
          std::size_t block = 0, std::size_t tile_rows = 0, std::size_t tile_cols = 0);
  ~cm_tile() override;
  cm_tile(const cm_tile&) = delete;
  cm_tile& operator=(const cm_tile&) = delete;

 private:
  // Declared before the parts, which are built from them.
  cm_tile_config cfg_;
  sc_core::sc_time period_;

 public:
  tlm_utils::simple_target_socket<cm_tile> tgt_socket{"tgt_socket"};
  pwm_dac pwm;
  crossbar_array array;
  adc_bank adc;

  crossbar& devices() { return array.devices(); }
  // The layer's cells this tile holds.
  const array_window& window() const { return array.window(); }
  const cm_tile_config& config() const { return cfg_; }
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);

 private:
  // The transaction of one command to a part (`addr` with `data`, `len`
  // bytes, and the operands), ready for the part's b_transport.
  tlm::tlm_generic_payload& part_command(uint64_t addr, void* data, std::size_t len, stage st,
                                         std::size_t n_in, std::size_t n_out, uint64_t ops);
  // The parts' share of a block of products (values already computed):
  // per vector, the PWM window(s) of its n_in codes, the array read during
  // them (`array_addr`), then the ADC conversion of the n_out outputs; the
  // parts advance `d`. False on a part's error response (left in part_gp_).
  bool product(uint64_t array_addr, stage st, std::size_t n_out, sc_core::sc_time& d);

  // The parts on `window` of `devices`; the constructors above set values_.
  cm_tile(const sc_core::sc_module_name& nm, const cm_tile_config& cfg, crossbar& devices,
          const array_window& window);

  std::unique_ptr<crossbar> owned_;          // the devices, when the tile owns them
  std::unique_ptr<analog_tile> own_values_;  // their functional tile, when it owns them
  analog_tile* values_ = nullptr;
  std::size_t block_ = 0;  // of values_
  std::vector<float> out_;
  std::size_t n_in_ = 0, n_out_ = 0, vectors_ = 0;
  bool in_backward_ = false;          // the input arrived in the backward stage
  tlm::tlm_generic_payload part_gp_;  // transactions to the parts
  mcasim_ext part_ext_;
};

}  // namespace mcasim
