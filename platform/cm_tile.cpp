#include "platform/cm_tile.h"

#include "platform/clock.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "platform/payload.h"

namespace mcasim {

void cm_tile_config::validate() const {
  validate_clock_mhz("cm_tile", clock_mhz);
  pwm.validate("cm_tile.pwm");
  array.validate("cm_tile.array");
  adc.validate("cm_tile.adc");
}

namespace {

const cm_tile_config& validated(const cm_tile_config& cfg) {
  cfg.validate();
  return cfg;
}

crossbar& required(const std::unique_ptr<crossbar>& devices, const char* name) {
  if (!devices) throw std::invalid_argument(std::string(name) + ": no device array");
  return *devices;
}

// The lines a tile's converter banks serve: its larger dimension.
std::size_t lines_of(const crossbar& devices, const array_window& w) {
  const std::size_t rows = std::max(w.tile_rows, w.rows > 0 ? w.rows : devices.rows());
  const std::size_t cols = std::max(w.tile_cols, w.rows > 0 ? w.cols : devices.cols());
  return std::max(rows, cols);
}

array_window window_of(const analog_tile& values, std::size_t block, std::size_t tile_rows,
                       std::size_t tile_cols) {
  if (block >= values.blocks().size()) {
    throw std::invalid_argument("cm_tile: block " + std::to_string(block) + " of a layer of " +
                                std::to_string(values.blocks().size()) + " blocks");
  }
  const analog_tile::block& b = values.blocks()[block];
  return {b.row0, b.rows, b.col0, b.cols, tile_rows, tile_cols};
}

}  // namespace

cm_tile::cm_tile(const sc_core::sc_module_name& nm, const cm_tile_config& cfg,
                 std::unique_ptr<crossbar> devices)
    : cm_tile(nm, cfg, required(devices, nm), array_window{}) {
  owned_ = std::move(devices);
  mca_numerics n;
  n.pwm_forward = cfg_.pwm.forward;
  n.pwm_backward = cfg_.pwm.backward;
  n.adc_forward = cfg_.adc.forward;
  n.adc_backward = cfg_.adc.backward;
  n.refresh = cfg_.array.refresh;
  own_values_ =
      std::make_unique<analog_tile>(*owned_, n, cfg_.adc.forward.range, cfg_.adc.backward.range);
  values_ = own_values_.get();
}

cm_tile::cm_tile(const sc_core::sc_module_name& nm, const cm_tile_config& cfg, analog_tile& values,
                 std::size_t block, std::size_t tile_rows, std::size_t tile_cols)
    : cm_tile(nm, cfg, values.devices(), window_of(values, block, tile_rows, tile_cols)) {
  values_ = &values;
  block_ = block;
}

cm_tile::cm_tile(const sc_core::sc_module_name& nm, const cm_tile_config& cfg, crossbar& devices,
                 const array_window& window)
    : sc_core::sc_module(nm),
      cfg_(validated(cfg)),
      period_(1e3 / cfg.clock_mhz, sc_core::SC_NS),
      pwm("pwm", cfg.pwm, lines_of(devices, window), period_),
      array("array", cfg.array, devices, window),
      adc("adc", cfg.adc, lines_of(devices, window), period_) {
  tgt_socket.register_b_transport(this, &cm_tile::b_transport);
  part_gp_.set_extension(&part_ext_);
}

cm_tile::~cm_tile() {
  part_gp_.clear_extension(&part_ext_);
}

tlm::tlm_generic_payload& cm_tile::part_command(uint64_t addr, void* data, std::size_t len,
                                                stage st, std::size_t n_in, std::size_t n_out,
                                                uint64_t ops) {
  part_ext_.st = st;
  part_ext_.n_in = n_in;
  part_ext_.n_out = n_out;
  part_ext_.ops = ops;
  part_ext_.wire_bytes = 0;
  part_gp_.set_command(tlm::TLM_WRITE_COMMAND);
  part_gp_.set_address(addr);
  part_gp_.set_data_ptr(reinterpret_cast<unsigned char*>(data));
  part_gp_.set_data_length(static_cast<unsigned int>(len));
  part_gp_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  return part_gp_;
}

bool cm_tile::product(uint64_t array_addr, stage st, std::size_t n_out, sc_core::sc_time& d) {
  // The array is read during the PWM window(s); the ADC rounds need the
  // integrated charge of the whole window, so they follow it.
  const std::vector<float>& codes = values_->codes();
  const std::vector<double>& scales = values_->scales();
  const double window = pwm.window_weight(in_backward_);
  // The block's share of every vector: its rows (forward) or columns.
  const bool transposed = array_addr == crossbar_array::addr_mvm_t;
  const array_window& w = array.window();
  const std::size_t first = transposed ? w.col0 : w.row0, lines = transposed ? w.cols : w.rows;
  for (std::size_t v = 0; v < vectors_; ++v) {
    sc_core::sc_time read_at = d;
    pwm.b_transport(part_command(in_backward_ ? pwm_dac::addr_backward : pwm_dac::addr_forward,
                                 nullptr, 0, st, lines, n_out, 0),
                    d);
    if (!part_gp_.is_response_ok()) return false;
    array_io io{codes.data() + v * n_in_ + first, scales[v], window};
    array.b_transport(part_command(array_addr, &io, sizeof io, st, lines, n_out, 0), read_at);
    if (!part_gp_.is_response_ok()) return false;
    adc.b_transport(part_command(transposed ? adc_bank::addr_backward : adc_bank::addr_forward,
                                 nullptr, 0, st, lines, n_out, 0),
                    d);
    if (!part_gp_.is_response_ok()) return false;
  }
  return true;
}

void cm_tile::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  mcasim_ext& ext = ext_of(gp);
  const stage st = ext.st;
  auto* data = reinterpret_cast<float*>(gp.get_data_ptr());
  crossbar& xb = array.devices();
  sc_core::sc_time d = delay;
  bool ok = true;
  switch (gp.get_address()) {
    case addr_input:
      n_in_ = ext.n_in;
      vectors_ = ext.vectors;
      if (vectors_ == 0 || gp.get_data_length() != vectors_ * n_in_ * sizeof(float)) {
        gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
        return;
      }
      in_backward_ = st == stage::backward;
      if (n_in_ != (in_backward_ ? xb.cols() : xb.rows())) {
        gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
        return;
      }
      // The digital unit's codes of the layer arrive as they are; other
      // values are quantised here.
      if (data != values_->codes().data() || values_->loaded_vectors() != vectors_) {
        values_->load(data, vectors_, in_backward_);
      }
      break;
    case addr_mvm:
      if (in_backward_ || vectors_ == 0) {
        gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
        return;
      }
      n_out_ = values_->out_width(block_, false, 0);
      out_.resize(vectors_ * n_out_);
      values_->block_product(block_, false, out_.data(), 0);
      ok = product(crossbar_array::addr_mvm, st, n_out_, d);
      break;
    case addr_mvm_t:
      if (!in_backward_ || vectors_ == 0 || ext.n_out > xb.rows()) {
        gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
        return;
      }
      n_out_ = values_->out_width(block_, true, ext.n_out);
      out_.resize(vectors_ * n_out_);
      values_->block_product(block_, true, out_.data(), ext.n_out);
      ok = product(crossbar_array::addr_mvm_t, st, n_out_, d);
      break;
    case addr_output:
      if (gp.get_data_length() != out_.size() * sizeof(float)) {
        gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
        return;
      }
      std::memcpy(data, out_.data(), out_.size() * sizeof(float));
      break;
    case addr_program:
      array.b_transport(part_command(crossbar_array::addr_program, gp.get_data_ptr(),
                                     gp.get_data_length(), st, 0, 0, ext.ops),
                        d);
      ok = part_gp_.is_response_ok();
      break;
    case addr_sync:
      array.b_transport(part_command(crossbar_array::addr_sync, nullptr, 0, st, 0, 0, 0), d);
      ok = part_gp_.is_response_ok();
      break;
    case addr_refresh:
      array.b_transport(
          part_command(crossbar_array::addr_refresh, nullptr, 0, st, ext.n_in, ext.n_out, 0), d);
      ok = part_gp_.is_response_ok();
      break;
    case addr_read_g: {
      array.b_transport(part_command(crossbar_array::addr_read_g, gp.get_data_ptr(),
                                     gp.get_data_length(), st, ext.n_in, 0, ext.ops),
                        d);
      ok = part_gp_.is_response_ok();
      // One device at a time: a window on its row, then one conversion.
      const uint64_t reads = ext.ops * array.devices_per_weight();
      for (uint64_t k = 0; k < reads && ok; ++k) {
        pwm.b_transport(part_command(pwm_dac::addr_forward, nullptr, 0, st, 1, 1, 0), d);
        ok = part_gp_.is_response_ok();
        if (!ok) break;
        adc.b_transport(part_command(adc_bank::addr_forward, nullptr, 0, st, 1, 1, 0), d);
        ok = part_gp_.is_response_ok();
      }
      break;
    }
    default:
      gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return;
  }
  if (!ok) {
    gp.set_response_status(part_gp_.get_response_status());
    return;
  }
  delay = d;
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace mcasim
