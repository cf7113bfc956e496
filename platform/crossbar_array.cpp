#include "platform/crossbar_array.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

#include "platform/payload.h"

namespace mcasim {

void crossbar_array_config::validate(const std::string& name) const {
  if (pulse_ns < 0) throw std::invalid_argument(name + ".pulse_ns must be >= 0");
  if (parallel_programming < 1) {
    throw std::invalid_argument(name + ".parallel_programming must be >= 1");
  }
  refresh.validate();
}

namespace {

crossbar& required(const std::unique_ptr<crossbar>& devices, const char* name) {
  if (!devices) throw std::invalid_argument(std::string(name) + ": no device array");
  return *devices;
}

}  // namespace

crossbar_array::crossbar_array(const sc_core::sc_module_name& nm, const crossbar_array_config& cfg,
                               std::unique_ptr<crossbar> devices)
    : crossbar_array(nm, cfg, required(devices, nm)) {
  owned_ = std::move(devices);
}

crossbar_array::crossbar_array(const sc_core::sc_module_name& nm, const crossbar_array_config& cfg,
                               crossbar& devices, const array_window& window)
    : sc_core::sc_module(nm),
      cfg_(cfg),
      devices_(&devices),
      window_(window),
      g_read_rng_(devices.seed(), stream_id(stream_kind::trace, 1000 + devices.index())) {
  cfg_.validate(name());
  if (window_.rows == 0) {
    window_.row0 = window_.col0 = 0;
    window_.rows = devices.rows();
    window_.cols = devices.cols();
  }
  if (window_.row0 + window_.rows > devices.rows() ||
      window_.col0 + window_.cols > devices.cols() || window_.cols == 0) {
    throw std::invalid_argument(std::string(name()) + ": window outside the device array");
  }
  window_.tile_rows = std::max(window_.tile_rows, window_.rows);
  window_.tile_cols = std::max(window_.tile_cols, window_.cols);
}

std::size_t crossbar_array::devices_per_weight() const {
  return devices_->synapse() == synapse_kind::differential ? 2 : 1;
}

double crossbar_array::duty_weighted_reads(const float* x, std::size_t n, double full_scale,
                                           std::size_t devices_per_input) const {
  if (!(full_scale > 0)) return 0.0;
  double duty = 0.0;
  for (std::size_t k = 0; k < n; ++k) duty += std::min(1.0, std::fabs(x[k]) / full_scale);
  return duty * static_cast<double>(devices_per_input);
}

sc_core::sc_time crossbar_array::count_pulses(stage st, uint64_t sets_before,
                                              uint64_t resets_before, uint64_t sets_after,
                                              uint64_t resets_after) {
  const auto sets = static_cast<double>(sets_after - sets_before);
  const auto resets = static_cast<double>(resets_after - resets_before);
  counters_.add(st, set_pulse, sets);
  counters_.add(st, reset_pulse, resets);
  const sc_core::sc_time t(cfg_.pulse_ns * std::ceil((sets + resets) / cfg_.parallel_programming),
                           sc_core::SC_NS);
  counters_.busy(st, t);
  return t;
}

void crossbar_array::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  mcasim_ext& ext = ext_of(gp);
  const stage st = ext.st;
  const double now_s = (sc_core::sc_time_stamp() + delay).to_seconds();
  const std::size_t devices = devices_per_weight();
  // The counts before, for the trace span's actions.
  std::array<double, 3> before{};
  if (tracing()) {
    for (std::size_t a = 0; a < before.size(); ++a) before[a] = counters_.count(st, a);
  }
  sc_core::sc_time t = sc_core::SC_ZERO_TIME;
  const char* span = nullptr;
  switch (gp.get_address()) {
    case addr_mvm:
    case addr_mvm_t: {
      const bool transposed = gp.get_address() == addr_mvm_t;
      if (gp.get_data_length() != sizeof(array_io) || (transposed && ext.n_out > window_.rows)) {
        gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
        return;
      }
      const auto* io = reinterpret_cast<const array_io*>(gp.get_data_ptr());
      if (transposed) {
        counters_.add(
            st, device_read,
            duty_weighted_reads(io->in, window_.cols, io->full_scale, ext.n_out * devices) *
                io->window_weight);
      } else {
        counters_.add(
            st, device_read,
            duty_weighted_reads(io->in, window_.rows, io->full_scale, window_.cols * devices) *
                io->window_weight);
      }
      span = transposed ? "read_t" : "read";
      break;
    }
    case addr_program: {
      const device_counters before = devices_->counters();
      const auto* cmds = reinterpret_cast<const pulse_cmd*>(gp.get_data_ptr());
      for (uint64_t k = 0; k < ext.ops; ++k)
        devices_->pulse(cmds[k].row, cmds[k].col, cmds[k].p, now_s);
      const device_counters& after = devices_->counters();
      t = count_pulses(st, before.set_pulses, before.reset_pulses, after.set_pulses,
                       after.reset_pulses);
      span = "program";
      break;
    }
    case addr_sync:
      devices_->sync(now_s);
      span = "sync";
      break;
    case addr_refresh: {
      const device_counters before = devices_->counters();
      const std::size_t lo = std::max<std::size_t>(ext.n_in, window_.row0);
      const std::size_t hi = std::min<std::size_t>(ext.n_out, window_.row0 + window_.rows);
      if (lo < hi) {
        devices_->refresh_block(lo, hi, window_.col0, window_.col0 + window_.cols, cfg_.refresh,
                                now_s);
      }
      const device_counters& after = devices_->counters();
      t = count_pulses(st, before.refresh_set_pulses, before.refresh_reset_pulses,
                       after.refresh_set_pulses, after.refresh_reset_pulses);
      span = "refresh";
      break;
    }
    case addr_read_g: {
      const std::size_t cells = window_.rows * window_.cols;
      if (ext.n_in + ext.ops > cells || gp.get_data_length() < ext.ops * 2 * sizeof(float)) {
        gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
        return;
      }
      auto* data = reinterpret_cast<float*>(gp.get_data_ptr());
      for (uint64_t k = 0; k < ext.ops; ++k) {
        const std::size_t cell = ext.n_in + k;
        devices_->read_cell(window_.row0 + cell / window_.cols, window_.col0 + cell % window_.cols,
                            now_s, g_read_rng_, data[2 * k], data[2 * k + 1]);
      }
      // One device at a time, a full read window each.
      counters_.add(st, device_read, static_cast<double>(ext.ops * devices));
      span = "read_g";
      break;
    }
    default:
      gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return;
  }
  if (tracing()) {
    std::vector<std::pair<std::string, double>> actions;
    for (std::size_t a = 0; a < before.size(); ++a) {
      const double delta = counters_.count(st, a) - before[a];
      if (delta != 0) actions.emplace_back(counters_.action_names()[a], delta);
    }
    trace_span(span, st, sc_core::sc_time_stamp() + delay, t, 0, std::move(actions));
  }
  delay += t;
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace mcasim
