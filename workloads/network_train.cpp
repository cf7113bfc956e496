#include "workloads/network_train.h"

#include <stdexcept>
#include <string>

#include "workloads/config_json.h"
#include "workloads/model.h"

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
    for (const weight_layer_stats& s : m_.stats()) {
      layer_counters c;
      c.weight_updates = s.weight_updates;
      c.set_pulses = s.set_pulses;
      c.reset_pulses = s.reset_pulses;
      c.nonzero_chi_updates = s.nonzero_chi_updates;
      c.refreshed_cells = s.refreshed_cells;
      out.push_back(c);
    }
    return out;
  }
  nlohmann::json activity(const float* x, std::size_t n) override {
    nlohmann::json out = nlohmann::json::array();
    for (const layer_activity& a : m_.activity(x, n)) {
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
      out.push_back(j);
    }
    return out;
  }
  std::vector<std::string> layer_names() const override {
    std::vector<std::string> names;
    for (const weight_layer_stats& s : m_.stats()) names.push_back(s.name);
    return names;
  }
  // The last weight layer's array (the perceptron's output layer, Fig. 3b).
  crossbar* traced_array() override {
    return m_.array(m_.spec().weight_layers().size() - 1);
  }
  void save(state_writer& w) const override { m_.save(w); }
  void load(state_reader& r) override { m_.load(r); }
  const model& get() const { return m_; }

 private:
  model m_;
};

}  // namespace

void check_input(const network_spec& net, const dataset& ds, const std::string& data_name) {
  const tensor_shape& in = net.input;
  const std::string got = "[" + std::to_string(ds.channels) + ", " + std::to_string(ds.height) +
                          ", " + std::to_string(ds.width) + "]";
  const bool ok =
      in.flat ? ds.pixels == in.c : ds.channels == in.c && ds.height == in.h && ds.width == in.w;
  if (!ok) {
    throw std::invalid_argument("network '" + net.name + "' takes input " + in.str() + " but " +
                                data_name + " has samples of " + got + " (" +
                                std::to_string(ds.pixels) + " values)");
  }
}

nlohmann::json run_network_training(const network_spec& net, const network_run_config& cfg,
                                    const dataset& train, const dataset& test,
                                    const train_options& opt) {
  cfg.validate();
  check_input(net, train, "the training set");
  if (test.size() > 0) check_input(net, test, "the test set");
  for (const dataset* ds : {&train, &test}) {
    for (std::size_t i = 0; i < ds->size(); ++i) {
      if (ds->labels[i] >= net.classes()) {
        throw std::invalid_argument("label " + std::to_string(ds->labels[i]) + " of sample " +
                                    std::to_string(i) + " is not below the " +
                                    std::to_string(net.classes()) + " outputs of network '" +
                                    net.name + "'");
      }
    }
  }
  model_adapter machine(net, cfg, opt.seed);
  loop_setup setup;
  setup.label = net.name + "/" + numerics_name(cfg.numerics);
  setup.run = {{"network", to_json(net)}, {"training", cfg}};
  setup.must_match = {"network", "training"};
  nlohmann::json layers = nlohmann::json::array();
  for (const weight_layer_stats& s : machine.get().stats()) {
    nlohmann::json l{
        {"name", s.name}, {"rows", s.rows}, {"cols", s.cols}, {"weight_std", s.weight_std}};
    if (cfg.numerics == numerics_kind::mca) {
      l["g_per_weight_us"] = s.g_per_weight_us;
      l["epsilon"] = s.epsilon;
      l["adc_forward_range"] = s.adc_forward_range;
      l["adc_backward_range"] = s.adc_backward_range;
    }
    layers.push_back(l);
  }
  setup.doc = {{"network", to_json(net)},
               {"numerics", numerics_name(cfg.numerics)},
               {"training", cfg},
               {"threads", cfg.threads},
               {"parameters", net.parameters()},
               {"weight_layers", layers}};
  setup.batch = cfg.batch;
  setup.learning_rate = cfg.learning_rate;
  setup.schedule = cfg.schedule;
  setup.augment = cfg.augment;
  setup.image_period_s = cfg.image_period_s;
  return train_loop(machine, setup, train, test, opt);
}

}  // namespace mcasim
