// The PCM crossbar of a computational-memory tile as a module of its own
// (child "array" of the tile, between the PWM DAC bank and the ADC bank). It
// holds the device array (models/crossbar), reads it for the products of the
// PWM-quantised inputs (whose values the tile's functional model,
// workloads/analog_tile, computes on the same devices), programs and
// refreshes the devices, and counts its actions: device reads
// (duty-weighted, in 8-bit PWM windows), SET and RESET pulses. A read
// happens during the PWM window, so it adds no time of its own; programming
// takes the pulse time of its pulses.
// Address map (the tile calls b_transport directly; no socket inside a tile):
// A module holds a window of a layer's crossbar (one tile of a larger
// layer); rows, columns and cells below are the window's.
//   0x00 mvm      forward read of one vector: data = array_io (rows codes, cols outputs)
//   0x10 mvm_t    transposed read: data = array_io (cols codes, ext.n_out rows)
//   0x20 program  data = pulse_cmd[ext.ops] (the layer's cell indices, in
//                 the window), applied at the current time
//   0x30 sync     re-evaluate drift of every device at the current time
//   0x40 refresh  refresh check of the layer's rows [ext.n_in, ext.n_out)
//                 (clipped to the window)
//   0x50 read_g   data = 2 x ext.ops floats: the (Gp, Gn) pairs in uS of cells
//                 [ext.n_in, ext.n_in + ext.ops) (row-major in the window),
//                 one noisy read each
// The device clock is SystemC time: sc_time_stamp() + the annotated delay.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <systemc>
#include <tlm>

#include "models/crossbar.h"
#include "models/rng.h"
#include "platform/counters.h"

namespace mcasim {

struct crossbar_array_config {
  int pulse_ns = 50;             // SET / RESET pulse width for programming time
  int parallel_programming = 1;  // devices programmed at once
  refresh_config refresh;
  // Throws std::invalid_argument naming `name`.field.
  void validate(const std::string& name) const;
};

// The cells a tile holds: rows [row0, row0 + rows) and columns [col0, col0 +
// cols) of a layer's crossbar (rows 0: all of it), on a tile of tile_rows x
// tile_cols devices (its area; 0: the block's size).
struct array_window {
  std::size_t row0 = 0, rows = 0, col0 = 0, cols = 0;
  std::size_t tile_rows = 0, tile_cols = 0;
};

// What the read counts of one product need: the PWM codes of its input, their
// full scale (0: an all-zero input, nothing read) and the length of the PWM
// window in 8-bit windows (pwm_dac::window_weight).
struct array_io {
  const float* in = nullptr;
  double full_scale = 1.0;
  double window_weight = 1.0;
};

class crossbar_array : public sc_core::sc_module, public counted {
 public:
  enum action : std::size_t {
    device_read = 0,  // one device read for a full 8-bit PWM window (duty-weighted)
    set_pulse = 1,
    reset_pulse = 2,
  };
  enum address : uint64_t {
    addr_mvm = 0x00,
    addr_mvm_t = 0x10,
    addr_program = 0x20,
    addr_sync = 0x30,
    addr_refresh = 0x40,
    addr_read_g = 0x50,
  };

  SC_HAS_PROCESS(crossbar_array);
  // The module owns `devices`.
  crossbar_array(const sc_core::sc_module_name& nm, const crossbar_array_config& cfg,
                 std::unique_ptr<crossbar> devices);
  // The devices belong to someone else (a model's mca layer) and outlive
  // the module, which holds the cells of `window` (default: all).
  crossbar_array(const sc_core::sc_module_name& nm, const crossbar_array_config& cfg,
                 crossbar& devices, const array_window& window = {});

  crossbar& devices() { return *devices_; }
  const crossbar& devices() const { return *devices_; }
  // The cells this array holds (rows and cols set) and its tile's size.
  const array_window& window() const { return window_; }
  const crossbar_array_config& config() const { return cfg_; }
  // Devices per weight: 2 for differential pairs, 1 with a reference.
  std::size_t devices_per_weight() const;
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  const action_counters& counters() const override { return counters_; }
  action_counters& counters() override { return counters_; }
  void clear_counters() override { counters_.clear(); }
  std::string component() const override { return "crossbar"; }
  std::vector<std::pair<std::string, double>> area_units() const override {
    return {{"device",
             static_cast<double>(window_.tile_rows * window_.tile_cols * devices_per_weight())}};
  }

 private:
  // Counts SET and RESET pulses the devices gained since `before` and
  // returns their programming time.
  sc_core::sc_time count_pulses(stage st, uint64_t sets_before, uint64_t resets_before,
                                uint64_t sets_after, uint64_t resets_after);
  double duty_weighted_reads(const float* x, std::size_t n, double full_scale,
                             std::size_t devices_per_input) const;

  crossbar_array_config cfg_;
  std::unique_ptr<crossbar> owned_;
  crossbar* devices_;
  array_window window_;
  rng g_read_rng_;  // conductance reads: their own stream, so observing never perturbs training
  action_counters counters_{{"device_read", "set_pulse", "reset_pulse"}};
};

}  // namespace mcasim
