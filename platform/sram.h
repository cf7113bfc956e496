// On-chip SRAM (chi memory, weight memory): word_bits per word, banks x ports
// words per cycle, plus an access latency. The words themselves live in the
// models/ object the design owns (chi_memory, weight arrays); this module
// times and counts the accesses the initiator declares (mcasim_ext::ops
// words, read or write by the TLM command).
#pragma once

#include <string>

#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "platform/counters.h"

namespace mcasim {

struct sram_config {
  int word_bits = 32;
  int banks = 1;
  int ports = 1;
  double clock_mhz = 500.0;
  int latency_cycles = 1;
  // On-chip capacity in KiB (0: unbounded, the Table I designs); what does
  // not fit lives in DRAM (platform/designs.h).
  double capacity_kib = 0.0;
  void validate() const;
  uint64_t capacity_bits() const;
};

class sram : public sc_core::sc_module, public counted {
 public:
  enum action : std::size_t { read_word = 0, write_word = 1 };

  tlm_utils::simple_target_socket<sram> tgt_socket{"tgt_socket"};

  SC_HAS_PROCESS(sram);
  sram(const sc_core::sc_module_name& nm, const sram_config& cfg);

  // Cycles to access `words` words.
  uint64_t cycles(uint64_t words) const;
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  const action_counters& counters() const override { return counters_; }
  action_counters& counters() override { return counters_; }
  void clear_counters() override { counters_.clear(); }
  std::string component() const override { return "sram" + std::to_string(cfg_.word_bits); }
  // The bits the design keeps here (its area when the capacity is unbounded).
  void set_stored_bits(uint64_t bits) { stored_bits_ = bits; }
  std::vector<std::pair<std::string, double>> area_units() const override {
    return {{"bit", static_cast<double>(bits())}};
  }
  // KiB per bank (its capacity, or the bits the design keeps here, over the
  // banks): a larger bank costs more per access (technology energy_scaling).
  double energy_size() const override {
    return static_cast<double>(bits()) / 8.0 / 1024.0 / cfg_.banks;
  }

 private:
  uint64_t bits() const {
    const uint64_t cap = cfg_.capacity_bits();
    return cap > 0 ? cap : stored_bits_;
  }
  sram_config cfg_;
  sc_core::sc_time period_;
  uint64_t stored_bits_ = 0;
  action_counters counters_{{"read_word", "write_word"}};
};

}  // namespace mcasim
