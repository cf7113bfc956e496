#include "workloads/experiment.h"

#include <cmath>
#include <stdexcept>

namespace mcasim {

void mlp_config::validate() const {
  if (inputs == 0 || hidden == 0 || outputs < 2) {
    throw std::invalid_argument("mlp: inputs and hidden must be > 0 and outputs >= 2");
  }
  if (!(learning_rate > 0 && std::isfinite(learning_rate))) {
    throw std::invalid_argument("mlp.learning_rate = " + std::to_string(learning_rate) +
                                ": must be > 0");
  }
}

void mca_config::validate() const {
  pcm.validate();
  crossbar.validate();
  chi.validate();
  refresh.validate();
  if (refresh_every_images < 0)
    throw std::invalid_argument("mca.refresh_every_images must be >= 0");
  if (drift_sync_images < 1) throw std::invalid_argument("mca.drift_sync_images must be >= 1");
  if (!(eps_p_us > 0) || !(eps_d_us > 0))
    throw std::invalid_argument("mca.eps_p_us/eps_d_us must be > 0");
  if (!(map_hi_us > map_lo_us)) throw std::invalid_argument("mca.map_hi_us must be > map_lo_us");
  for (double w : weight_range_schedule) {
    if (!(w > 0 && std::isfinite(w))) {
      throw std::invalid_argument("mca.weight_range_schedule: " + std::to_string(w) +
                                  " must be > 0");
    }
  }
  pwm_forward.validate("mca.pwm_forward");
  adc_forward.validate("mca.adc_forward");
  pwm_backward.validate("mca.pwm_backward");
  adc_backward.validate("mca.adc_backward");
  update_x.validate("mca.update_x");
  update_d.validate("mca.update_d");
}

void experiment_config::validate() const {
  mlp.validate();
  if (machine == machine_kind::mca) mca.validate();
  if (machine == machine_kind::digital) digital.validate();
  if (!(image_period_s >= 0 && std::isfinite(image_period_s))) {
    throw std::invalid_argument("image_period_s must be >= 0");
  }
  if (!(fp_init_std > 0)) throw std::invalid_argument("fp_init_std must be > 0");
}

std::vector<std::string> experiment_names() {
  return {"fp64", "mca", "mca-nondiff", "table1-digital32", "table1-digital-mp", "table1-mca"};
}

namespace {

// The Table I workload (paper Methods, "Energy estimation"): 785-250-10, ReLU
// hidden neurons, L2-SVM error, SGD batch 1. Operating point: docs/table1.md.
void table1_workload(experiment_config& e) {
  e.mlp.hidden_activation = activation_kind::relu;
  e.mlp.loss = loss_kind::l2svm;
  e.mlp.learning_rate = 0.0015;
  e.image_period_s = 2e-6;
}

}  // namespace

experiment_config make_experiment(const std::string& name) {
  experiment_config e;
  e.name = name;
  if (name == "fp64") {
    e.machine = machine_kind::fp64;
  } else if (name == "mca") {
    e.mca.crossbar.synapse = synapse_kind::differential;
    e.mca.crossbar.init_mean_us = 1.6;
    e.mca.crossbar.init_std_us = 0.83;
    e.mca.chi.eps_p = e.mca.chi.eps_d = 0.096;
  } else if (name == "mca-nondiff") {
    e.mca.crossbar.synapse = synapse_kind::single_ref;
    e.mca.crossbar.init_mean_us = 4.5;
    e.mca.crossbar.init_std_us = 1.25;
    e.mca.refresh_every_images = 0;
  } else if (name == "table1-digital32") {
    table1_workload(e);
    e.machine = machine_kind::digital;
    e.digital.kind = digital_kind::fixed32;
  } else if (name == "table1-digital-mp") {
    table1_workload(e);
    e.machine = machine_kind::digital;
    e.digital.kind = digital_kind::mixed;
  } else if (name == "table1-mca") {
    // 8-bit PWM inputs and ADC outputs around the crossbars, signed 3-bit
    // activations and errors with shared power-of-two scales in the weight
    // update, refresh spread across images.
    table1_workload(e);
    e.mca.crossbar.synapse = synapse_kind::differential;
    e.mca.chi.eps_p = e.mca.chi.eps_d = 0.096;
    e.mca.refresh_spread = true;
    e.mca.pwm_forward = {false, 8, false, 1.0, true, true, false};
    e.mca.adc_forward = {false, 8, true, 8.0, false, false, false};
    e.mca.pwm_backward = {false, 8, true, 1.0, true, true, false};
    e.mca.adc_backward = {false, 8, true, 2.0, false, false, false};
    e.mca.update_x = {false, 3, true, 1.0, true, true, true};
    e.mca.update_d = {false, 3, true, 1.0, true, true, true};
  } else {
    std::string known;
    for (const auto& n : experiment_names()) known += (known.empty() ? "" : ", ") + n;
    throw std::invalid_argument("unknown experiment '" + name + "' (known: " + known + ")");
  }
  return e;
}

void digital_config::validate() const {
  weights.validate("digital.weights");
  activations.validate("digital.activations");
  errors.validate("digital.errors");
  update_x.validate("digital.update_x");
  update_d.validate("digital.update_d");
}

}  // namespace mcasim
