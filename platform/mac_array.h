// Digital multiply-accumulate engine: a grid of lanes_in x lanes_out MACs per
// cycle at one operand precision. An (n_out x n_in) matrix-vector product
// takes ceil(n_out / lanes_out) * ceil(n_in / lanes_in) cycles; a block of
// such products (mcasim_ext::vectors) follows back to back, plus the
// pipeline depth once. Counts the MACs the initiator performed
// (mcasim_ext::ops).
#pragma once

#include <string>

#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "platform/counters.h"

namespace mcasim {

struct mac_array_config {
  int lanes_in = 64;                // terms of one output summed per cycle
  int lanes_out = 1;                // outputs computed side by side
  std::string precision = "32x32";  // technology-table action "mac_<precision>"
  double clock_mhz = 500.0;
  int pipeline_cycles = 2;
  void validate() const;
};

class mac_array : public sc_core::sc_module, public counted {
 public:
  enum action : std::size_t { mac = 0 };

  tlm_utils::simple_target_socket<mac_array> tgt_socket{"tgt_socket"};

  SC_HAS_PROCESS(mac_array);
  mac_array(const sc_core::sc_module_name& nm, const mac_array_config& cfg);

  uint64_t cycles(std::size_t n_out, std::size_t n_in, std::size_t vectors = 1) const;
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  const action_counters& counters() const override { return counters_; }
  action_counters& counters() override { return counters_; }
  void clear_counters() override { counters_.clear(); }
  std::string component() const override { return "mac_array"; }
  std::vector<std::pair<std::string, double>> area_units() const override {
    return {{"mac_" + cfg_.precision, static_cast<double>(cfg_.lanes_in) * cfg_.lanes_out}};
  }

 private:
  mac_array_config cfg_;
  sc_core::sc_time period_;
  action_counters counters_;
};

}  // namespace mcasim
