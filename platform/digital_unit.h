// Digital units: the initiators that run the network engine's training step
// (workloads/model.h) for every training image, forward propagation,
// backward propagation and weight update, with every transaction tagged by
// its stage. `digital_unit` holds what all designs share (the step's stages
// and element-wise work on a clocked datapath, quantum keeper, stage timing,
// the image loop); `mca_unit` drives the computational-memory tiles over the
// bus and the chi SRAM; `digital_design_unit` drives the weight SRAM and the
// MAC array of the two all-digital designs.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>
#include <systemc>
#include <tlm>

#include "platform/cm_tile.h"
#include "platform/counters.h"
#include "workloads/experiment.h"
#include "workloads/mnist.h"
#include "workloads/model.h"
#include "workloads/trainable.h"

namespace mcasim {

// What a unit trains: one network, or a machine of several (a GAN: its
// generator and discriminator) whose step drives them. Their weight layers
// are numbered in order across the networks (the machine's networks()).
class unit_workload {
 public:
  unit_workload(model& net);  // a network is a workload (implicit)
  explicit unit_workload(trainable& machine);
  const std::vector<model*>& networks() const { return nets_; }
  trainable* machine() const { return machine_; }
  // Weight layers of all networks.
  std::size_t layers() const { return first_.back(); }
  // Weight layer k's network and its index there.
  std::pair<model*, std::size_t> layer(std::size_t k) const;
  // Weight layer k of network i is layer first(i) + k.
  std::size_t first(std::size_t i) const { return first_[i]; }

 private:
  std::vector<model*> nets_;
  trainable* machine_ = nullptr;
  std::vector<std::size_t> first_{0};
};

struct digital_unit_config {
  std::string kind = "digital_unit";  // technology-table component (energy per action)
  double clock_mhz = 500.0;
  // Element-wise operations per cycle, per kind of operation, and the
  // latency every vector operation adds.
  int quantize_lanes = 128;
  int activation_lanes = 128;
  int derivative_lanes = 128;
  int error_lanes = 2;
  int op_latency_cycles = 1;
  // Outer-product entries (3-bit x 3-bit) examined per cycle in the weight
  // update; the non-zero ones are multiplied and read-modify-write memory.
  int outer_product_lanes = 334;
  // Partial sums added per cycle (the MCA: a layer split over several tiles,
  // whose blocks' ADC outputs the unit adds).
  int partial_sum_lanes = 128;
  // Inter-layer pipelining of the forward and backward stages (the MCA):
  // the samples of a batch flow through the weight layers' tiles and the
  // unit's datapath, each serving one sample at a time (see digital_unit).
  bool pipelined = false;
  void validate() const;
};

// A pipelined stage, summed over the batches since the counters were
// cleared: the stage's time, the first sample's latency (fill: from the
// stage's start to its last item), the last sample's latency (drain: from
// its first item's start to the stage's end), and how long each resource
// (tile k, the bus, the unit's datapath) worked.
struct pipeline_stats {
  uint64_t batches = 0, samples = 0;
  sc_core::sc_time time, fill, drain;
  std::map<std::string, sc_core::sc_time> busy;  // by resource ("tile_0", ..., "unit")
  // The schedule of the first batch: per work item, its sample, resource,
  // start and end (from the stage's start).
  struct slot {
    std::size_t sample;
    std::string resource;
    sc_core::sc_time start, end;
  };
  std::vector<slot> first_batch;
};

// One phase of a run: train on (or predict) data->image(order[k]) in turn,
// in batches of the unit's batch size (the last one may be shorter).
// `before` runs first (e.g. the design clears or snapshots its counters);
// `after` receives the number of correct predictions of the phase.
struct job_phase {
  const dataset* data = nullptr;
  std::vector<std::size_t> order;
  bool train = true;
  std::function<void()> before;
  std::function<void(std::size_t correct)> after;
};

// Where each weight layer's inputs wait from the forward pass to the
// update, which reads them back for its outer products (a batch of them):
// the digital unit's buffer (no memory traffic; the per-operation energies
// cover it), the activation SRAM, or DRAM. `words`: 32-bit words per
// sample (8-bit activations packed four to a word).
enum class activation_place { buffer, sram, dram };
struct activation_placement {
  int bits_per_value = 32;              // 32 (fp32) or 8 (the low-precision designs)
  std::vector<activation_place> where;  // per weight layer
  std::vector<uint64_t> words;          // per weight layer, per sample
};

class digital_unit : public sc_core::sc_module, public counted, protected step_observer {
 public:
  // The memories every design has: the activation SRAM and DRAM.
  tlm_utils::simple_initiator_socket<digital_unit> act_socket{"act_socket"};
  tlm_utils::simple_initiator_socket<digital_unit> dram_socket{"dram_socket"};

  enum action : std::size_t {
    quantize = 0,
    activation,
    derivative,
    error,
    outer_product,   // non-zero low-precision products
    outer_scan,      // outer-product entries examined (zero or not)
    weight_convert,  // 32-bit -> 4-bit weight conversion
    pulse_command,   // one (row, col, p) programming command
    cycle,           // clocked cycle of the unit during a stage (clock tree, leakage)
    partial_sum,     // one addition of a tile block's output into a layer's output
  };

  SC_HAS_PROCESS(digital_unit);
  // Trains `work` (its networks outlive the unit) with its optimizer at
  // `learning_rate`, `batch` samples per step. A machine's step may run one
  // network's stages inside another's (a GAN's generator step runs the
  // discriminator's forward and transposed passes to get its error): those
  // count as the outer stage's work.
  digital_unit(const sc_core::sc_module_name& nm, const digital_unit_config& cfg,
               const unit_workload& work, std::size_t batch, double learning_rate);
  ~digital_unit() override;
  digital_unit(const digital_unit&) = delete;
  digital_unit& operator=(const digital_unit&) = delete;

  const unit_workload& workload() const { return workload_; }

  // The phases to run when the simulation starts.
  void set_job(std::vector<job_phase> phases) { phases_ = std::move(phases); }
  // Called after every sample (training or test), e.g. to draw progress.
  void on_image(std::function<void()> f) { on_image_ = std::move(f); }
  uint64_t images_done() const { return images_; }
  // Wall-clock seconds spent processing training samples (model speed),
  // without the time other processes ran while the unit waited for them.
  double train_wall_s() const { return train_wall_s_; }
  // Simulated time spent per stage since the counters were cleared.
  const sc_core::sc_time& stage_time(stage s) const { return stage_time_[static_cast<int>(s)]; }
  // Per weight layer and stage since the counters were cleared: the time
  // the unit spent issuing the layer's work (sequential stages), the
  // layer's work items on their resources (pipelined stages), and the MCA
  // update's programming of its tiles (beside the unit). Work that overlaps
  // is counted for each layer, so the layers need not add up to the stage.
  const std::vector<std::array<sc_core::sc_time, k_stages>>& layer_times() const {
    return layer_time_;
  }
  // Weight layers whose per-weight state lives in DRAM (one flag per layer;
  // none by default): a digital design streams their weights from DRAM into
  // the weight SRAM once per block of products and updates them in DRAM;
  // the MCA's chi read-modify-write of them goes to DRAM.
  void place_off_chip(std::vector<bool> layers) { off_chip_ = std::move(layers); }
  // Where the weight layers' inputs wait for the update (none placed: all
  // in the buffer).
  void place_activations(activation_placement p) { acts_ = std::move(p); }
  // The weight layer whose work is being issued (-1: none, network-wide
  // work); the design's modules attribute their counts to it.
  const int* current_layer() const { return &current_layer_; }
  // The pipelined stages' figures (forward, backward; empty unless pipelined).
  const pipeline_stats& pipeline(stage s) const { return pipe_stats_[static_cast<int>(s)]; }
  void clear_stage_times();

  const action_counters& counters() const override { return counters_; }
  action_counters& counters() override { return counters_; }
  void clear_counters() override { counters_.clear(); }
  std::string component() const override { return cfg_.kind; }
  // The datapath's lanes of each kind of operation the design does
  // (activation, derivative, error; the designs add theirs), as
  // "<op>_lane" units priced by area_um2.<kind>.<op>_lane.
  std::vector<std::pair<std::string, double>> area_units() const override;
  // VCD: stage (0 idle, 1 forward, 2 backward, 3 update), training image,
  // and which stage's transactions are in flight, sampled while the images
  // [first, last) run (last = 0: no bound).
  // `refresh` copies the design's counters into their traced mirrors.
  void trace_vcd(sc_core::sc_trace_file* tf, uint64_t first, uint64_t last,
                 std::function<void()> refresh);

 protected:
  // The model's step (step_observer): its stages and element-wise work on
  // the unit's lanes; the designs add their weight layers' products and
  // updates.
  void begin_stage(step_stage s) override;
  void end_stage(step_stage s) override;
  void vector_op(digital_op op, std::size_t n) override;

  // The stage begun and not yet ended (-1: none).
  int current_stage() const { return current_stage_; }
  bool off_chip(std::size_t k) const { return k < off_chip_.size() && off_chip_[k]; }
  // Marks the work issued in its lifetime as weight layer k's, and the
  // unit's time that passes in it (the outermost scope's) as the layer's
  // (layer_times).
  class layer_scope {
   public:
    layer_scope(digital_unit& u, std::size_t k)
        : u_(u), outer_(u.current_layer_ < 0), start_(u.now()) {
      u_.current_layer_ = static_cast<int>(k);
    }
    ~layer_scope() {
      if (!outer_) return;
      u_.add_layer_time(static_cast<std::size_t>(u_.current_layer_), u_.now() - start_);
      u_.current_layer_ = -1;
    }
    layer_scope(const layer_scope&) = delete;
    layer_scope& operator=(const layer_scope&) = delete;

   private:
    digital_unit& u_;
    bool outer_;
    sc_core::sc_time start_;
  };
  // Adds `t` to weight layer k's time in the current stage.
  void add_layer_time(std::size_t k, const sc_core::sc_time& t);
  // Local time of the initiator (global time + quantum keeper offset).
  sc_core::sc_time now() const { return qk_.get_current_time(); }
  // Adds `t` to the local time and synchronises when the quantum is used up.
  void advance(const sc_core::sc_time& t);
  // A vector operation of n elements on `lanes` lanes in stage s.
  void count_op(stage s, action a, std::size_t n, int lanes);
  // Issues a transaction on `socket` and advances local time by its delay;
  // returns the delay. With `keep_time` the unit's time stays (the work is
  // placed on the pipeline instead, pipeline_work).
  sc_core::sc_time transact(tlm_utils::simple_initiator_socket<digital_unit>& socket,
                            tlm::tlm_command cmd, uint64_t addr, void* data, std::size_t bytes,
                            mcasim_ext& ext, bool keep_time = false);
  // Pipelining: true while a forward or backward stage is pipelined. Then
  // `t`, one block's work for the whole batch on `resource`, becomes a work
  // item of t / batch per sample; at the stage's end the samples are
  // scheduled in order over the items (schedule_pipeline): a sample does
  // its items in issue order, each in the earliest gap of the item's
  // resource after the sample's previous item (resources shared between
  // layers, the bus and the unit's datapath, serve the samples interleaved).
  bool pipelining() const { return pipe_on_; }
  void pipeline_work(const std::string& resource, const sc_core::sc_time& t);

  digital_unit_config cfg_;
  sc_core::sc_time period_;
  unit_workload workload_;
  action_counters counters_{{"quantize", "activation", "derivative", "error", "outer_product",
                             "outer_scan", "weight_convert", "pulse_command", "cycle",
                             "partial_sum"}};

 private:
  void run();
  // Samples order[k0, k1) of `phase` as one batch through the model's step
  // (or its forward pass); returns how many predictions were the label.
  std::size_t process(const job_phase& phase, std::size_t k0, std::size_t k1);
  void open_stage(stage s);
  void close_stage();
  // Synchronises with the kernel (other processes run); counts its wall time.
  void sync();
  // The batch's inputs of the weight layers not in the buffer: written in
  // the forward pass, read at the update's start.
  void activation_traffic(stage s, tlm::tlm_command cmd);
  // The pipelined stage's time for the batch; adds its fill and drain to ps.
  sc_core::sc_time schedule_pipeline(pipeline_stats& ps);

  // Forwards network i's step to the unit, its weight layers numbered from
  // workload_.first(i); stages begun while one is open are part of it.
  class network_observer;
  std::vector<std::unique_ptr<network_observer>> observers_;
  int nested_stages_ = 0;

  std::size_t batch_;
  double learning_rate_;
  std::vector<float> batch_x_;    // a batch's samples, one after another
  std::vector<uint8_t> batch_y_;  // and their labels
  tlm_utils::tlm_quantumkeeper qk_;
  std::vector<job_phase> phases_;
  std::function<void()> on_image_;
  uint64_t images_ = 0;
  // VCD mirrors (updated only inside the traced window).
  bool vcd_ = false, vcd_on_ = false;
  uint64_t vcd_first_ = 0, vcd_last_ = 0;
  int vcd_stage_ = 0;
  std::function<void()> vcd_refresh_;
  uint64_t vcd_image_ = 0;
  double train_wall_s_ = 0.0;
  double waited_wall_s_ = 0.0;  // wall-clock seconds inside sync()
  int current_stage_ = -1;
  int current_layer_ = -1;
  std::vector<bool> off_chip_;  // per weight layer (place_off_chip)
  activation_placement acts_;   // (place_activations)
  bool training_ = false;       // the phase being processed trains
  sc_core::sc_time stage_start_;
  // Pipelining within the current stage (times from its start).
  bool pipe_on_ = false;
  std::size_t batch_n_ = 1;  // samples of the current batch
  // The stage's work items (resource, time per sample) in issue order, and
  // each resource's work for the whole batch.
  std::vector<std::pair<std::string, sc_core::sc_time>> work_;
  std::map<std::string, sc_core::sc_time> worked_;
  std::array<pipeline_stats, k_stages> pipe_stats_{};
  std::array<sc_core::sc_time, k_stages> stage_time_{};
  std::vector<std::array<sc_core::sc_time, k_stages>> layer_time_;
};

// --- MCA ---------------------------------------------------------------------
// The digital unit of the MCA runs the model's training step
// (workloads/model.h): the step's element-wise work and chi updates are its
// own actions (step_observer), and every mca weight layer k computes and is
// programmed through its tiles, one per block of the layer
// (workloads/analog_tile.h): its MVMs, pulse lists and refresh checks are
// transactions over the bus (a tile_port per layer). A block of MVMs sends
// every tile its share of the unit's PWM codes, the tiles compute at once,
// and the unit reads their outputs and adds the partial sums. Bus address
// map: tile j at j * cm_tile::addr_span.
class mca_unit : public digital_unit {
 public:
  tlm_utils::simple_initiator_socket<digital_unit> bus_socket{"bus_socket"};
  tlm_utils::simple_initiator_socket<digital_unit> sram_socket{"sram_socket"};

  // The tiles, one per block of every weight layer of `work` (the layers in
  // order, each layer's blocks in order), hold its devices and outlive the
  // unit.
  mca_unit(const sc_core::sc_module_name& nm, const digital_unit_config& cfg,
           const unit_workload& work, std::vector<cm_tile*> tiles, std::size_t batch,
           double learning_rate);
  ~mca_unit() override;
  mca_unit(const mca_unit&) = delete;
  mca_unit& operator=(const mca_unit&) = delete;
  // The shared lanes plus quantize, outer_product and partial_sum.
  std::vector<std::pair<std::string, double>> area_units() const override;

 protected:
  // Programming runs in parallel with the digital unit from the start of
  // the update; the stage ends when both are done.
  void begin_stage(step_stage s) override;
  void end_stage(step_stage s) override;
  void weight_products(std::size_t k, std::size_t n, std::size_t in, std::size_t out) override;
  void weight_update(std::size_t k, std::size_t rows, std::size_t cols, uint64_t products) override;

 private:
  class bus_tile;
  // Weight layer k's functional tile and devices (in its network).
  analog_tile* analog(std::size_t k) const;
  crossbar* array(std::size_t k) const;
  // Quantises a block of `vectors` input vectors of `n` values each for
  // weight layer k, sends them to its tiles, runs their (transposed) MVMs
  // and reads `n_out` results per vector into out (adding the partial sums).
  void tile_mvm(stage s, std::size_t k, const float* in, std::size_t vectors, std::size_t n,
                bool transposed, float* out, std::size_t n_out);
  // Commands through the bus on the programming time line, which runs in
  // parallel with the digital unit: they start at program_end_ (absolute
  // simulated time), weight layer k's tiles (those with a command in
  // `cmds`: tile index within the layer, address, data, bytes, extension)
  // at once, and move program_end_ to the last one's end.
  struct tile_cmd {
    std::size_t block;
    uint64_t addr;
    const void* data;
    std::size_t bytes;
    mcasim_ext ext;
  };
  void tile_commands(std::size_t k, std::vector<tile_cmd>& cmds);

  std::vector<cm_tile*> tiles_;
  std::vector<std::vector<std::size_t>> layer_tiles_;  // per weight layer: its tiles' indices
  std::vector<std::unique_ptr<bus_tile>> ports_;
  std::vector<float> part_;  // one tile's partial outputs (reused)
  sc_core::sc_time program_end_;
};

// --- digital designs ---------------------------------------------------------
// The weight layers compute in the MAC array from the weight SRAM (fp32 for
// the 32-bit design, digital-mp for the mixed-precision one); the update
// reads and writes the weights it changes (the 32-bit design: every weight).
class digital_design_unit : public digital_unit {
 public:
  tlm_utils::simple_initiator_socket<digital_unit> sram_socket{"sram_socket"};
  tlm_utils::simple_initiator_socket<digital_unit> mac_socket{"mac_socket"};

  digital_design_unit(const sc_core::sc_module_name& nm, const digital_unit_config& cfg,
                      const unit_workload& work, bool mixed, std::size_t batch,
                      double learning_rate);
  // The shared lanes; the mixed design's also quantize and outer_product
  // (the 32-bit design forms its outer products in the MAC array).
  std::vector<std::pair<std::string, double>> area_units() const override;

 protected:
  void end_stage(step_stage s) override;
  void weight_products(std::size_t k, std::size_t n, std::size_t in, std::size_t out) override;
  void weight_update(std::size_t k, std::size_t rows, std::size_t cols, uint64_t products) override;

 private:
  // Streams an (n_out x n_in) weight block through the MAC array for each
  // of `vectors` products, read from the SRAM (pipelined: the slower of the
  // two sets the time) or, with from_sram false, from the local buffer of
  // converted weights.
  void propagate(stage s, std::size_t k, std::size_t vectors, std::size_t n_out, std::size_t n_in,
                 uint64_t macs, bool from_sram);
  void sram_access(stage s, tlm::tlm_command cmd, uint64_t words, sc_core::sc_time& delay);
  void dram_access(stage s, tlm::tlm_command cmd, uint64_t words, sc_core::sc_time& delay);

  bool mixed_;
  // The update stage so far, per weight layer: weight words to read and
  // write (in the SRAM or, for a layer in DRAM, there), outer-product
  // entries scanned (mixed), the MAC array's time (32-bit); and the MAC
  // array's time line of the stage (32-bit; its transactions follow on).
  std::vector<uint64_t> written_;
  std::vector<uint64_t> scanned_layer_;
  std::vector<sc_core::sc_time> update_layer_;
  sc_core::sc_time update_compute_;
};

}  // namespace mcasim
