#include "platform/sram.h"

#include "platform/clock.h"

#include <stdexcept>

namespace mcasim {

void sram_config::validate() const {
  if (word_bits < 1) throw std::invalid_argument("sram.word_bits must be >= 1");
  if (banks < 1) throw std::invalid_argument("sram.banks must be >= 1");
  if (ports < 1) throw std::invalid_argument("sram.ports must be >= 1");
  validate_clock_mhz("sram", clock_mhz);
  if (latency_cycles < 0) throw std::invalid_argument("sram.latency_cycles must be >= 0");
  if (!(capacity_kib >= 0 && capacity_kib < 1e12)) {
    throw std::invalid_argument("sram.capacity_kib must be >= 0 (0 = unbounded)");
  }
}

uint64_t sram_config::capacity_bits() const {
  return static_cast<uint64_t>(capacity_kib * 1024.0 * 8.0);
}

sram::sram(const sc_core::sc_module_name& nm, const sram_config& cfg)
    : sc_core::sc_module(nm), cfg_(cfg), period_(1e3 / cfg.clock_mhz, sc_core::SC_NS) {
  cfg_.validate();
  tgt_socket.register_b_transport(this, &sram::b_transport);
}

uint64_t sram::cycles(uint64_t words) const {
  if (words == 0) return 0;
  const uint64_t per_cycle = static_cast<uint64_t>(cfg_.banks) * cfg_.ports;
  return (words + per_cycle - 1) / per_cycle + cfg_.latency_cycles;
}

void sram::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  mcasim_ext& ext = ext_of(gp);
  const bool write = gp.get_command() == tlm::TLM_WRITE_COMMAND;
  counters_.add(ext.st, write ? write_word : read_word, static_cast<double>(ext.ops));
  const sc_core::sc_time t = static_cast<double>(cycles(ext.ops)) * period_;
  counters_.busy(ext.st, t);
  if (tracing()) {
    trace_span(write ? "write" : "read", ext.st, sc_core::sc_time_stamp() + delay, t,
               ext.ops * static_cast<uint64_t>(cfg_.word_bits / 8),
               {{write ? "write_word" : "read_word", static_cast<double>(ext.ops)}});
  }
  delay += t;
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace mcasim
