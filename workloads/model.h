// A network built from its description and numerics, and the one training
// step over its layers: forward through every layer, loss, backward through
// every layer, SGD (momentum, weight decay) in the digital unit, and the
// update of every weight layer in its numerics (fp32: added; digital-mp:
// added to the 32-bit weights; mca: accumulated in chi, blind pulses when
// |chi| >= epsilon). Weight layers see what the hardware does: a block of
// MVMs (a batch of vectors, or a batch's conv patches), a block of
// transposed MVMs, and an increment to apply.
//
// The tensor library (libtorch) stays inside model.cpp: batches go in as
// float arrays, samples laid out as the data set holds them (CHW).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/state_io.h"
#include "workloads/network_spec.h"
#include "workloads/numerics.h"

namespace mcasim {

class analog_tile;
class chi_memory;
class crossbar;
struct pulse_cmd;

// The analog part of an mca weight layer (rows x cols), as the hardware has
// it: a tile with its input converters (PWM), PCM array and output
// converters (ADC), and the programming of its devices. The functional run
// uses the layer's own tile (its crossbar and the converter models); the
// SystemC platform puts a tile's transactions behind the same calls, on the
// same crossbar (model::array).
class tile_port {
 public:
  virtual ~tile_port() = default;
  // A block of n MVMs: x [n, rows] row-major in, y [n, cols] out.
  virtual void forward(const float* x, std::size_t n, float* y) = 0;
  // A block of n transposed MVMs: d [n, cols] in, y [n, out_rows] out, the
  // first out_rows rows (a bias row's error is never needed).
  virtual void backward(const float* d, std::size_t n, float* y, std::size_t out_rows) = 0;
  // The blind pulses of one update, in the order chi released them.
  virtual void program(const std::vector<pulse_cmd>& pulses, double now_s) = 0;
  // The refresh check of rows [r0, r1).
  virtual void refresh(std::size_t r0, std::size_t r1, double now_s) = 0;
};

// The stages of a training step, in order.
enum class step_stage { forward, backward, update };
// The digital unit's element-wise work in a step.
enum class digital_op {
  activation,  // an activation function, per element
  derivative,  // an activation's derivative times the error, per element
  error,       // the loss's error at an output
  quantize,    // a value scaled and rounded for a converter or the update
};

// What the digital unit does in a step, for a hardware model to count and
// time: the stages, the element-wise operations, the products of the weight
// layers it computes itself (fp32, digital-mp; an mca layer's go through its
// tile_port), and the update of every weight layer. A weight layer's inputs
// are quantised by the digital unit (mca, digital-mp) except the network's
// input (the data set's codes), its errors before every block of transposed
// products, and the update's operands (rows + cols values per sample) when
// they are quantised.
class step_observer {
 public:
  virtual ~step_observer() = default;
  virtual void begin_stage(step_stage s) = 0;
  virtual void end_stage(step_stage s) = 0;
  virtual void vector_op(digital_op op, std::size_t n) = 0;
  // A block of n products of weight layer k in the current stage, each of
  // `in` values to `out` values, with the layer's weights as they are held
  // (fp32: 32-bit words; digital-mp: converted to 4 bits).
  virtual void weight_products(std::size_t k, std::size_t n, std::size_t in, std::size_t out) = 0;
  // The update of weight layer k (rows x cols): its rows x cols
  // outer-product entries examined, `products` of them non-zero and written
  // (mca: added to chi, read-modify-write, before its pulses go to the tile;
  // fp32 and digital-mp: added to the 32-bit weights).
  virtual void weight_update(std::size_t k, std::size_t rows, std::size_t cols,
                             uint64_t products) = 0;
};

// Per weight layer, since construction.
struct weight_layer_stats {
  std::string name;
  std::size_t rows = 0, cols = 0;
  uint64_t weight_updates = 0;  // fp32/digital-mp: non-zero weight changes; mca: cells programmed
  uint64_t set_pulses = 0;
  uint64_t reset_pulses = 0;
  uint64_t nonzero_chi_updates = 0;
  uint64_t refreshed_cells = 0;
  // The mapping used (mca): conductance per weight, epsilon, ADC ranges.
  double g_per_weight_us = 0.0, epsilon = 0.0, weight_std = 0.0;
  double adc_forward_range = 0.0, adc_backward_range = 0.0;
};

// What one layer puts out on a probe batch (forward, dropout off): the
// statistics a user reads to see dead ReLUs, saturation or a collapsed
// output; weight layers also report their weights.
struct layer_activity {
  std::string name;
  std::string kind;
  double mean = 0.0, std = 0.0;
  double zero_fraction = 0.0;  // outputs exactly 0
  // Outputs that are 0 for every sample of the probe (units for dense
  // layers and vectors, channels x positions for images): dead units.
  double dead_fraction = 0.0;
  bool weight_layer = false;
  double weight_mean = 0.0, weight_std = 0.0;  // the weights the layer computes with
  // mca layers: their devices' drifted conductances (crossbar::summarize,
  // near saturation: >= 0.9 pcm.g_max_us).
  bool devices = false;
  double g_pos_mean_us = 0.0, g_pos_std_us = 0.0, g_neg_mean_us = 0.0, g_neg_std_us = 0.0;
  double g_high_fraction = 0.0;
};

struct batch_result {
  double loss_sum = 0.0;  // summed over the batch's samples (recurrent: their steps)
  std::size_t correct = 0;
};

class model {
 public:
  model(const network_spec& net, const network_run_config& cfg, uint64_t seed);
  ~model();
  model(const model&) = delete;
  model& operator=(const model&) = delete;

  const network_spec& spec() const;
  // One SGD step on n samples (x: n * input size values, labels < classes;
  // a recurrent network's sample is a sequence of training.bptt steps, with
  // an input and a label per step, sample-major),
  // learning rate lr, at simulated device time now_s (drift, programming);
  // dropout active. Returns the loss and correct predictions of the forward
  // pass before the update.
  batch_result train_batch(const float* x, const uint8_t* labels, std::size_t n, double lr,
                           double now_s = 0.0);
  // The loss as a function of the network's outputs instead of its loss
  // layer (a GAN's generator trains through its discriminator): z [rows,
  // outputs] in, dL/dz of the loss to minimise out in g (same shape), the
  // summed loss returned.
  using loss_function = std::function<batch_result(const float* z, std::size_t rows, float* g)>;
  // One SGD step as above, with that loss.
  batch_result train_batch(const float* x, std::size_t n, double lr, double now_s,
                           const loss_function& loss);
  // The error at the network's input: forward (dropout active), the loss on
  // labels, backward through every layer to dL/dx (n * input size values,
  // the batch-mean loss), no update. Returns the forward pass's loss.
  batch_result input_gradient(const float* x, const uint8_t* labels, std::size_t n, float* gx);
  // What the first `layers` layers put out on n samples (dropout off;
  // 0: every layer before the loss), sample-major.
  std::vector<float> outputs(const float* x, std::size_t n, std::size_t layers = 0);
  // Before the first batch of epoch e (1-based): single_ref weight scale.
  void begin_epoch(int epoch);
  // Re-reads every device's drift at now_s (inference after training).
  void age_to(double now_s);
  // Forward only, dropout off.
  batch_result evaluate(const float* x, const uint8_t* labels, std::size_t n);
  // Per layer (losses excluded), the outputs of a forward pass on n samples.
  std::vector<layer_activity> activity(const float* x, std::size_t n);
  uint64_t samples_trained() const;
  std::vector<weight_layer_stats> stats() const;
  // Weights of the k-th weight layer, rows x cols row-major (mca: the
  // drifted noise-free conductances in weight units); set_weights replaces
  // them (fp32 and digital-mp only).
  std::vector<float> weights(std::size_t k) const;
  void set_weights(std::size_t k, const std::vector<float>& w);

  // The PCM array of the k-th weight layer (mca), else null.
  crossbar* array(std::size_t k);
  // The functional tile of the k-th weight layer (mca), else null: what
  // computes its products on array(k) (workloads/analog_tile.h).
  analog_tile* analog(std::size_t k);
  // The chi memory of the k-th weight layer (mca), else null.
  const chi_memory* chi(std::size_t k) const;
  // Routes the k-th weight layer's MVMs and programming through `port`
  // (mca only; null: the layer's own tile again). The port outlives its use.
  void attach_tile(std::size_t k, tile_port* port);
  // Reports every step's digital work to `obs` (null: none). The observer
  // outlives its use.
  void observe(step_observer* obs);

  void save(state_writer& w) const;
  void load(state_reader& r);

 private:
  struct impl;
  std::unique_ptr<impl> p_;
};

}  // namespace mcasim
