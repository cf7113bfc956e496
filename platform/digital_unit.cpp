#include "platform/digital_unit.h"

#include "platform/clock.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "models/converters.h"
#include "workloads/network.h"

namespace mcasim {

namespace {

// Issues one transaction carrying `ext` on `socket`, with `delay` annotated
// (in: the initiator's offset; out: plus the targets' latency). A response
// error is a broken contract of the platform and raises an SC error.
void call(tlm_utils::simple_initiator_socket<digital_unit>& socket, tlm::tlm_command cmd,
          uint64_t addr, void* data, std::size_t bytes, mcasim_ext& ext, sc_core::sc_time& delay,
          const char* who) {
  tlm::tlm_generic_payload gp;
  gp.set_command(cmd);
  gp.set_address(addr);
  gp.set_data_ptr(reinterpret_cast<unsigned char*>(data));
  gp.set_data_length(static_cast<unsigned>(bytes));
  gp.set_streaming_width(static_cast<unsigned>(bytes));
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  gp.set_extension(&ext);
  socket->b_transport(gp, delay);
  gp.clear_extension(&ext);
  if (gp.is_response_error()) {
    SC_REPORT_ERROR("mcasim/digital_unit",
                    (std::string(who) + ": " + gp.get_response_string()).c_str());
  }
}

}  // namespace

void digital_unit_config::validate() const {
  validate_clock_mhz("digital_unit", clock_mhz);
  for (int v :
       {quantize_lanes, activation_lanes, derivative_lanes, error_lanes, outer_product_lanes}) {
    if (v < 1) throw std::invalid_argument("digital_unit: every *_lanes must be >= 1");
  }
  if (op_latency_cycles < 0) {
    throw std::invalid_argument("digital_unit.op_latency_cycles must be >= 0");
  }
}

digital_unit::digital_unit(const sc_core::sc_module_name& nm, const digital_unit_config& cfg)
    : sc_core::sc_module(nm), cfg_(cfg), period_(1e3 / cfg.clock_mhz, sc_core::SC_NS) {
  cfg_.validate();
  SC_THREAD(run);
}

void digital_unit::clear_stage_times() {
  for (auto& t : stage_time_) t = sc_core::SC_ZERO_TIME;
}

void digital_unit::advance(const sc_core::sc_time& t) {
  qk_.inc(t);
  if (qk_.need_sync()) qk_.sync();
}

void digital_unit::vector_op(stage s, action a, std::size_t n, int lanes) {
  if (n == 0) return;
  counters_.add(s, a, static_cast<double>(n));
  const uint64_t cycles = (n + lanes - 1) / lanes + cfg_.op_latency_cycles;
  advance(static_cast<double>(cycles) * period_);
}

void digital_unit::trace_vcd(sc_core::sc_trace_file* tf, uint64_t first, uint64_t last,
                             std::function<void()> refresh) {
  vcd_ = true;
  vcd_refresh_ = std::move(refresh);
  vcd_first_ = first;
  vcd_last_ = last;
  const std::string n = name();
  sc_core::sc_trace(tf, vcd_stage_, n + ".stage");
  sc_core::sc_trace(tf, vcd_image_, n + ".image");
}

void digital_unit::begin_stage(stage s) {
  current_stage_ = static_cast<int>(s);
  stage_start_ = now();
  if (vcd_on_) {
    qk_.sync();  // the traced value changes at the stage's own time
    vcd_stage_ = current_stage_ + 1;
    if (vcd_refresh_) vcd_refresh_();
  }
}

void digital_unit::end_stage() {
  const sc_core::sc_time spent = now() - stage_start_;
  stage_time_[current_stage_] += spent;
  counters_.add(static_cast<stage>(current_stage_), cycle, spent / period_);
  if (tracing()) {
    const stage st = static_cast<stage>(current_stage_);
    trace_span(stage_name(st), st, stage_start_, spent, 0, {{"cycle", spent / period_}});
  }
  counters_.busy(static_cast<stage>(current_stage_), spent);
  current_stage_ = -1;
  if (vcd_on_) {
    qk_.sync();
    vcd_stage_ = 0;
    if (vcd_refresh_) vcd_refresh_();
  }
}

void digital_unit::transact(tlm_utils::simple_initiator_socket<digital_unit>& socket,
                            tlm::tlm_command cmd, uint64_t addr, void* data, std::size_t bytes,
                            mcasim_ext& ext) {
  sc_core::sc_time delay = qk_.get_local_time();
  call(socket, cmd, addr, data, bytes, ext, delay, name());
  qk_.set(delay);
  if (qk_.need_sync()) qk_.sync();
  if (vcd_on_ && vcd_refresh_) vcd_refresh_();
}

void digital_unit::run() {
  qk_.reset();
  for (job_phase& phase : phases_) {
    if (phase.before) phase.before();
    std::size_t correct = 0;
    for (std::size_t idx : phase.order) {
      if (timeline* tl = attached_timeline()) tl->set_image(timeline_track(), images_);
      if (vcd_) {
        vcd_on_ = images_ >= vcd_first_ && (vcd_last_ == 0 || images_ < vcd_last_);
        if (vcd_on_) vcd_image_ = images_;
      }
      const int label = phase.data->labels[idx];
      const auto t0 = std::chrono::steady_clock::now();
      correct += process(phase.data->image(idx), label, phase.train) == label;
      if (on_image_) on_image_();
      if (phase.train) {
        train_wall_s_ +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        ++images_;
      }
    }
    qk_.sync();
    if (phase.after) phase.after(correct);
  }
}

// --- MCA -----------------------------------------------------------------------

mca_unit::mca_unit(const sc_core::sc_module_name& nm, const digital_unit_config& cfg,
                   const experiment_config& exp, std::array<cm_tile*, 2> tiles)
    : digital_unit(nm, cfg),
      exp_(exp),
      m_(exp.mlp),
      tiles_(tiles),
      xb_(m_.inputs + 1),
      z1_(m_.hidden),
      a1_(m_.hidden + 1),
      y_(m_.outputs),
      d2_(m_.outputs),
      d1_(m_.hidden),
      ux_(std::max(m_.inputs, m_.hidden) + 1),
      ud_(std::max(m_.hidden, m_.outputs)) {
  if (exp.mca.crossbar.synapse != synapse_kind::differential) {
    throw std::invalid_argument("the MCA platform models differential synapses only");
  }
  for (int l = 0; l < 2; ++l) {
    chi_[l] = std::make_unique<chi_memory>(tiles_[l]->devices().rows(), tiles_[l]->devices().cols(),
                                           exp.mca.chi);
  }
}

void mca_unit::tile_command(int l, uint64_t addr, const void* data, std::size_t bytes,
                            mcasim_ext& ext, sc_core::sc_time& line_end) {
  sc_core::sc_time delay = line_end - sc_core::sc_time_stamp();
  call(bus_socket, tlm::TLM_WRITE_COMMAND, static_cast<uint64_t>(l) * cm_tile::addr_span + addr,
       const_cast<void*>(data), bytes, ext, delay, name());
  line_end = sc_core::sc_time_stamp() + delay;
}

void mca_unit::tile_mvm(stage s, int l, const float* in, std::size_t n, bool transposed, float* out,
                        std::size_t n_out) {
  const cm_tile_config& tc = tiles_[l]->config();
  const quantizer_config& pwm = s == stage::backward ? tc.pwm.backward : tc.pwm.forward;
  const quantizer_config& adc = transposed ? tc.adc.backward : tc.adc.forward;
  mcasim_ext in_ext;
  in_ext.st = s;
  in_ext.n_in = n;
  in_ext.wire_bytes = (n * pwm.bits + 7) / 8;
  transact(bus_socket, tlm::TLM_WRITE_COMMAND, l * cm_tile::addr_span + cm_tile::addr_input,
           const_cast<float*>(in), n * sizeof(float), in_ext);
  mcasim_ext cmd;
  cmd.st = s;
  cmd.n_out = n_out;
  transact(bus_socket, tlm::TLM_WRITE_COMMAND,
           l * cm_tile::addr_span + (transposed ? cm_tile::addr_mvm_t : cm_tile::addr_mvm), nullptr,
           0, cmd);
  mcasim_ext out_ext;
  out_ext.st = s;
  out_ext.n_out = n_out;
  out_ext.wire_bytes = (n_out * adc.bits + 7) / 8;
  transact(bus_socket, tlm::TLM_READ_COMMAND, l * cm_tile::addr_span + cm_tile::addr_output, out,
           n_out * sizeof(float), out_ext);
}

int mca_unit::process(const float* x, int label, bool train) {
  const std::size_t ni = m_.inputs + 1, nh = m_.hidden, no = m_.outputs;
  const mca_config& c = exp_.mca;
  if (train && trained_ > 0 && trained_ % static_cast<uint64_t>(c.drift_sync_images) == 0) {
    // Drift is device physics, not a hardware action: re-evaluate it directly.
    for (int l = 0; l < 2; ++l) tiles_[l]->devices().sync(now().to_seconds());
  }
  // Forward: the pixels are 8-bit codes already; hidden activations are
  // re-quantised to 8 bits for the second tile.
  begin_stage(stage::forward);
  std::copy(x, x + m_.inputs, xb_.begin());
  xb_[m_.inputs] = 1.0f;
  tile_mvm(stage::forward, 0, xb_.data(), ni, false, z1_.data(), nh);
  for (std::size_t h = 0; h < nh; ++h) a1_[h] = activate(m_.hidden_activation, z1_[h]);
  a1_[nh] = 1.0f;
  vector_op(stage::forward, activation, nh, cfg_.activation_lanes);
  vector_op(stage::forward, quantize, nh + 1, cfg_.quantize_lanes);
  tile_mvm(stage::forward, 1, a1_.data(), nh + 1, false, y_.data(), no);
  end_stage();
  const int pred = argmax(y_.data(), no);
  if (!train) return pred;

  // Backward: output error, transposed read of tile 2, derivative.
  begin_stage(stage::backward);
  output_delta(m_.loss, y_.data(), d2_.data(), no, label);
  vector_op(stage::backward, error, no, cfg_.error_lanes);
  vector_op(stage::backward, quantize, no, cfg_.quantize_lanes);
  tile_mvm(stage::backward, 1, d2_.data(), no, true, d1_.data(), nh);
  for (std::size_t h = 0; h < nh; ++h) d1_[h] *= activate_deriv(m_.hidden_activation, a1_[h]);
  vector_op(stage::backward, derivative, nh, cfg_.derivative_lanes);
  end_stage();

  // Weight update: 3-bit outer product into chi, pulse lists to the tiles;
  // programming runs in parallel with the digital computation.
  begin_stage(stage::update);
  const sc_core::sc_time start = now();
  sc_core::sc_time program_end = start;
  const float lr = static_cast<float>(m_.learning_rate);
  const float* xs[2] = {xb_.data(), a1_.data()};
  const float* ds[2] = {d1_.data(), d2_.data()};
  for (int l = 0; l < 2; ++l) {
    const std::size_t rows = tiles_[l]->devices().rows(), cols = tiles_[l]->devices().cols();
    const std::size_t nz_d =
        update_operands(c.update_x, c.update_d, xs[l], rows, ds[l], cols, ux_.data(), ud_.data());
    vector_op(stage::update, quantize, rows + cols, cfg_.quantize_lanes);
    uint64_t products = 0;
    pulses_.clear();
    if (nz_d > 0) {
      for (std::size_t r = 0; r < rows; ++r) {
        if (ux_[r] == 0.0f) continue;
        products += nz_d;
        chi_[l]->accumulate_row(r, lr * ux_[r], ud_.data(), nz_d, [&](std::size_t col, int p) {
          pulses_.push_back({static_cast<uint32_t>(r), static_cast<uint32_t>(col), p});
        });
      }
    }
    // The outer-product unit scans all entries; non-zero products update chi
    // (read-modify-write) through the SRAM banks in parallel with the scan.
    counters_.add(stage::update, outer_product, static_cast<double>(products));
    counters_.add(stage::update, outer_scan, static_cast<double>(rows * cols));
    const uint64_t scan = (rows * cols + cfg_.outer_product_lanes - 1) / cfg_.outer_product_lanes;
    sc_core::sc_time mem = sc_core::SC_ZERO_TIME;
    for (tlm::tlm_command cmd : {tlm::TLM_READ_COMMAND, tlm::TLM_WRITE_COMMAND}) {
      mcasim_ext ext;
      ext.st = stage::update;
      ext.ops = products;
      sc_core::sc_time d = sc_core::SC_ZERO_TIME;
      call(sram_socket, cmd, 0, nullptr, 0, ext, d, name());
      mem += d;
    }
    advance(std::max(static_cast<double>(scan) * period_, mem));
    if (!pulses_.empty()) {
      counters_.add(stage::update, pulse_command, static_cast<double>(pulses_.size()));
      mcasim_ext ext;
      ext.st = stage::update;
      ext.ops = pulses_.size();
      ext.wire_bytes = pulses_.size() * sizeof(pulse_cmd);
      tile_command(l, cm_tile::addr_program, pulses_.data(), pulses_.size() * sizeof(pulse_cmd),
                   ext, program_end);
    }
  }
  ++trained_;
  if (c.refresh_every_images > 0) {
    const uint64_t every = static_cast<uint64_t>(c.refresh_every_images);
    for (int l = 0; l < 2; ++l) {
      const std::size_t rows = tiles_[l]->devices().rows();
      std::pair<std::size_t, std::size_t> range{0, 0};
      if (c.refresh_spread) {
        range = refresh_slice(rows, (trained_ - 1) % every, every);
      } else if (trained_ % every == 0) {
        range = {0, rows};
      } else {
        continue;
      }
      mcasim_ext ext;
      ext.st = stage::update;
      ext.n_in = range.first;
      ext.n_out = range.second;
      tile_command(l, cm_tile::addr_refresh, nullptr, 0, ext, program_end);
    }
  }
  if (program_end > now()) advance(program_end - now());
  end_stage();
  return pred;
}

// --- digital designs -------------------------------------------------------------

digital_design_unit::digital_design_unit(const sc_core::sc_module_name& nm,
                                         const digital_unit_config& cfg,
                                         const experiment_config& exp, uint64_t seed)
    : digital_unit(nm, cfg),
      net_(exp.mlp, exp.digital, exp.fp_init_std, seed),
      mixed_(exp.digital.kind == digital_kind::mixed) {}

void digital_design_unit::sram_access(stage s, tlm::tlm_command cmd, uint64_t words,
                                      sc_core::sc_time& delay) {
  mcasim_ext ext;
  ext.st = s;
  ext.ops = words;
  call(sram_socket, cmd, 0, nullptr, 0, ext, delay, name());
}

void digital_design_unit::propagate(stage s, std::size_t n_out, std::size_t n_in, uint64_t macs,
                                    bool from_sram) {
  sc_core::sc_time mem = sc_core::SC_ZERO_TIME, mac = sc_core::SC_ZERO_TIME;
  if (from_sram) {
    sram_access(s, tlm::TLM_READ_COMMAND, macs, mem);
    if (mixed_) counters_.add(s, weight_convert, static_cast<double>(macs));
  }
  mcasim_ext ext;
  ext.st = s;
  ext.n_out = n_out;
  ext.n_in = n_in;
  ext.ops = macs;
  call(mac_socket, tlm::TLM_WRITE_COMMAND, 0, nullptr, 0, ext, mac, name());
  advance(std::max(mem, mac));
}

int digital_design_unit::process(const float* x, int label, bool train) {
  const mlp_config& m = net_.mlp();
  const std::size_t ni = m.inputs + 1, nh = m.hidden, no = m.outputs;
  begin_stage(stage::forward);
  const int pred = net_.forward(x);
  propagate(stage::forward, nh, ni, ni * nh, true);
  vector_op(stage::forward, activation, nh, cfg_.activation_lanes);
  if (mixed_) vector_op(stage::forward, quantize, nh + 1, cfg_.quantize_lanes);
  propagate(stage::forward, no, nh + 1, (nh + 1) * no, true);
  end_stage();
  if (!train) return pred;

  begin_stage(stage::backward);
  net_.backward(label);
  vector_op(stage::backward, error, no, cfg_.error_lanes);
  if (mixed_) vector_op(stage::backward, quantize, no, cfg_.quantize_lanes);
  // The 4-bit layer-2 weights (2,510 x 4 bits) stay in a local buffer after
  // the forward pass; the 32-bit design reads its 32-bit weights again.
  propagate(stage::backward, nh, no, nh * no, !mixed_);
  vector_op(stage::backward, derivative, nh, cfg_.derivative_lanes);
  if (mixed_) vector_op(stage::backward, quantize, nh, cfg_.quantize_lanes);
  end_stage();

  begin_stage(stage::update);
  const uint64_t written = net_.update();
  sc_core::sc_time mem = sc_core::SC_ZERO_TIME, compute = sc_core::SC_ZERO_TIME;
  sram_access(stage::update, tlm::TLM_READ_COMMAND, written, mem);
  sram_access(stage::update, tlm::TLM_WRITE_COMMAND, written, mem);
  if (mixed_) {
    vector_op(stage::update, quantize, ni + nh + (nh + 1) + no, cfg_.quantize_lanes);
    counters_.add(stage::update, outer_product, static_cast<double>(written));
    const uint64_t entries = ni * nh + (nh + 1) * no;
    counters_.add(stage::update, outer_scan, static_cast<double>(entries));
    const uint64_t cycles = (entries + cfg_.outer_product_lanes - 1) / cfg_.outer_product_lanes;
    compute = static_cast<double>(cycles) * period_;
  } else {
    for (const auto& [rows, cols] : {std::pair<std::size_t, std::size_t>{ni, nh}, {nh + 1, no}}) {
      mcasim_ext ext;
      ext.st = stage::update;
      ext.n_out = rows;
      ext.n_in = cols;
      ext.ops = rows * cols;
      call(mac_socket, tlm::TLM_WRITE_COMMAND, 0, nullptr, 0, ext, compute, name());
    }
  }
  advance(std::max(mem, compute));
  end_stage();
  return pred;
}

}  // namespace mcasim
