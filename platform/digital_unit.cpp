#include "platform/digital_unit.h"

#include "platform/clock.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "models/converters.h"

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

// Reads or writes `words` words of a memory (SRAM, DRAM) on `socket`.
void memory_access(tlm_utils::simple_initiator_socket<digital_unit>& socket, stage s,
                   tlm::tlm_command cmd, uint64_t words, sc_core::sc_time& delay, const char* who) {
  mcasim_ext ext;
  ext.st = s;
  ext.ops = words;
  call(socket, cmd, 0, nullptr, 0, ext, delay, who);
}

}  // namespace

void digital_unit_config::validate() const {
  validate_clock_mhz("digital_unit", clock_mhz);
  const std::pair<const char*, int> lanes[] = {
      {"quantize_lanes", quantize_lanes},           {"activation_lanes", activation_lanes},
      {"derivative_lanes", derivative_lanes},       {"error_lanes", error_lanes},
      {"outer_product_lanes", outer_product_lanes}, {"partial_sum_lanes", partial_sum_lanes}};
  for (const auto& [field, v] : lanes) {
    if (v < 1) {
      throw std::invalid_argument(std::string("digital_unit.") + field + " must be >= 1, got " +
                                  std::to_string(v));
    }
  }
  if (op_latency_cycles < 0) {
    throw std::invalid_argument("digital_unit.op_latency_cycles must be >= 0");
  }
}

unit_workload::unit_workload(model& net) : nets_{&net} {
  first_.push_back(net.spec().weight_layers().size());
}

unit_workload::unit_workload(trainable& machine) : nets_(machine.networks()), machine_(&machine) {
  if (nets_.empty()) throw std::invalid_argument("a platform unit needs the machine's networks");
  for (const model* m : nets_) first_.push_back(first_.back() + m->spec().weight_layers().size());
}

std::pair<model*, std::size_t> unit_workload::layer(std::size_t k) const {
  for (std::size_t i = 0; i < nets_.size(); ++i) {
    if (k < first_[i + 1]) return {nets_[i], k - first_[i]};
  }
  throw std::out_of_range("weight layer " + std::to_string(k) + " of " + std::to_string(layers()));
}

class digital_unit::network_observer : public step_observer {
 public:
  network_observer(digital_unit& u, std::size_t first) : u_(u), first_(first) {}
  void begin_stage(step_stage s) override {
    if (u_.current_stage_ >= 0) {
      ++u_.nested_stages_;
      return;
    }
    u_.begin_stage(s);
  }
  void end_stage(step_stage s) override {
    if (u_.nested_stages_ > 0) {
      --u_.nested_stages_;
      return;
    }
    u_.end_stage(s);
  }
  void vector_op(digital_op op, std::size_t n) override { u_.vector_op(op, n); }
  void weight_products(std::size_t k, std::size_t n, std::size_t in, std::size_t out) override {
    u_.weight_products(first_ + k, n, in, out);
  }
  void weight_update(std::size_t k, std::size_t rows, std::size_t cols,
                     uint64_t products) override {
    u_.weight_update(first_ + k, rows, cols, products);
  }

 private:
  digital_unit& u_;
  std::size_t first_;
};

digital_unit::digital_unit(const sc_core::sc_module_name& nm, const digital_unit_config& cfg,
                           const unit_workload& work, std::size_t batch, double learning_rate)
    : sc_core::sc_module(nm),
      cfg_(cfg),
      period_(1e3 / cfg.clock_mhz, sc_core::SC_NS),
      workload_(work),
      batch_(batch),
      learning_rate_(learning_rate) {
  cfg_.validate();
  if (batch_ < 1) throw std::invalid_argument(std::string(name()) + ": the batch must be >= 1");
  for (std::size_t i = 0; i < workload_.networks().size(); ++i) {
    observers_.push_back(std::make_unique<network_observer>(*this, workload_.first(i)));
    workload_.networks()[i]->observe(observers_.back().get());
  }
  SC_THREAD(run);
}

digital_unit::~digital_unit() {
  for (model* m : workload_.networks()) m->observe(nullptr);
}

std::size_t digital_unit::process(const job_phase& phase, std::size_t k0, std::size_t k1) {
  const dataset& data = *phase.data;
  const std::size_t n = k1 - k0, pixels = data.pixels;
  const float* x = nullptr;
  if (n == 1) {
    x = data.image(phase.order[k0]);
  } else {
    batch_x_.resize(n * pixels);
    for (std::size_t k = k0; k < k1; ++k) {
      const float* src = data.image(phase.order[k]);
      std::copy(src, src + pixels,
                batch_x_.begin() + static_cast<std::ptrdiff_t>((k - k0) * pixels));
    }
    x = batch_x_.data();
  }
  // A sequence has a label per step.
  const std::size_t t = data.targets;
  batch_y_.resize(n * t);
  for (std::size_t k = k0; k < k1; ++k) {
    const uint8_t* src = data.label(phase.order[k]);
    std::copy(src, src + t, batch_y_.begin() + static_cast<std::ptrdiff_t>((k - k0) * t));
  }
  batch_n_ = n;
  training_ = phase.train;
  // Drift is device physics, not a hardware action: the model re-reads it
  // at the unit's time.
  const double now_s = now().to_seconds();
  if (trainable* m = workload_.machine()) {
    if (!phase.train) return m->evaluate(x, batch_y_.data(), n, now_s).correct;
    return m->train_batch(x, batch_y_.data(), n, learning_rate_, now_s).correct;
  }
  model& net = *workload_.networks().front();
  if (!phase.train) return net.evaluate(x, batch_y_.data(), n).correct;
  return net.train_batch(x, batch_y_.data(), n, learning_rate_, now_s).correct;
}

std::vector<std::pair<std::string, double>> digital_unit::area_units() const {
  return {{"activation_lane", cfg_.activation_lanes},
          {"derivative_lane", cfg_.derivative_lanes},
          {"error_lane", cfg_.error_lanes}};
}

void digital_unit::add_layer_time(std::size_t k, const sc_core::sc_time& t) {
  if (current_stage_ < 0 || t == sc_core::SC_ZERO_TIME) return;
  if (layer_time_.size() <= k) layer_time_.resize(k + 1);
  layer_time_[k][current_stage_] += t;
}

void digital_unit::clear_stage_times() {
  for (auto& t : stage_time_) t = sc_core::SC_ZERO_TIME;
  layer_time_.clear();
  for (auto& p : pipe_stats_) p = pipeline_stats{};
}

void digital_unit::pipeline_work(const std::string& resource, const sc_core::sc_time& t) {
  worked_[resource] += t;
  if (current_layer_ >= 0) add_layer_time(static_cast<std::size_t>(current_layer_), t);
  const sc_core::sc_time per = t / static_cast<double>(batch_n_);
  if (per > sc_core::SC_ZERO_TIME) work_.emplace_back(resource, per);
}

sc_core::sc_time digital_unit::schedule_pipeline(pipeline_stats& ps) {
  // Sample by sample, in order: each takes every work item of the stage in
  // the order the step issued them, on the item's resource, in the earliest
  // gap of that resource's time line after the sample finished its previous
  // item. Earlier samples come first, as they do in a pipeline.
  std::map<std::string, std::vector<std::pair<sc_core::sc_time, sc_core::sc_time>>> busy;
  sc_core::sc_time end = sc_core::SC_ZERO_TIME, last_entry = sc_core::SC_ZERO_TIME;
  for (std::size_t s = 0; s < batch_n_; ++s) {
    sc_core::sc_time t = sc_core::SC_ZERO_TIME;
    for (std::size_t w = 0; w < work_.size(); ++w) {
      auto& line = busy[work_[w].first];
      const sc_core::sc_time per = work_[w].second;
      auto at = line.begin();
      for (; at != line.end(); ++at) {
        if (t + per <= at->first) break;  // fits before this interval
        t = std::max(t, at->second);
      }
      line.insert(at, {t, t + per});
      if (ps.batches == 0) ps.first_batch.push_back({s, work_[w].first, t, t + per});
      if (w == 0) last_entry = t;  // when this sample entered the pipeline
      t += per;
    }
    if (s == 0) ps.fill += t;
    end = std::max(end, t);
  }
  // Drain: the last sample's latency, from its entry to the stage's end.
  ps.drain += end - last_entry;
  return end;
}

void digital_unit::sync() {
  const auto t0 = std::chrono::steady_clock::now();
  qk_.sync();
  waited_wall_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void digital_unit::advance(const sc_core::sc_time& t) {
  qk_.inc(t);
  if (qk_.need_sync()) sync();
}

void digital_unit::count_op(stage s, action a, std::size_t n, int lanes) {
  if (n == 0) return;
  counters_.add(s, a, static_cast<double>(n));
  const uint64_t cycles = (n + lanes - 1) / lanes + cfg_.op_latency_cycles;
  if (pipe_on_) {
    pipeline_work("unit", static_cast<double>(cycles) * period_);
  } else {
    advance(static_cast<double>(cycles) * period_);
  }
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

void digital_unit::begin_stage(step_stage s) {
  open_stage(static_cast<stage>(s));
  if (s == step_stage::update) activation_traffic(stage::update, tlm::TLM_READ_COMMAND);
}

void digital_unit::end_stage(step_stage s) {
  if (s == step_stage::forward && training_) {
    activation_traffic(stage::forward, tlm::TLM_WRITE_COMMAND);
  }
  close_stage();
}

void digital_unit::activation_traffic(stage s, tlm::tlm_command cmd) {
  for (std::size_t k = 0; k < acts_.where.size(); ++k) {
    if (acts_.where[k] == activation_place::buffer) continue;
    const layer_scope scope(*this, k);
    sc_core::sc_time mem = sc_core::SC_ZERO_TIME;
    memory_access(acts_.where[k] == activation_place::sram ? act_socket : dram_socket, s, cmd,
                  acts_.words[k] * batch_n_, mem, name());
    if (pipelining()) {
      pipeline_work("activation_memory", mem);
    } else {
      advance(mem);
    }
  }
}

void digital_unit::vector_op(digital_op op, std::size_t n) {
  if (current_stage_ < 0) {
    SC_REPORT_ERROR("mcasim/digital_unit", "element-wise work reported outside a stage");
    return;
  }
  const auto st = static_cast<stage>(current_stage_);
  switch (op) {
    case digital_op::activation:
      count_op(st, activation, n, cfg_.activation_lanes);
      break;
    case digital_op::derivative:
      count_op(st, derivative, n, cfg_.derivative_lanes);
      break;
    case digital_op::error:
      count_op(st, error, n, cfg_.error_lanes);
      break;
    case digital_op::quantize:
      count_op(st, quantize, n, cfg_.quantize_lanes);
      break;
  }
}

void digital_unit::open_stage(stage s) {
  current_stage_ = static_cast<int>(s);
  stage_start_ = now();
  pipe_on_ = cfg_.pipelined && s != stage::update;
  if (pipe_on_) {
    work_.clear();
    worked_.clear();
  }
  if (vcd_on_) {
    sync();  // the traced value changes at the stage's own time
    vcd_stage_ = current_stage_ + 1;
    if (vcd_refresh_) vcd_refresh_();
  }
}

void digital_unit::close_stage() {
  if (pipe_on_) {
    // The stage ends when its last sample has done its last work item.
    pipeline_stats& ps = pipe_stats_[current_stage_];
    const sc_core::sc_time end = schedule_pipeline(ps);
    ++ps.batches;
    ps.samples += batch_n_;
    ps.time += end;
    for (const auto& [r, w] : worked_) ps.busy[r] += w;
    pipe_on_ = false;
    const sc_core::sc_time elapsed = now() - stage_start_;
    if (end > elapsed) advance(end - elapsed);
  }
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
    sync();
    vcd_stage_ = 0;
    if (vcd_refresh_) vcd_refresh_();
  }
}

sc_core::sc_time digital_unit::transact(tlm_utils::simple_initiator_socket<digital_unit>& socket,
                                        tlm::tlm_command cmd, uint64_t addr, void* data,
                                        std::size_t bytes, mcasim_ext& ext, bool keep_time) {
  const sc_core::sc_time before = qk_.get_local_time();
  sc_core::sc_time delay = before;
  call(socket, cmd, addr, data, bytes, ext, delay, name());
  if (keep_time) return delay - before;
  qk_.set(delay);
  if (qk_.need_sync()) sync();
  if (vcd_on_ && vcd_refresh_) vcd_refresh_();
  return delay - before;
}

void digital_unit::run() {
  qk_.reset();
  for (job_phase& phase : phases_) {
    if (phase.before) phase.before();
    std::size_t correct = 0;
    for (std::size_t k0 = 0; k0 < phase.order.size(); k0 += batch_) {
      const std::size_t k1 = std::min(phase.order.size(), k0 + batch_);
      if (timeline* tl = attached_timeline()) tl->set_image(timeline_track(), images_);
      if (vcd_) {
        vcd_on_ = images_ >= vcd_first_ && (vcd_last_ == 0 || images_ < vcd_last_);
        if (vcd_on_) vcd_image_ = images_;
      }
      const auto t0 = std::chrono::steady_clock::now();
      const double waited0 = waited_wall_s_;
      correct += process(phase, k0, k1);
      if (phase.train) {
        // Without the time other processes (designs) ran while this one waited.
        train_wall_s_ +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() -
            (waited_wall_s_ - waited0);
        images_ += k1 - k0;
      }
      if (on_image_) {
        for (std::size_t k = k0; k < k1; ++k) on_image_();
      }
    }
    sync();
    if (phase.after) phase.after(correct);
  }
}

// --- MCA -----------------------------------------------------------------------

// Weight layer k's tiles behind the model's tile_port: a block of MVMs (a
// batch's vectors or patches) is, per tile, an input write, a product
// command and an output read over the bus; pulse lists and refresh checks
// go to the tiles on the programming time line.
class mca_unit::bus_tile : public tile_port {
 public:
  bus_tile(mca_unit& du, std::size_t k) : du_(du), k_(k) {}

  void forward(const float* x, std::size_t n, float* y) override {
    const layer_scope scope(du_, k_);
    const crossbar& xb = *du_.array(k_);
    du_.tile_mvm(stage::forward, k_, x, n, xb.rows(), false, y, xb.cols());
  }
  void backward(const float* d, std::size_t n, float* y, std::size_t out_rows) override {
    const layer_scope scope(du_, k_);
    du_.tile_mvm(stage::backward, k_, d, n, du_.array(k_)->cols(), true, y, out_rows);
  }
  // The device clock is the tiles' SystemC time, not the model's now_s.
  // Each tile gets the pulses of its block (analog_tile::split_pulses).
  void program(const std::vector<pulse_cmd>& pulses, double /*now_s*/) override {
    const layer_scope scope(du_, k_);
    du_.counters_.add(stage::update, pulse_command, static_cast<double>(pulses.size()));
    const std::vector<std::vector<pulse_cmd>> lists = du_.analog(k_)->split_pulses(pulses);
    std::vector<tile_cmd> cmds;
    for (std::size_t b = 0; b < lists.size(); ++b) {
      if (lists[b].empty() && lists.size() > 1) continue;
      tile_cmd c{b, cm_tile::addr_program, lists[b].data(), lists[b].size() * sizeof(pulse_cmd),
                 mcasim_ext{}};
      c.ext.st = stage::update;
      c.ext.ops = lists[b].size();
      c.ext.wire_bytes = c.bytes;
      cmds.push_back(c);
    }
    du_.tile_commands(k_, cmds);
  }
  void refresh(std::size_t r0, std::size_t r1, double /*now_s*/) override {
    const layer_scope scope(du_, k_);
    const auto& blocks = du_.analog(k_)->blocks();
    std::vector<tile_cmd> cmds;
    for (std::size_t b = 0; b < blocks.size(); ++b) {
      // The tiles that hold some of the rows.
      if (blocks.size() > 1 && (r1 <= blocks[b].row0 || r0 >= blocks[b].row0 + blocks[b].rows)) {
        continue;
      }
      tile_cmd c{b, cm_tile::addr_refresh, nullptr, 0, mcasim_ext{}};
      c.ext.st = stage::update;
      c.ext.n_in = r0;
      c.ext.n_out = r1;
      cmds.push_back(c);
    }
    du_.tile_commands(k_, cmds);
  }

 private:
  mca_unit& du_;
  std::size_t k_;
};

void mca_unit::begin_stage(step_stage s) {
  digital_unit::begin_stage(s);
  if (s == step_stage::update) program_end_ = now();
}

void mca_unit::end_stage(step_stage s) {
  if (s == step_stage::update && program_end_ > now()) advance(program_end_ - now());
  digital_unit::end_stage(s);
}

void mca_unit::weight_products(std::size_t k, std::size_t, std::size_t, std::size_t) {
  SC_REPORT_ERROR("mcasim/mca_unit",
                  ("weight layer " + std::to_string(k) + " computes off the tiles").c_str());
}

// The outer-product unit scans all entries; non-zero products update chi
// (read-modify-write) through the SRAM banks in parallel with the scan.
void mca_unit::weight_update(std::size_t k, std::size_t rows, std::size_t cols, uint64_t products) {
  const layer_scope scope(*this, k);
  const uint64_t entries = rows * cols;
  counters_.add(stage::update, outer_product, static_cast<double>(products));
  counters_.add(stage::update, outer_scan, static_cast<double>(entries));
  const auto lanes = static_cast<uint64_t>(cfg_.outer_product_lanes);
  const uint64_t scan = (entries + lanes - 1) / lanes;
  // chi of a layer off chip: the read-modify-write goes to DRAM.
  sc_core::sc_time mem = sc_core::SC_ZERO_TIME;
  for (tlm::tlm_command cmd : {tlm::TLM_READ_COMMAND, tlm::TLM_WRITE_COMMAND}) {
    memory_access(off_chip(k) ? dram_socket : sram_socket, stage::update, cmd, products, mem,
                  name());
  }
  advance(std::max(static_cast<double>(scan) * period_, mem));
}

analog_tile* mca_unit::analog(std::size_t k) const {
  const auto [net, j] = workload_.layer(k);
  return net->analog(j);
}

crossbar* mca_unit::array(std::size_t k) const {
  const auto [net, j] = workload_.layer(k);
  return net->array(j);
}

mca_unit::mca_unit(const sc_core::sc_module_name& nm, const digital_unit_config& cfg,
                   const unit_workload& work, std::vector<cm_tile*> tiles, std::size_t batch,
                   double learning_rate)
    : digital_unit(nm, cfg, work, batch, learning_rate), tiles_(std::move(tiles)) {
  const std::size_t layers = workload_.layers();
  std::size_t next = 0;
  for (std::size_t k = 0; k < layers; ++k) {
    const analog_tile* a = analog(k);
    const std::size_t blocks = a != nullptr ? a->blocks().size() : 0;
    if (a == nullptr || next + blocks > tiles_.size()) {
      throw std::invalid_argument(std::string(name()) + ": " + std::to_string(tiles_.size()) +
                                  " tiles for the blocks of " + std::to_string(layers) +
                                  " mca weight layers");
    }
    layer_tiles_.emplace_back();
    for (std::size_t b = 0; b < blocks; ++b, ++next) {
      const array_window& w = tiles_[next]->window();
      const analog_tile::block& blk = a->blocks()[b];
      if (array(k) != &tiles_[next]->devices() || w.row0 != blk.row0 || w.rows != blk.rows ||
          w.col0 != blk.col0 || w.cols != blk.cols) {
        throw std::invalid_argument(std::string(name()) + ": tile " + std::to_string(next) +
                                    " does not hold block " + std::to_string(b) +
                                    " of weight layer " + std::to_string(k));
      }
      layer_tiles_.back().push_back(next);
    }
    ports_.push_back(std::make_unique<bus_tile>(*this, k));
    const auto [net, j] = workload_.layer(k);
    net->attach_tile(j, ports_.back().get());
  }
  if (next != tiles_.size()) {
    throw std::invalid_argument(std::string(name()) + ": " + std::to_string(tiles_.size()) +
                                " tiles for " + std::to_string(next) + " blocks");
  }
}

std::vector<std::pair<std::string, double>> mca_unit::area_units() const {
  auto units = digital_unit::area_units();
  units.emplace_back("quantize_lane", cfg_.quantize_lanes);
  units.emplace_back("outer_product_lane", cfg_.outer_product_lanes);
  units.emplace_back("partial_sum_lane", cfg_.partial_sum_lanes);
  return units;
}

mca_unit::~mca_unit() {
  const std::vector<model*>& nets = workload_.networks();
  for (std::size_t i = 0; i < nets.size(); ++i) {
    for (std::size_t k = workload_.first(i); k < workload_.first(i + 1) && k < ports_.size(); ++k) {
      nets[i]->attach_tile(k - workload_.first(i), nullptr);
    }
  }
}

void mca_unit::tile_commands(std::size_t k, std::vector<tile_cmd>& cmds) {
  const sc_core::sc_time start = program_end_;
  sc_core::sc_time end = start;
  for (tile_cmd& c : cmds) {
    sc_core::sc_time delay = start - sc_core::sc_time_stamp();
    call(bus_socket, tlm::TLM_WRITE_COMMAND, layer_tiles_[k][c.block] * cm_tile::addr_span + c.addr,
         const_cast<void*>(c.data), c.bytes, c.ext, delay, name());
    end = std::max(end, sc_core::sc_time_stamp() + delay);
  }
  add_layer_time(k, end - start);
  program_end_ = end;
}

void mca_unit::tile_mvm(stage s, std::size_t k, const float* in, std::size_t vectors, std::size_t n,
                        bool transposed, float* out, std::size_t n_out) {
  analog_tile& a = *analog(k);
  const std::vector<std::size_t>& tl = layer_tiles_[k];
  const cm_tile_config& tc = tiles_[tl.front()]->config();
  const quantizer_config& pwm = s == stage::backward ? tc.pwm.backward : tc.pwm.forward;
  const quantizer_config& adc = transposed ? tc.adc.backward : tc.adc.forward;
  // The unit's PWM codes of the vectors (their quantisation is the step's
  // quantize work), then every tile holding outputs gets its share.
  a.load(in, vectors, transposed);
  auto* codes = const_cast<float*>(a.codes().data());
  const bool pipe = pipelining();
  const bool single = tl.size() == 1;
  std::vector<std::size_t> used;
  for (std::size_t b = 0; b < tl.size(); ++b) {
    if (a.out_width(b, transposed, n_out) > 0) used.push_back(b);
  }
  for (const std::size_t b : used) {
    const analog_tile::block& blk = a.blocks()[b];
    mcasim_ext in_ext;
    in_ext.st = s;
    in_ext.n_in = n;
    in_ext.vectors = vectors;
    in_ext.wire_bytes = vectors * (((transposed ? blk.cols : blk.rows) * pwm.bits + 7) / 8);
    const sc_core::sc_time t_in = transact(bus_socket, tlm::TLM_WRITE_COMMAND,
                                           tl[b] * cm_tile::addr_span + cm_tile::addr_input, codes,
                                           vectors * n * sizeof(float), in_ext, pipe);
    if (pipe) pipeline_work("bus", t_in);
  }
  // The tiles compute at once: the layer's products take the slowest one.
  sc_core::sc_time t_tiles = sc_core::SC_ZERO_TIME;
  for (const std::size_t b : used) {
    mcasim_ext cmd;
    cmd.st = s;
    cmd.n_out = n_out;
    cmd.vectors = vectors;
    t_tiles = std::max(t_tiles, transact(bus_socket, tlm::TLM_WRITE_COMMAND,
                                         tl[b] * cm_tile::addr_span +
                                             (transposed ? cm_tile::addr_mvm_t : cm_tile::addr_mvm),
                                         nullptr, 0, cmd, true));
  }
  if (pipe) {
    pipeline_work("tile_" + std::to_string(k), t_tiles);
  } else {
    advance(t_tiles);
  }
  uint64_t adds = 0;
  for (const std::size_t b : used) {
    const std::size_t w = a.out_width(b, transposed, n_out);
    part_.resize(single ? 0 : vectors * w);
    float* dst = single ? out : part_.data();
    mcasim_ext out_ext;
    out_ext.st = s;
    out_ext.n_out = w;
    out_ext.vectors = vectors;
    out_ext.wire_bytes = vectors * ((w * adc.bits + 7) / 8);
    const sc_core::sc_time t_out = transact(bus_socket, tlm::TLM_READ_COMMAND,
                                            tl[b] * cm_tile::addr_span + cm_tile::addr_output, dst,
                                            vectors * w * sizeof(float), out_ext, pipe);
    if (pipe) pipeline_work("bus", t_out);
    if (!single) adds += a.add_partial(b, transposed, dst, vectors, out, n_out);
  }
  count_op(s, partial_sum, static_cast<std::size_t>(adds), cfg_.partial_sum_lanes);
}

// --- digital designs -------------------------------------------------------------

digital_design_unit::digital_design_unit(const sc_core::sc_module_name& nm,
                                         const digital_unit_config& cfg, const unit_workload& work,
                                         bool mixed, std::size_t batch, double learning_rate)
    : digital_unit(nm, cfg, work, batch, learning_rate),
      mixed_(mixed),
      written_(work.layers(), 0),
      scanned_layer_(written_.size(), 0),
      update_layer_(written_.size()) {}

std::vector<std::pair<std::string, double>> digital_design_unit::area_units() const {
  auto units = digital_unit::area_units();
  if (mixed_) {
    units.emplace_back("quantize_lane", cfg_.quantize_lanes);
    units.emplace_back("outer_product_lane", cfg_.outer_product_lanes);
  }
  return units;
}

void digital_design_unit::sram_access(stage s, tlm::tlm_command cmd, uint64_t words,
                                      sc_core::sc_time& delay) {
  memory_access(sram_socket, s, cmd, words, delay, name());
}

void digital_design_unit::dram_access(stage s, tlm::tlm_command cmd, uint64_t words,
                                      sc_core::sc_time& delay) {
  memory_access(dram_socket, s, cmd, words, delay, name());
}

void digital_design_unit::propagate(stage s, std::size_t k, std::size_t vectors, std::size_t n_out,
                                    std::size_t n_in, uint64_t macs, bool from_sram) {
  sc_core::sc_time mem = sc_core::SC_ZERO_TIME, mac = sc_core::SC_ZERO_TIME,
                   off = sc_core::SC_ZERO_TIME;
  if (from_sram && off_chip(k)) {
    // The layer's weights stream in from DRAM once per block, into the SRAM.
    const uint64_t words = static_cast<uint64_t>(n_out) * n_in;
    dram_access(s, tlm::TLM_READ_COMMAND, words, off);
    sram_access(s, tlm::TLM_WRITE_COMMAND, words, mem);
  }
  if (from_sram) {
    sram_access(s, tlm::TLM_READ_COMMAND, macs, mem);
    if (mixed_) counters_.add(s, weight_convert, static_cast<double>(macs));
  }
  mcasim_ext ext;
  ext.st = s;
  ext.n_out = n_out;
  ext.n_in = n_in;
  ext.vectors = vectors;
  ext.ops = macs;
  call(mac_socket, tlm::TLM_WRITE_COMMAND, 0, nullptr, 0, ext, mac, name());
  advance(std::max({mem, mac, off}));
}

// Every product of the block streams the layer's weights through the MAC
// array, read from the SRAM (pipelined: the slower of the two sets the time);
// the block is one command to each.
// Backward, the mixed design's 4-bit weights of the layer (2,510 x 4 bits for
// the perceptron's second layer) are still in a local buffer from the
// forward pass; the 32-bit design reads its 32-bit weights again.
void digital_design_unit::weight_products(std::size_t k, std::size_t n, std::size_t in,
                                          std::size_t out) {
  const layer_scope scope(*this, k);
  const auto st = static_cast<stage>(current_stage());
  const bool from_sram = st == stage::forward || !mixed_;
  propagate(st, k, n, out, in, static_cast<uint64_t>(n) * in * out, from_sram);
}

// The 32-bit design reads and writes every weight and forms the outer
// product in the MAC array; the mixed one scans the 3-bit outer product and
// reads and writes the non-zero entries. Both run in parallel with the
// memory; the stage's time is the slower of the two (end_stage).
void digital_design_unit::weight_update(std::size_t k, std::size_t rows, std::size_t cols,
                                        uint64_t products) {
  const layer_scope scope(*this, k);
  if (mixed_) {
    written_[k] += products;
    scanned_layer_[k] += rows * cols;
    counters_.add(stage::update, outer_product, static_cast<double>(products));
    counters_.add(stage::update, outer_scan, static_cast<double>(rows * cols));
    return;
  }
  written_[k] += rows * cols;
  mcasim_ext ext;
  ext.st = stage::update;
  ext.n_out = rows;
  ext.n_in = cols;
  ext.ops = rows * cols;
  const sc_core::sc_time before = update_compute_;
  call(mac_socket, tlm::TLM_WRITE_COMMAND, 0, nullptr, 0, ext, update_compute_, name());
  update_layer_[k] += update_compute_ - before;
}

void digital_design_unit::end_stage(step_stage s) {
  if (s == step_stage::update) {
    // Each layer's weights are read and written where they live (the
    // SRAM, or DRAM for a layer that does not fit), layer after layer; the
    // memory and the computation overlap, the slower sets the time. A
    // layer's time is the slower of its own two.
    const auto lanes = static_cast<uint64_t>(cfg_.outer_product_lanes);
    sc_core::sc_time mem = sc_core::SC_ZERO_TIME;
    uint64_t scanned = 0;
    for (std::size_t k = 0; k < written_.size(); ++k) {
      sc_core::sc_time mem_k = sc_core::SC_ZERO_TIME;
      if (written_[k] > 0) {
        const layer_scope scope(*this, k);
        auto& socket = off_chip(k) ? dram_socket : sram_socket;
        memory_access(socket, stage::update, tlm::TLM_READ_COMMAND, written_[k], mem_k, name());
        memory_access(socket, stage::update, tlm::TLM_WRITE_COMMAND, written_[k], mem_k, name());
      }
      const uint64_t cycles_k = (scanned_layer_[k] + lanes - 1) / lanes;  // whole cycles
      const sc_core::sc_time compute_k =
          mixed_ ? static_cast<double>(cycles_k) * period_ : update_layer_[k];
      add_layer_time(k, std::max(mem_k, compute_k));
      mem += mem_k;
      scanned += scanned_layer_[k];
      written_[k] = scanned_layer_[k] = 0;
      update_layer_[k] = sc_core::SC_ZERO_TIME;
    }
    if (mixed_) {
      const uint64_t cycles = (scanned + lanes - 1) / lanes;  // whole cycles
      update_compute_ = static_cast<double>(cycles) * period_;
    }
    advance(std::max(mem, update_compute_));
    update_compute_ = sc_core::SC_ZERO_TIME;
  }
  digital_unit::end_stage(s);
}

}  // namespace mcasim
