#include "platform/cm_tile.h"

#include "platform/clock.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "models/rng.h"
#include "platform/payload.h"

namespace mcasim {

void cm_tile_config::validate() const {
  validate_clock_mhz("cm_tile", clock_mhz);
  if (pulse_ns < 0) throw std::invalid_argument("cm_tile.pulse_ns must be >= 0");
  if (parallel_programming < 1) {
    throw std::invalid_argument("cm_tile.parallel_programming must be >= 1");
  }
  pwm.validate("cm_tile.pwm");
  adc.validate("cm_tile.adc");
  refresh.validate();
}

namespace {

const cm_tile_config& validated(const cm_tile_config& cfg) {
  cfg.validate();
  return cfg;
}

}  // namespace

cm_tile::cm_tile(const sc_core::sc_module_name& nm, const cm_tile_config& cfg,
                 std::unique_ptr<crossbar> array)
    : sc_core::sc_module(nm),
      cfg_(validated(cfg)),
      array_(std::move(array)),
      period_(1e3 / cfg.clock_mhz, sc_core::SC_NS),
      pwm("pwm", cfg.pwm, std::max(array_->rows(), array_->cols()), period_),
      adc("adc", cfg.adc, std::max(array_->rows(), array_->cols()), period_),
      in_(std::max(array_->rows(), array_->cols())),
      out_(std::max(array_->rows(), array_->cols())),
      g_read_rng_(array_->seed(), stream_id(stream_kind::trace, 1000 + array_->index())) {
  tgt_socket.register_b_transport(this, &cm_tile::b_transport);
  part_gp_.set_extension(&part_ext_);
}

cm_tile::~cm_tile() {
  part_gp_.clear_extension(&part_ext_);
}

sc_core::sc_time cm_tile::drive_parts(stage st, bool backward_in, std::size_t n_in,
                                      bool backward_out, std::size_t n_out,
                                      const sc_core::sc_time& start, bool& ok) {
  // The PWM window(s) first (the crossbar is read during them), then the ADC
  // rounds, which need the integrated charge of the whole window.
  sc_core::sc_time d = start;
  part_ext_.st = st;
  part_ext_.n_in = n_in;
  part_ext_.n_out = n_out;
  part_gp_.set_command(tlm::TLM_WRITE_COMMAND);
  part_gp_.set_data_ptr(nullptr);
  part_gp_.set_data_length(0);
  part_gp_.set_address(backward_in ? pwm_dac::addr_backward : pwm_dac::addr_forward);
  part_gp_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  pwm.b_transport(part_gp_, d);
  ok = part_gp_.is_response_ok();
  if (!ok) return d - start;
  part_gp_.set_address(backward_out ? adc_bank::addr_backward : adc_bank::addr_forward);
  part_gp_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  adc.b_transport(part_gp_, d);
  ok = part_gp_.is_response_ok();
  return d - start;
}

double cm_tile::duty_weighted_reads(const float* x, std::size_t n, double full_scale,
                                    std::size_t devices_per_input) const {
  if (!(full_scale > 0)) return 0.0;
  double duty = 0.0;
  for (std::size_t k = 0; k < n; ++k) duty += std::min(1.0, std::fabs(x[k]) / full_scale);
  return duty * static_cast<double>(devices_per_input);
}

void cm_tile::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  mcasim_ext& ext = ext_of(gp);
  const stage st = ext.st;
  const double now_s = (sc_core::sc_time_stamp() + delay).to_seconds();
  const std::size_t devices = array_->synapse() == synapse_kind::differential ? 2 : 1;
  auto* data = reinterpret_cast<float*>(gp.get_data_ptr());
  sc_core::sc_time t = sc_core::SC_ZERO_TIME;
  std::array<double, 3> before{};
  bool parts_ok = true;
  if (tracing()) {
    for (std::size_t a = 0; a < before.size(); ++a) before[a] = counters_.count(st, a);
  }
  switch (gp.get_address()) {
    case addr_input: {
      n_in_ = ext.n_in;
      if (n_in_ > in_.size()) {
        gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
        return;
      }
      std::memcpy(in_.data(), data, n_in_ * sizeof(float));
      in_backward_ = st == stage::backward;
      in_scale_ = quantize(in_backward_ ? cfg_.pwm.backward : cfg_.pwm.forward, in_.data(), n_in_);
      break;
    }
    case addr_mvm: {
      array_->mvm(in_.data(), out_.data());
      n_out_ = array_->cols();
      quantize(cfg_.adc.forward, out_.data(), n_out_, in_scale_);
      counters_.add(
          st, device_read,
          duty_weighted_reads(in_.data(), array_->rows(), in_scale_, array_->cols() * devices) *
              pwm.window_weight(in_backward_));
      t = drive_parts(st, in_backward_, n_in_, false, n_out_, delay, parts_ok);
      break;
    }
    case addr_mvm_t: {
      n_out_ = ext.n_out;
      if (n_out_ > out_.size()) {
        gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
        return;
      }
      if (in_scale_ != 0.0) {
        array_->mvm_t(in_.data(), out_.data(), n_out_);
        quantize(cfg_.adc.backward, out_.data(), n_out_, in_scale_);
      } else {
        std::fill(out_.begin(), out_.begin() + n_out_, 0.0f);
      }
      counters_.add(st, device_read,
                    duty_weighted_reads(in_.data(), array_->cols(), in_scale_, n_out_ * devices) *
                        pwm.window_weight(in_backward_));
      t = drive_parts(st, in_backward_, n_in_, true, n_out_, delay, parts_ok);
      break;
    }
    case addr_output:
      std::memcpy(data, out_.data(), n_out_ * sizeof(float));
      break;
    case addr_program: {
      const device_counters before = array_->counters();
      const auto* cmds = reinterpret_cast<const pulse_cmd*>(gp.get_data_ptr());
      for (uint64_t k = 0; k < ext.ops; ++k)
        array_->pulse(cmds[k].row, cmds[k].col, cmds[k].p, now_s);
      const device_counters& after = array_->counters();
      const double sets = static_cast<double>(after.set_pulses - before.set_pulses);
      const double resets = static_cast<double>(after.reset_pulses - before.reset_pulses);
      counters_.add(st, set_pulse, sets);
      counters_.add(st, reset_pulse, resets);
      t = sc_core::sc_time(cfg_.pulse_ns * std::ceil((sets + resets) / cfg_.parallel_programming),
                           sc_core::SC_NS);
      break;
    }
    case addr_sync:
      array_->sync(now_s);
      break;
    case addr_refresh: {
      const device_counters before = array_->counters();
      array_->refresh_rows(ext.n_in, ext.n_out, cfg_.refresh, now_s);
      const device_counters& after = array_->counters();
      const double sets = static_cast<double>(after.refresh_set_pulses - before.refresh_set_pulses);
      const double resets =
          static_cast<double>(after.refresh_reset_pulses - before.refresh_reset_pulses);
      counters_.add(st, set_pulse, sets);
      counters_.add(st, reset_pulse, resets);
      t = sc_core::sc_time(cfg_.pulse_ns * std::ceil((sets + resets) / cfg_.parallel_programming),
                           sc_core::SC_NS);
      break;
    }
    case addr_read_g: {
      const std::size_t cells = array_->rows() * array_->cols();
      if (ext.n_in + ext.ops > cells || gp.get_data_length() < ext.ops * 2 * sizeof(float)) {
        gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
        return;
      }
      for (uint64_t k = 0; k < ext.ops; ++k) {
        const std::size_t cell = ext.n_in + k;
        array_->read_cell(cell / array_->cols(), cell % array_->cols(), now_s, g_read_rng_,
                          data[2 * k], data[2 * k + 1]);
      }
      // One device at a time: a full read window on its row, one conversion.
      counters_.add(st, device_read, static_cast<double>(ext.ops * devices));
      for (uint64_t k = 0; k < ext.ops * devices && parts_ok; ++k)
        t += drive_parts(st, false, 1, false, 1, delay + t, parts_ok);
      break;
    }
    default:
      gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return;
  }
  if (!parts_ok) {
    gp.set_response_status(part_gp_.get_response_status());
    return;
  }
  // The parts' busy time is their own; the tile's is the programming.
  const uint64_t addr = gp.get_address();
  if (addr == addr_program || addr == addr_refresh) counters_.busy(st, t);
  if (tracing()) {
    static const char* names[] = {"input",   "mvm",  "mvm_t",   "output",
                                  "program", "sync", "refresh", "read_g"};
    std::vector<std::pair<std::string, double>> actions;
    for (std::size_t a = 0; a < before.size(); ++a) {
      const double d = counters_.count(st, a) - before[a];
      if (d != 0) actions.emplace_back(counters_.action_names()[a], d);
    }
    trace_span(names[addr / 0x100], st, sc_core::sc_time_stamp() + delay, t, ext.wire_bytes,
               std::move(actions));
  }
  delay += t;
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace mcasim
