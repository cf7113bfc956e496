// Data bus between the digital unit and its targets (tiles, memories):
// width_bits per beat at clock_mhz; a transfer of B wire bytes takes
// ceil(8 B / width_bits) beats plus a fixed latency. Routes by address.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "platform/counters.h"

namespace mcasim {

struct bus_config {
  int width_bits = 16;
  double clock_mhz = 2000.0;
  int latency_cycles = 0;
  void validate() const;
};

class bus : public sc_core::sc_module, public counted {
 public:
  enum action : std::size_t { beat = 0 };

  tlm_utils::simple_target_socket<bus> tgt_socket{"tgt_socket"};
  tlm_utils::multi_passthrough_initiator_socket<bus> init_socket{"init_socket"};

  SC_HAS_PROCESS(bus);
  bus(const sc_core::sc_module_name& nm, const bus_config& cfg);

  // Routes [base, base + size) to init_socket[target] (in binding order).
  void map(std::size_t target, uint64_t base, uint64_t size);
  static uint64_t beats(std::size_t wire_bytes, int width_bits) {
    return (static_cast<uint64_t>(wire_bytes) * 8 + width_bits - 1) / width_bits;
  }
  sc_core::sc_time period() const { return period_; }

  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  const action_counters& counters() const override { return counters_; }
  action_counters& counters() override { return counters_; }
  void clear_counters() override { counters_.clear(); }
  std::string component() const override { return "bus"; }
  // Its wires, one per bit of the width (area_um2.bus.wire_bit).
  std::vector<std::pair<std::string, double>> area_units() const override {
    return {{"wire_bit", static_cast<double>(cfg_.width_bits)}};
  }

 private:
  struct route {
    std::size_t target;
    uint64_t base, size;
  };
  bus_config cfg_;
  sc_core::sc_time period_;
  std::vector<route> routes_;
  action_counters counters_{{"beat"}};
};

}  // namespace mcasim
