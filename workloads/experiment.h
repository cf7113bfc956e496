// Named training set-ups (paper Methods) as plain configuration structs.
#pragma once

#include <string>
#include <vector>

#include "models/chi_memory.h"
#include "models/converters.h"
#include "models/crossbar.h"
#include "models/pcm_device.h"
#include "workloads/digital_config.h"

namespace mcasim {

enum class activation_kind { sigmoid, relu };
enum class loss_kind { mse, l2svm };

struct mlp_config {
  std::size_t inputs = 784;  // + 1 bias
  std::size_t hidden = 250;  // + 1 bias
  std::size_t outputs = 10;
  activation_kind hidden_activation = activation_kind::sigmoid;
  loss_kind loss = loss_kind::mse;  // mse: sigmoid outputs; l2svm: linear outputs
  double learning_rate = 0.4;
  void validate() const;
};

// Mixed-precision computational-memory machine (functional).
struct mca_config {
  pcm_params pcm;
  crossbar_config crossbar;
  chi_config chi;          // epsilons in weight units (differential)
  double eps_p_us = 0.77;  // single_ref: epsilons in uS, converted by the weight scale
  double eps_d_us = 8.0;
  refresh_config refresh;
  int refresh_every_images = 100;  // all rows every N images; 0 = never
  bool refresh_spread = false;     // instead: 1/N of the rows after every image
  int drift_sync_images = 100;     // re-evaluate drift of all devices every N images
  // single_ref: conductance range [map_lo, map_hi] maps to [-w, w], w from the
  // per-epoch schedule (its last value holds for later epochs).
  double map_lo_us = 0.1, map_hi_us = 8.0;
  std::vector<double> weight_range_schedule{0.7, 0.85, 1.0};
  // single_ref: Gref is the mean conductance of all devices of both layers
  // (paper: "the average conductance of all the PCM devices read from the
  // array"), or of each layer's own devices when false.
  bool shared_reference = true;
  // Converters around the crossbars and the low-precision outer product.
  quantizer_config pwm_forward{true, 8, false, 1.0, false, false};
  quantizer_config adc_forward{true, 8, true, 16.0, false, false};
  quantizer_config pwm_backward{true, 8, true, 1.0, true, true};
  quantizer_config adc_backward{true, 8, true, 1.0, true, true};
  quantizer_config update_x{true, 3, true, 1.0, true, true};
  quantizer_config update_d{true, 3, true, 1.0, true, true};
  void validate() const;
};

enum class machine_kind { fp64, mca, digital };

struct experiment_config {
  std::string name;
  machine_kind machine = machine_kind::mca;
  mlp_config mlp;
  mca_config mca;
  digital_config digital;
  double fp_init_std = 0.147;   // fp64 weights ~ N(0, std): the spread of (Gp - Gn) / 8 uS
  double image_period_s = 0.1;  // simulated device time per training image
  void validate() const;
};

// "fp64", "mca", "mca-nondiff" (paper Methods, training experiments);
// "table1-digital32", "table1-digital-mp", "table1-mca" (the Table I
// workload through each design). Throws std::invalid_argument naming the
// known experiments otherwise.
experiment_config make_experiment(const std::string& name);
std::vector<std::string> experiment_names();

}  // namespace mcasim
