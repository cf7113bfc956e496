#include "platform/dram.h"

#include <cmath>
#include <stdexcept>

#include "platform/payload.h"

namespace mcasim {

void dram_config::validate() const {
  if (!(bandwidth_gbps > 0 && std::isfinite(bandwidth_gbps))) {
    throw std::invalid_argument("platform.dram.bandwidth_gbps must be > 0");
  }
  if (!(latency_ns >= 0 && std::isfinite(latency_ns))) {
    throw std::invalid_argument("platform.dram.latency_ns must be >= 0");
  }
}

dram::dram(const sc_core::sc_module_name& nm, const dram_config& cfg)
    : sc_core::sc_module(nm), cfg_(cfg) {
  cfg_.validate();
  tgt_socket.register_b_transport(this, &dram::b_transport);
}

sc_core::sc_time dram::transfer_time(uint64_t bits) const {
  if (bits == 0) return sc_core::SC_ZERO_TIME;
  // GB/s = bytes per ns.
  const double ns = cfg_.latency_ns + static_cast<double>(bits) / 8.0 / cfg_.bandwidth_gbps;
  return sc_core::sc_time(ns, sc_core::SC_NS);
}

void dram::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  mcasim_ext& ext = ext_of(gp);
  const bool write = gp.get_command() == tlm::TLM_WRITE_COMMAND;
  const uint64_t bits = ext.ops * static_cast<uint64_t>(ext.precision_bits);
  counters_.add(ext.st, write ? write_bit : read_bit, static_cast<double>(bits));
  const sc_core::sc_time t = transfer_time(bits);
  counters_.busy(ext.st, t);
  if (tracing()) {
    trace_span(write ? "write" : "read", ext.st, sc_core::sc_time_stamp() + delay, t, bits / 8,
               {{write ? "write_bit" : "read_bit", static_cast<double>(bits)}});
  }
  delay += t;
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace mcasim
