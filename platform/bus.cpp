#include "platform/bus.h"

#include "platform/clock.h"

#include <stdexcept>

namespace mcasim {

void bus_config::validate() const {
  if (width_bits < 1) throw std::invalid_argument("bus.width_bits must be >= 1");
  validate_clock_mhz("bus", clock_mhz);
  if (latency_cycles < 0) throw std::invalid_argument("bus.latency_cycles must be >= 0");
}

bus::bus(const sc_core::sc_module_name& nm, const bus_config& cfg)
    : sc_core::sc_module(nm), cfg_(cfg), period_(1e3 / cfg.clock_mhz, sc_core::SC_NS) {
  cfg_.validate();
  tgt_socket.register_b_transport(this, &bus::b_transport);
}

void bus::map(std::size_t target, uint64_t base, uint64_t size) {
  for (const route& r : routes_) {
    if (base < r.base + r.size && r.base < base + size) {
      throw std::invalid_argument(std::string(name()) + ": address range overlaps another");
    }
  }
  routes_.push_back({target, base, size});
}

void bus::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  mcasim_ext& ext = ext_of(gp);
  const uint64_t addr = gp.get_address();
  const route* hit = nullptr;
  for (const route& r : routes_) {
    if (addr >= r.base && addr < r.base + r.size) hit = &r;
  }
  if (hit == nullptr) {
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  const uint64_t n = beats(ext.wire_bytes, cfg_.width_bits);
  const sc_core::sc_time t = static_cast<double>(n + cfg_.latency_cycles) * period_;
  counters_.add(ext.st, beat, static_cast<double>(n));
  counters_.busy(ext.st, t);
  if (tracing()) {
    trace_span(gp.is_read() ? "read" : "write", ext.st, sc_core::sc_time_stamp() + delay, t,
               ext.wire_bytes, {{"beat", static_cast<double>(n)}});
  }
  delay += t;
  if (hit->target >= init_socket.size()) {  // mapped but not bound: the transfer ends here
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
    return;
  }
  gp.set_address(addr - hit->base);
  init_socket[hit->target]->b_transport(gp, delay);
  gp.set_address(addr);
}

}  // namespace mcasim
