// Off-chip DRAM (LPDDR4-class by default): what does not fit in a design's
// on-chip SRAM lives here. A transfer of `ops` words of `word_bits` bits
// (mcasim_ext::ops; read or write by the TLM command, mcasim_ext::precision_bits
// the word size) takes the access latency once plus the bits at the
// interface's bandwidth, and counts its bits (energy per bit in the
// technology file, component "dram"; the default's source is in
// power/tech_14lpp.md).
#pragma once

#include <cstdint>
#include <string>

#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "platform/counters.h"

namespace mcasim {

// Default: an LPDDR4-4266 device of two x16 channels (power/tech_14lpp.md).
struct dram_config {
  double bandwidth_gbps = 17.1;  // GB/s: 2 channels x 16 bits x 4266 MT/s
  double latency_ns = 40.0;      // tRCD + RL (35.2 ns) + the burst (~5 ns)
  // Throws std::invalid_argument naming platform.dram.<field>.
  void validate() const;
};

class dram : public sc_core::sc_module, public counted {
 public:
  enum action : std::size_t { read_bit = 0, write_bit = 1 };

  tlm_utils::simple_target_socket<dram> tgt_socket{"tgt_socket"};

  SC_HAS_PROCESS(dram);
  dram(const sc_core::sc_module_name& nm, const dram_config& cfg);

  // Time of one transfer of `bits` bits.
  sc_core::sc_time transfer_time(uint64_t bits) const;
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  const action_counters& counters() const override { return counters_; }
  action_counters& counters() override { return counters_; }
  void clear_counters() override { counters_.clear(); }
  std::string component() const override { return "dram"; }

 private:
  dram_config cfg_;
  action_counters counters_{{"read_bit", "write_bit"}};
};

}  // namespace mcasim
