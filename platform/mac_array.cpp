#include "platform/mac_array.h"

#include "platform/clock.h"

#include <stdexcept>

namespace mcasim {

void mac_array_config::validate() const {
  if (lanes_in < 1) throw std::invalid_argument("mac_array.lanes_in must be >= 1");
  if (lanes_out < 1) throw std::invalid_argument("mac_array.lanes_out must be >= 1");
  if (precision.empty()) throw std::invalid_argument("mac_array.precision must not be empty");
  validate_clock_mhz("mac_array", clock_mhz);
  if (pipeline_cycles < 0) throw std::invalid_argument("mac_array.pipeline_cycles must be >= 0");
}

mac_array::mac_array(const sc_core::sc_module_name& nm, const mac_array_config& cfg)
    : sc_core::sc_module(nm),
      cfg_(cfg),
      period_(1e3 / cfg.clock_mhz, sc_core::SC_NS),
      counters_({"mac_" + cfg.precision}) {
  cfg_.validate();
  tgt_socket.register_b_transport(this, &mac_array::b_transport);
}

uint64_t mac_array::cycles(std::size_t n_out, std::size_t n_in, std::size_t vectors) const {
  if (n_out == 0 || n_in == 0 || vectors == 0) return 0;
  const uint64_t in_rounds = (n_in + cfg_.lanes_in - 1) / cfg_.lanes_in;
  const uint64_t out_rounds = (n_out + cfg_.lanes_out - 1) / cfg_.lanes_out;
  return vectors * in_rounds * out_rounds + cfg_.pipeline_cycles;
}

void mac_array::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  mcasim_ext& ext = ext_of(gp);
  counters_.add(ext.st, mac, static_cast<double>(ext.ops));
  const sc_core::sc_time t =
      static_cast<double>(cycles(ext.n_out, ext.n_in, ext.vectors)) * period_;
  counters_.busy(ext.st, t);
  if (tracing()) {
    trace_span("mvm", ext.st, sc_core::sc_time_stamp() + delay, t, 0,
               {{counters_.action_names()[mac], static_cast<double>(ext.ops)}});
  }
  delay += t;
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace mcasim
