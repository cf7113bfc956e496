#include "workloads/network_train.h"

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>

#include "workloads/config_json.h"
#include "workloads/model.h"
#include "workloads/trained_network.h"

namespace mcasim {

namespace {

class model_adapter : public trainable {
 public:
  model_adapter(const network_spec& net, const network_run_config& cfg, uint64_t seed)
      : m_(net, cfg, seed) {}
  step_result train_batch(const float* x, const uint8_t* labels, std::size_t n, double lr,
                          double now_s) override {
    const batch_result r = m_.train_batch(x, labels, n, lr, now_s);
    return {r.loss_sum, r.correct};
  }
  step_result evaluate(const float* x, const uint8_t* labels, std::size_t n, double) override {
    const batch_result r = m_.evaluate(x, labels, n);
    return {r.loss_sum, r.correct};
  }
  void begin_epoch(int epoch, double) override { m_.begin_epoch(epoch); }
  void age_to(double now_s) override { m_.age_to(now_s); }
  std::vector<layer_counters> counters() const override {
    std::vector<layer_counters> out;
    for (const weight_layer_stats& s : m_.stats()) out.push_back(counters_of(s));
    return out;
  }
  nlohmann::json activity(const float* x, std::size_t n) override {
    return activity_json(m_.activity(x, n));
  }
  std::vector<std::string> layer_names() const override {
    std::vector<std::string> names;
    for (const weight_layer_stats& s : m_.stats()) names.push_back(s.name);
    return names;
  }
  // The last weight layer's array (the perceptron's output layer, Fig. 3b).
  crossbar* traced_array() override { return m_.array(m_.spec().weight_layers().size() - 1); }
  void save(state_writer& w) const override { m_.save(w); }
  void load(state_reader& r) override { m_.load(r); }
  const model& get() const { return m_; }

 private:
  model m_;
};

}  // namespace

layer_counters counters_of(const weight_layer_stats& s) {
  layer_counters c;
  c.weight_updates = s.weight_updates;
  c.set_pulses = s.set_pulses;
  c.reset_pulses = s.reset_pulses;
  c.nonzero_chi_updates = s.nonzero_chi_updates;
  c.refreshed_cells = s.refreshed_cells;
  return c;
}

nlohmann::json activity_json(const std::vector<layer_activity>& layers) {
  nlohmann::json out = nlohmann::json::array();
  for (const layer_activity& a : layers) {
    nlohmann::json j{{"name", a.name},
                     {"kind", a.kind},
                     {"mean", a.mean},
                     {"std", a.std},
                     {"zero_fraction", a.zero_fraction},
                     {"dead_fraction", a.dead_fraction}};
    if (a.weight_layer) {
      j["weight_mean"] = a.weight_mean;
      j["weight_std"] = a.weight_std;
    }
    if (a.devices) {
      j["g_pos_mean_us"] = a.g_pos_mean_us;
      j["g_pos_std_us"] = a.g_pos_std_us;
      j["g_neg_mean_us"] = a.g_neg_mean_us;
      j["g_neg_std_us"] = a.g_neg_std_us;
      j["g_high_fraction"] = a.g_high_fraction;
    }
    out.push_back(j);
  }
  return out;
}

nlohmann::json weight_layers_json(const network_run_config& cfg,
                                  const std::vector<weight_layer_stats>& stats) {
  nlohmann::json layers = nlohmann::json::array();
  for (const weight_layer_stats& s : stats) {
    nlohmann::json l{
        {"name", s.name}, {"rows", s.rows}, {"cols", s.cols}, {"weight_std", s.weight_std}};
    if (!cfg.uniform()) l["numerics"] = numerics_name(cfg.numerics_of(s.name));
    if (cfg.numerics_of(s.name) == numerics_kind::mca) {
      l["g_per_weight_us"] = s.g_per_weight_us;
      l["epsilon"] = s.epsilon;
      l["adc_forward_range"] = s.adc_forward_range;
      l["adc_backward_range"] = s.adc_backward_range;
    }
    layers.push_back(l);
  }
  return layers;
}

network_spec perceptron_network(const mlp_config& m) {
  using nlohmann::json;
  const bool sigmoid = m.hidden_activation == activation_kind::sigmoid;
  const char* act = sigmoid ? "sigmoid" : "relu";
  json layers = json::array({{{"kind", "dense"}, {"name", "hidden"}, {"units", m.hidden}},
                             {{"kind", act}, {"name", std::string("hidden_") + act}},
                             {{"kind", "dense"}, {"name", "output"}, {"units", m.outputs}}});
  if (m.loss == loss_kind::mse) {
    layers.push_back({{"kind", "sigmoid"}, {"name", "output_sigmoid"}});
    layers.push_back({{"kind", "mse"}, {"name", "loss"}});
  } else {
    layers.push_back({{"kind", "l2svm"}, {"name", "loss"}});
  }
  std::string name = "perceptron";
  if (m.inputs == 784 && m.hidden == 250 && m.outputs == 10) {
    if (sigmoid && m.loss == loss_kind::mse) name = "mlp-paper";
    if (!sigmoid && m.loss == loss_kind::l2svm) name = "mlp-table1";
  }
  return parse_network(json{{"name", name}, {"input", {m.inputs}}, {"layers", layers}},
                       "experiment");
}

network_run_config engine_config(const experiment_config& e) {
  network_run_config c;
  c.batch = 1;
  c.learning_rate = e.mlp.learning_rate;
  c.image_period_s = e.image_period_s;
  c.threads = 1;
  layer_numerics ln;
  switch (e.machine) {
    case machine_kind::fp64:
      c.numerics = numerics_kind::fp32;
      ln.weight_std = e.fp_init_std;
      break;
    case machine_kind::mca: {
      c.numerics = numerics_kind::mca;
      const mca_config& m = e.mca;
      mca_numerics& n = c.mca;
      n.pcm = m.pcm;
      n.crossbar = m.crossbar;
      n.max_pulses = m.chi.max_pulses;
      n.refresh = m.refresh;
      n.refresh_every_images = m.refresh_every_images;
      n.refresh_spread = m.refresh_spread;
      n.drift_sync_images = m.drift_sync_images;
      n.map_lo_us = m.map_lo_us;
      n.map_hi_us = m.map_hi_us;
      n.weight_range_schedule = m.weight_range_schedule;
      n.shared_reference = m.shared_reference;
      n.pwm_forward = m.pwm_forward;
      n.adc_forward = m.adc_forward;
      n.pwm_backward = m.pwm_backward;
      n.adc_backward = m.adc_backward;
      n.update_x = m.update_x;
      n.update_d = m.update_d;
      // The ADC full scales are the experiment's, in units of the input scale.
      ln.adc_forward_range = m.adc_forward.range;
      ln.adc_backward_range = m.adc_backward.range;
      if (m.crossbar.synapse == synapse_kind::differential) {
        // Epsilons in weight units x the fixed scale of the pairs.
        const double g = m.crossbar.g_per_weight_us;
        ln.g_per_weight_us = g;
        ln.weight_std = std::sqrt(2.0) * m.crossbar.init_std_us / g;
        n.eps_us = m.chi.eps_p * g;
        n.eps_depress_us = m.chi.eps_d * g;
      } else {
        ln.weight_std = e.fp_init_std;
        n.eps_us = m.eps_p_us;
        n.eps_depress_us = m.eps_d_us;
      }
      break;
    }
    case machine_kind::digital:
      // The 32-bit design computes in fp32; the mixed-precision one in
      // digital-mp with the Table I design's converters.
      ln.weight_std = e.fp_init_std;
      if (e.digital.kind == digital_kind::fixed32) {
        c.numerics = numerics_kind::fp32;
      } else {
        c.numerics = numerics_kind::digital_mp;
        c.digital_mp.weights = e.digital.weights;
        c.digital_mp.activations = e.digital.activations;
        c.digital_mp.errors = e.digital.errors;
        c.digital_mp.update_x = e.digital.update_x;
        c.digital_mp.update_d = e.digital.update_d;
      }
      break;
  }
  c.layers["hidden"] = ln;
  c.layers["output"] = ln;
  c.validate();
  return c;
}

void check_input(const network_spec& net, const network_run_config& cfg, const dataset& ds,
                 const std::string& data_name) {
  const std::size_t steps = net.steps(cfg.bptt);
  if (ds.targets != steps) {
    throw std::invalid_argument(
        net.recurrent()
            ? "network '" + net.name + "' is recurrent and trains on sequences of training.bptt " +
                  std::to_string(steps) + " steps, but " + data_name + " has " +
                  (ds.targets == 1 ? "single samples"
                                   : "sequences of " + std::to_string(ds.targets) + " steps")
            : "network '" + net.name + "' has no lstm layer but " + data_name +
                  " has sequences of " + std::to_string(ds.targets) +
                  " steps; a language model needs a recurrent network (e.g. lstm-ptb)");
  }
  const tensor_shape& in = net.input;
  const std::string got =
      ds.targets > 1 ? "[" + std::to_string(ds.pixels / ds.targets) + "] per step"
                     : "[" + std::to_string(ds.channels) + ", " + std::to_string(ds.height) + ", " +
                           std::to_string(ds.width) + "]";
  const bool ok = in.flat ? ds.pixels == in.c * ds.targets
                          : ds.channels == in.c && ds.height == in.h && ds.width == in.w;
  if (!ok) {
    throw std::invalid_argument("network '" + net.name + "' takes input " + in.str() + " but " +
                                data_name + " has samples of " + got + " (" +
                                std::to_string(ds.pixels) + " values)");
  }
}

namespace {

nlohmann::json run_network(const network_spec& net, const network_run_config& cfg,
                           const dataset& train, const dataset* valid, const dataset& test,
                           bool bits_per_symbol, const train_options& opt) {
  cfg.validate();
  const std::pair<const dataset*, const char*> sets[] = {
      {&train, "the training set"}, {valid, "the validation set"}, {&test, "the test set"}};
  for (const auto& [ds, what] : sets) {
    if (ds == nullptr || (ds != &train && ds->size() == 0)) continue;
    check_input(net, cfg, *ds, what);
    for (std::size_t i = 0; i < ds->labels.size(); ++i) {
      if (ds->labels[i] >= net.classes()) {
        throw std::invalid_argument("label " + std::to_string(ds->labels[i]) + " of sample " +
                                    std::to_string(i / ds->targets) + " of " + what +
                                    " is not below the " + std::to_string(net.classes()) +
                                    " outputs of network '" + net.name + "'");
      }
    }
  }
  model_adapter machine(net, cfg, opt.seed);
  loop_setup setup;
  setup.label = net.name + "/" + numerics_name(cfg.numerics);
  // The tiles' size is the hardware's (platform.tiles), not a training key;
  // recorded when the layers are split over fixed-size tiles.
  const nlohmann::json tiles{{"rows", cfg.mca.tile_rows}, {"cols", cfg.mca.tile_cols}};
  setup.run = {{"network", to_json(net)}, {"training", cfg}};
  if (cfg.mca.tile_rows > 0) setup.run["tiles"] = tiles;
  setup.must_match = {"network", "training", "tiles"};
  const nlohmann::json layers = weight_layers_json(cfg, machine.get().stats());
  setup.doc = {{"network", to_json(net)}, {"numerics", numerics_name(cfg.numerics)},
               {"training", cfg},         {"tiles", tiles},
               {"threads", cfg.threads},  {"parameters", net.parameters()},
               {"weight_layers", layers}};
  setup.batch = cfg.batch;
  setup.learning_rate = cfg.learning_rate;
  setup.schedule = cfg.schedule;
  setup.augment = cfg.augment;
  setup.image_period_s = cfg.image_period_s;
  setup.valid = valid != nullptr && valid->size() > 0 ? valid : nullptr;
  setup.bits_per_symbol = bits_per_symbol;
  nlohmann::json doc = train_loop(machine, setup, train, test, opt);
  if (doc.value("status", std::string()) == "complete") {
    // The trained network, e.g. a classifier whose features a GAN's
    // Frechet distance compares.
    const nlohmann::json& last = doc["epochs"].back();
    write_trained_network(opt.out_dir + "/network.bin", machine.get(),
                          {{"numerics", numerics_name(cfg.numerics)},
                           {"seed", opt.seed},
                           {"epochs", last["epoch"]},
                           {"source", opt.source},
                           {"test_accuracy", last["test_accuracy"]},
                           {"max_test_accuracy", doc["max_test_accuracy"]}});
  }
  return doc;
}

}  // namespace

nlohmann::json run_network_training(const network_spec& net, const network_run_config& cfg,
                                    const dataset& train, const dataset& test,
                                    const train_options& opt) {
  return run_network(net, cfg, train, nullptr, test, false, opt);
}

nlohmann::json run_network_training(const network_spec& net, const network_run_config& cfg,
                                    const split_dataset& data, const train_options& opt) {
  return run_network(net, cfg, data.train, &data.valid, data.test, data.symbols, opt);
}

nlohmann::json run_training(const experiment_config& cfg, const dataset& train, const dataset& test,
                            const train_options& opt) {
  if (opt.epochs < 1) throw std::invalid_argument("--epochs must be >= 1");
  if (train.size() == 0) throw std::invalid_argument("the training set is empty");
  if (train.pixels != cfg.mlp.inputs) {
    throw std::invalid_argument("the data set has " + std::to_string(train.pixels) +
                                " pixels per image but the network has " +
                                std::to_string(cfg.mlp.inputs) + " inputs");
  }
  cfg.validate();
  loop_setup setup;
  setup.label = cfg.name;
  setup.run = {{"experiment", cfg}};
  setup.must_match = {"experiment"};
  setup.doc = {{"experiment", cfg.name}, {"config", cfg}};
  setup.batch = 1;
  setup.learning_rate = cfg.mlp.learning_rate;
  setup.image_period_s = cfg.image_period_s;
  const network_spec net = perceptron_network(cfg.mlp);
  const network_run_config rc = engine_config(cfg);
  model_adapter machine(net, rc, opt.seed);
  setup.doc["network"] = to_json(net);
  setup.doc["numerics"] = numerics_name(rc.numerics);
  setup.doc["training"] = rc;
  setup.doc["threads"] = rc.threads;
  return train_loop(machine, setup, train, test, opt);
}

}  // namespace mcasim
