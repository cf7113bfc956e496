// How the weight layers of a network compute, chosen per run: `fp32` (the
// reference), `mca` (PCM crossbars with PWM inputs, ADC outputs, read noise,
// drift, chi accumulation and blind SET pulses, refresh) or `digital-mp`
// (4-bit weights from 32-bit ones, 8-bit activations and errors, 32-bit
// accumulation). Everything that is not a weight layer runs in fp32 in the
// digital unit. Training options (mini-batches, SGD with momentum and weight
// decay, learning-rate schedule, augmentation) are here too: one struct is
// the configuration of a network training run.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "models/chi_memory.h"
#include "models/converters.h"
#include "models/crossbar.h"
#include "models/pcm_device.h"

namespace mcasim {

enum class numerics_kind { fp32, mca, digital_mp };

// Per weight layer: how its weights map to conductances and its converter
// ranges. 0 means "derived from the layer" (see layer_mapping below).
struct layer_numerics {
  // The layer's own numerics ("": the run's; fp32, mca or digital-mp): a
  // mixed design, e.g. one network's layers digital and another's on PCM.
  std::string numerics;
  double weight_std = 0.0;          // initial weight spread; 0: He, sqrt(2 / fan_in)
  double g_per_weight_us = 0.0;     // W = (Gp - Gn) / g; 0: sqrt(2) init_std_us / weight_std
  double adc_forward_range = 0.0;   // ADC full scale / PWM full scale; 0: 8 sqrt(rows) w_std
  double adc_backward_range = 0.0;  // the same for the transposed read; 0: 2 sqrt(cols) w_std
};

struct mca_numerics {
  pcm_params pcm;
  crossbar_config crossbar;  // init_mean_us / init_std_us; g_per_weight_us is per layer
  double eps_us = 0.77;      // mean conductance change of one SET pulse: epsilon = eps_us / g
  // Depressing pulses: 0 = eps_us (differential: a SET on the negative
  // device); single_ref depresses with a RESET, whose step is far larger.
  double eps_depress_us = 0.0;
  int max_pulses = 0;  // per cell and update (0: no limit)
  refresh_config refresh;
  int refresh_every_images = 100;  // all rows every N training samples; 0 = never
  bool refresh_spread = false;     // instead: 1/N of the rows after every sample
  int drift_sync_images = 100;     // re-evaluate drift of every device every N samples
  // single_ref synapses (crossbar.synapse): W = (G - Gref) x 2 w / (map_hi -
  // map_lo), w the weight range of the epoch from the schedule (its last
  // value holds for later epochs); Gref the mean conductance of the devices
  // of every mca layer (shared_reference) or of the layer's own devices.
  double map_lo_us = 0.1, map_hi_us = 8.0;
  std::vector<double> weight_range_schedule{0.7, 0.85, 1.0};
  bool shared_reference = true;
  // Converters: signed 8-bit PWM inputs with a power-of-two scale per vector;
  // 8-bit ADC outputs whose full scale is the layer's range x the input scale.
  quantizer_config pwm_forward{false, 8, true, 1.0, true, true, false};
  quantizer_config adc_forward{false, 8, true, 1.0, false, false, false};
  quantizer_config pwm_backward{false, 8, true, 1.0, true, true, false};
  quantizer_config adc_backward{false, 8, true, 1.0, false, false, false};
  // Operands of the update's outer product of dense layers (the layer's
  // input and error of each sample; ideal: the exact increment). Quantised
  // operands need plain SGD (momentum and weight decay 0).
  quantizer_config update_x{true, 3, true, 1.0, true, true, true};
  quantizer_config update_d{true, 3, true, 1.0, true, true, true};
  // Precision of the aggregated read variances of a block of MVMs (the
  // squared PWM codes times the cells' variances, summed): "bf16" (both
  // rounded to bfloat16, summed in fp32, the sum rounded to bfloat16: a
  // relative error below 0.4 % of the variance, where the processor's
  // bfloat16 products make them several times faster) or "fp32". The
  // products themselves are fp32 either way; batch-1 kernels (the paper's
  // perceptron) always use fp32.
  std::string read_variance = "bf16";
  // The tiles the layers are on (rows x columns of devices; 0: each layer on
  // one tile of its own size). A larger layer splits into blocks, one tile
  // each: every block's outputs go through its own ADCs and the digital
  // unit adds the partial sums of the row blocks (forward) or column blocks
  // (transposed). Not a key of its own: the hardware's platform.tiles.
  std::size_t tile_rows = 0, tile_cols = 0;
};

// A rows x cols weight matrix on tiles of tile_rows x tile_cols devices (0:
// the matrix's own size): its blocks, one tile each, row-block major; each
// holds rows [row0, row0 + rows) and columns [col0, col0 + cols).
struct matrix_block {
  std::size_t row0 = 0, rows = 0, col0 = 0, cols = 0;
};
std::vector<matrix_block> tile_blocks(std::size_t rows, std::size_t cols, std::size_t tile_rows,
                                      std::size_t tile_cols);

struct digital_mp_numerics {
  quantizer_config weights{false, 4, true, 1.0, true, true, false};
  quantizer_config activations{false, 8, true, 1.0, true, true, false};
  quantizer_config errors{false, 8, true, 1.0, true, true, false};
  // Quantisers of the outer product's operands, as mca.update_x/update_d
  // (ideal: the exact increment; the Table I design: signed 3-bit).
  quantizer_config update_x{true, 3, true, 1.0, true, true, true};
  quantizer_config update_d{true, 3, true, 1.0, true, true, true};
};

// Learning rate of epoch e (1-based): lr * gamma^floor((e - 1) / step_epochs).
struct lr_schedule {
  double gamma = 1.0;
  int step_epochs = 0;  // 0: constant
};

struct augment_config {
  // Every sample (training and test) shifted and scaled to mean 0 and
  // standard deviation 1 (floor 1/sqrt(values)), after the random changes.
  bool standardize = false;
  bool flip = false;        // random horizontal flip
  double brightness = 0.0;  // add U(-b, b), pixels in [0, 1]
  double contrast = 0.0;    // scale around the image mean by U(1 - c, 1 + c); clamp to [0, 1]
};

struct network_run_config {
  numerics_kind numerics = numerics_kind::fp32;
  std::size_t batch = 1;
  double learning_rate = 0.01;
  double momentum = 0.0;
  double weight_decay = 0.0;
  lr_schedule schedule;
  augment_config augment;
  // A conv layer's update of one sample: the sum of its per-patch outer
  // products ("sum", the gradient) or their average ("mean", the paper's
  // Methods wording; it divides a conv layer's step by its number of patches,
  // 1024 for the CIFAR-10 CNN's first layers, which then barely learn at a
  // rate that suits the dense layers; docs/networks.md).
  std::string conv_update = "sum";
  // Every dropout rate of the network multiplied by this (the paper's
  // dropout study, Fig. 4c: 0, 0.2, 0.4, 0.8, 1.0, 1.2, 1.4).
  double dropout_scale = 1.0;
  mca_numerics mca;
  digital_mp_numerics digital_mp;
  std::map<std::string, layer_numerics> layers;  // by layer name
  // Recurrent networks (an lstm layer): steps per sequence, the truncated
  // backpropagation through time (a sequence starts from a zero state).
  std::size_t bptt = 100;
  // The batch's gradient over every weight layer scaled down to this L2
  // norm when it is larger (0: never), in the digital unit before momentum.
  double clip_norm = 0.0;
  double image_period_s = 0.1;  // simulated device time per training sample (drift)
  int threads = 2;              // tensor library threads (results depend on it; recorded)
  void validate() const;
  // The numerics of the weight layer named `layer` (its layers entry, or the run's).
  numerics_kind numerics_of(const std::string& layer) const;
  // Whether any weight layer computes in k (the run's numerics or a layer's own).
  bool uses(numerics_kind k) const;
  // Whether every layer computes in the run's numerics.
  bool uniform() const;
};

const char* numerics_name(numerics_kind k);
numerics_kind parse_numerics(const std::string& s);  // throws std::invalid_argument

}  // namespace mcasim
