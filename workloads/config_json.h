// JSON form of the configuration structs (nlohmann-json): every result file
// records the effective configuration with these bindings.
#pragma once

#include <nlohmann/json.hpp>

#include "workloads/experiment.h"
#include "workloads/numerics.h"

namespace mcasim {

NLOHMANN_JSON_SERIALIZE_ENUM(synapse_kind, {{synapse_kind::differential, "differential"},
                                            {synapse_kind::single_ref, "single_ref"}})
NLOHMANN_JSON_SERIALIZE_ENUM(activation_kind, {{activation_kind::sigmoid, "sigmoid"},
                                               {activation_kind::relu, "relu"}})
NLOHMANN_JSON_SERIALIZE_ENUM(machine_kind, {{machine_kind::fp64, "fp64"},
                                            {machine_kind::mca, "mca"},
                                            {machine_kind::digital, "digital"}})
NLOHMANN_JSON_SERIALIZE_ENUM(digital_kind,
                             {{digital_kind::fixed32, "fixed32"}, {digital_kind::mixed, "mixed"}})
NLOHMANN_JSON_SERIALIZE_ENUM(loss_kind, {{loss_kind::mse, "mse"}, {loss_kind::l2svm, "l2svm"}})

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(pcm_params, alpha, m1, c1, a1, m2, c2, a2, g_min_us,
                                                g_max_us, reset_mean_us, reset_std_us,
                                                reset_floor_us, drift, drift_t0_s, nu, nu_std,
                                                read_noise, read_noise_rel, read_noise_abs_us,
                                                variability, variability_mu_rel,
                                                variability_gmax_rel)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(crossbar_config, synapse, g_per_weight_us,
                                                init_mean_us, init_std_us)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(chi_config, eps_p, eps_d, max_pulses)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(refresh_config, g_high_us, diff_low_us, max_pulses,
                                                g_per_pulse_us)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(quantizer_config, ideal, bits, is_signed, range,
                                                dynamic, power_of_two, pow2_nearest)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(mlp_config, inputs, hidden, outputs,
                                                hidden_activation, loss, learning_rate)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(mca_config, pcm, crossbar, chi, eps_p_us, eps_d_us,
                                                refresh, refresh_every_images, refresh_spread,
                                                drift_sync_images, map_lo_us, map_hi_us,
                                                weight_range_schedule, shared_reference,
                                                pwm_forward, adc_forward, pwm_backward,
                                                adc_backward, update_x, update_d)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(digital_config, kind, weights, activations, errors,
                                                update_x, update_d)
NLOHMANN_JSON_SERIALIZE_ENUM(numerics_kind, {{numerics_kind::fp32, "fp32"},
                                             {numerics_kind::mca, "mca"},
                                             {numerics_kind::digital_mp, "digital-mp"}})
// A layer's own numerics is written only when it has one, so that the
// configurations (and checkpoints) of runs in one numerics keep their form.
inline void to_json(nlohmann::json& j, const layer_numerics& l) {
  j = {{"weight_std", l.weight_std},
       {"g_per_weight_us", l.g_per_weight_us},
       {"adc_forward_range", l.adc_forward_range},
       {"adc_backward_range", l.adc_backward_range}};
  if (!l.numerics.empty()) j["numerics"] = l.numerics;
}
inline void from_json(const nlohmann::json& j, layer_numerics& l) {
  const layer_numerics d;
  l.numerics = j.value("numerics", d.numerics);
  l.weight_std = j.value("weight_std", d.weight_std);
  l.g_per_weight_us = j.value("g_per_weight_us", d.g_per_weight_us);
  l.adc_forward_range = j.value("adc_forward_range", d.adc_forward_range);
  l.adc_backward_range = j.value("adc_backward_range", d.adc_backward_range);
}
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(mca_numerics, pcm, crossbar, eps_us, eps_depress_us,
                                                max_pulses, refresh, refresh_every_images,
                                                refresh_spread, drift_sync_images, map_lo_us,
                                                map_hi_us, weight_range_schedule, shared_reference,
                                                pwm_forward, adc_forward, pwm_backward,
                                                adc_backward, update_x, update_d, read_variance)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(digital_mp_numerics, weights, activations, errors,
                                                update_x, update_d)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(lr_schedule, gamma, step_epochs)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(augment_config, standardize, flip, brightness,
                                                contrast)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(network_run_config, numerics, batch, learning_rate,
                                                momentum, weight_decay, schedule, augment,
                                                conv_update, dropout_scale, mca, digital_mp, layers,
                                                bptt, clip_norm, image_period_s, threads)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(experiment_config, name, machine, mlp, mca, digital,
                                                fp_init_std, image_period_s)

}  // namespace mcasim
