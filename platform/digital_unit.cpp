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
      correct += process(phase.data->image(idx), label, phase.train) ? 1 : 0;
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

// Weight layer k's tile behind the model's tile_port: every MVM of a block
// is an input write, a product command and an output read over the bus;
// pulse lists and refresh checks go to the tile on the programming time line.
class mca_unit::bus_tile : public tile_port {
 public:
  bus_tile(mca_unit& du, std::size_t k) : du_(du), k_(k) {}

  void forward(const float* x, std::size_t n, float* y) override {
    const crossbar& xb = du_.tiles_[k_]->devices();
    const std::size_t rows = xb.rows(), cols = xb.cols();
    for (std::size_t v = 0; v < n; ++v) {
      du_.tile_mvm(stage::forward, k_, x + v * rows, rows, false, y + v * cols, cols);
    }
  }
  void backward(const float* d, std::size_t n, float* y, std::size_t out_rows) override {
    const std::size_t cols = du_.tiles_[k_]->devices().cols();
    for (std::size_t v = 0; v < n; ++v) {
      du_.tile_mvm(stage::backward, k_, d + v * cols, cols, true, y + v * out_rows, out_rows);
    }
  }
  // The device clock is the tile's SystemC time, not the model's now_s.
  void program(const std::vector<pulse_cmd>& pulses, double /*now_s*/) override {
    du_.counters_.add(stage::update, pulse_command, static_cast<double>(pulses.size()));
    mcasim_ext ext;
    ext.st = stage::update;
    ext.ops = pulses.size();
    ext.wire_bytes = pulses.size() * sizeof(pulse_cmd);
    du_.tile_command(k_, cm_tile::addr_program, pulses.data(), pulses.size() * sizeof(pulse_cmd),
                     ext);
  }
  void refresh(std::size_t r0, std::size_t r1, double /*now_s*/) override {
    mcasim_ext ext;
    ext.st = stage::update;
    ext.n_in = r0;
    ext.n_out = r1;
    du_.tile_command(k_, cm_tile::addr_refresh, nullptr, 0, ext);
  }

 private:
  mca_unit& du_;
  std::size_t k_;
};

// The step's digital work as the unit's actions and time.
class mca_unit::step_actions : public step_observer {
 public:
  explicit step_actions(mca_unit& du) : du_(du) {}

  void begin_stage(step_stage s) override {
    du_.begin_stage(static_cast<stage>(s));
    // Programming runs in parallel with the digital unit from the start of
    // the update; the stage ends when both are done.
    if (s == step_stage::update) du_.program_end_ = du_.now();
  }
  void end_stage(step_stage s) override {
    if (s == step_stage::update && du_.program_end_ > du_.now()) {
      du_.advance(du_.program_end_ - du_.now());
    }
    du_.end_stage();
  }
  void vector_op(digital_op op, std::size_t n) override {
    const digital_unit_config& c = du_.cfg_;
    const stage st = static_cast<stage>(du_.current_stage());
    switch (op) {
      case digital_op::activation:
        du_.vector_op(st, activation, n, c.activation_lanes);
        break;
      case digital_op::derivative:
        du_.vector_op(st, derivative, n, c.derivative_lanes);
        break;
      case digital_op::error:
        du_.vector_op(st, error, n, c.error_lanes);
        break;
      case digital_op::quantize:
        du_.vector_op(st, quantize, n, c.quantize_lanes);
        break;
    }
  }
  // The outer-product unit scans all entries; non-zero products update chi
  // (read-modify-write) through the SRAM banks in parallel with the scan.
  void chi_update(std::size_t /*k*/, uint64_t entries, uint64_t products) override {
    du_.counters_.add(stage::update, outer_product, static_cast<double>(products));
    du_.counters_.add(stage::update, outer_scan, static_cast<double>(entries));
    const auto lanes = static_cast<uint64_t>(du_.cfg_.outer_product_lanes);
    const uint64_t scan = (entries + lanes - 1) / lanes;
    sc_core::sc_time mem = sc_core::SC_ZERO_TIME;
    for (tlm::tlm_command cmd : {tlm::TLM_READ_COMMAND, tlm::TLM_WRITE_COMMAND}) {
      mcasim_ext ext;
      ext.st = stage::update;
      ext.ops = products;
      sc_core::sc_time d = sc_core::SC_ZERO_TIME;
      call(du_.sram_socket, cmd, 0, nullptr, 0, ext, d, du_.name());
      mem += d;
    }
    du_.advance(std::max(static_cast<double>(scan) * du_.period_, mem));
  }

 private:
  mca_unit& du_;
};

mca_unit::mca_unit(const sc_core::sc_module_name& nm, const digital_unit_config& cfg, model& net,
                   std::vector<cm_tile*> tiles, double learning_rate)
    : digital_unit(nm, cfg),
      net_(net),
      tiles_(std::move(tiles)),
      learning_rate_(learning_rate),
      actions_(std::make_unique<step_actions>(*this)) {
  const std::size_t layers = net_.spec().weight_layers().size();
  if (tiles_.size() != layers) {
    throw std::invalid_argument(std::string(name()) + ": " + std::to_string(tiles_.size()) +
                                " tiles for " + std::to_string(layers) + " weight layers");
  }
  for (std::size_t k = 0; k < layers; ++k) {
    if (net_.array(k) != &tiles_[k]->devices()) {
      throw std::invalid_argument(std::string(name()) + ": tile " + std::to_string(k) +
                                  " does not hold the devices of weight layer " +
                                  std::to_string(k));
    }
    ports_.push_back(std::make_unique<bus_tile>(*this, k));
    net_.attach_tile(k, ports_.back().get());
  }
  net_.observe(actions_.get());
}

mca_unit::~mca_unit() {
  net_.observe(nullptr);
  for (std::size_t k = 0; k < ports_.size(); ++k) net_.attach_tile(k, nullptr);
}

void mca_unit::tile_command(std::size_t k, uint64_t addr, const void* data, std::size_t bytes,
                            mcasim_ext& ext) {
  sc_core::sc_time delay = program_end_ - sc_core::sc_time_stamp();
  call(bus_socket, tlm::TLM_WRITE_COMMAND, k * cm_tile::addr_span + addr, const_cast<void*>(data),
       bytes, ext, delay, name());
  program_end_ = sc_core::sc_time_stamp() + delay;
}

void mca_unit::tile_mvm(stage s, std::size_t k, const float* in, std::size_t n, bool transposed,
                        float* out, std::size_t n_out) {
  const cm_tile_config& tc = tiles_[k]->config();
  const quantizer_config& pwm = s == stage::backward ? tc.pwm.backward : tc.pwm.forward;
  const quantizer_config& adc = transposed ? tc.adc.backward : tc.adc.forward;
  const uint64_t base = k * cm_tile::addr_span;
  mcasim_ext in_ext;
  in_ext.st = s;
  in_ext.n_in = n;
  in_ext.wire_bytes = (n * pwm.bits + 7) / 8;
  transact(bus_socket, tlm::TLM_WRITE_COMMAND, base + cm_tile::addr_input, const_cast<float*>(in),
           n * sizeof(float), in_ext);
  mcasim_ext cmd;
  cmd.st = s;
  cmd.n_out = n_out;
  transact(bus_socket, tlm::TLM_WRITE_COMMAND,
           base + (transposed ? cm_tile::addr_mvm_t : cm_tile::addr_mvm), nullptr, 0, cmd);
  mcasim_ext out_ext;
  out_ext.st = s;
  out_ext.n_out = n_out;
  out_ext.wire_bytes = (n_out * adc.bits + 7) / 8;
  transact(bus_socket, tlm::TLM_READ_COMMAND, base + cm_tile::addr_output, out,
           n_out * sizeof(float), out_ext);
}

bool mca_unit::process(const float* x, int label, bool train) {
  const auto y = static_cast<uint8_t>(label);
  if (!train) return net_.evaluate(x, &y, 1).correct == 1;
  // Drift is device physics, not a hardware action: the model re-reads it
  // at the unit's time.
  return net_.train_batch(x, &y, 1, learning_rate_, now().to_seconds()).correct == 1;
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

bool digital_design_unit::process(const float* x, int label, bool train) {
  const mlp_config& m = net_.mlp();
  const std::size_t ni = m.inputs + 1, nh = m.hidden, no = m.outputs;
  begin_stage(stage::forward);
  const int pred = net_.forward(x);
  propagate(stage::forward, nh, ni, ni * nh, true);
  vector_op(stage::forward, activation, nh, cfg_.activation_lanes);
  if (mixed_) vector_op(stage::forward, quantize, nh + 1, cfg_.quantize_lanes);
  propagate(stage::forward, no, nh + 1, (nh + 1) * no, true);
  end_stage();
  if (!train) return pred == label;

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
  return pred == label;
}

}  // namespace mcasim
