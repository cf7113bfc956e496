// workloads/experiment.h and config_json.h: the named experiments, their
// validation and the JSON form of the configuration.
#include "workloads/experiment.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "workloads/config_json.h"

namespace mcasim {
namespace {

TEST(Experiment, KnownNames) {
  EXPECT_EQ(experiment_names(),
            (std::vector<std::string>{"fp64", "mca", "mca-nondiff", "table1-digital32",
                                      "table1-digital-mp", "table1-mca"}));
  for (const auto& name : experiment_names()) {
    const experiment_config e = make_experiment(name);
    EXPECT_EQ(e.name, name);
    EXPECT_NO_THROW(e.validate()) << name;
  }
}

TEST(Experiment, PaperSettings) {
  const experiment_config fp = make_experiment("fp64");
  EXPECT_EQ(fp.machine, machine_kind::fp64);
  EXPECT_EQ(fp.mlp.inputs, 784u);
  EXPECT_EQ(fp.mlp.hidden, 250u);
  EXPECT_EQ(fp.mlp.outputs, 10u);
  EXPECT_DOUBLE_EQ(fp.mlp.learning_rate, 0.4);

  const experiment_config mca = make_experiment("mca");
  EXPECT_EQ(mca.machine, machine_kind::mca);
  EXPECT_EQ(mca.mca.crossbar.synapse, synapse_kind::differential);
  EXPECT_DOUBLE_EQ(mca.mca.crossbar.init_mean_us, 1.6);
  EXPECT_DOUBLE_EQ(mca.mca.crossbar.init_std_us, 0.83);
  EXPECT_DOUBLE_EQ(mca.mca.chi.eps_p, 0.096);
  EXPECT_DOUBLE_EQ(mca.mca.chi.eps_d, 0.096);
  EXPECT_EQ(mca.mca.refresh_every_images, 100);

  const experiment_config nd = make_experiment("mca-nondiff");
  EXPECT_EQ(nd.mca.crossbar.synapse, synapse_kind::single_ref);
  EXPECT_DOUBLE_EQ(nd.mca.crossbar.init_mean_us, 4.5);
  EXPECT_DOUBLE_EQ(nd.mca.crossbar.init_std_us, 1.25);
  EXPECT_EQ(nd.mca.refresh_every_images, 0);
  EXPECT_DOUBLE_EQ(nd.mca.eps_p_us, 0.77);
  EXPECT_DOUBLE_EQ(nd.mca.eps_d_us, 8.0);
}

TEST(Experiment, UnknownNameListsTheKnownOnes) {
  try {
    make_experiment("mca-typo");
    FAIL() << "unknown experiment accepted";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("mca-typo"), std::string::npos) << msg;
    for (const auto& name : experiment_names()) {
      EXPECT_NE(msg.find(name), std::string::npos) << msg;
    }
  }
}

TEST(Experiment, ValidationRejectsBadValues) {
  experiment_config e = make_experiment("mca");
  e.mlp.learning_rate = 0.0;
  EXPECT_THROW(e.validate(), std::invalid_argument);
  e = make_experiment("mca");
  e.mlp.outputs = 1;
  EXPECT_THROW(e.validate(), std::invalid_argument);
  e = make_experiment("mca");
  e.mca.drift_sync_images = 0;
  EXPECT_THROW(e.validate(), std::invalid_argument);
  e = make_experiment("mca");
  e.mca.map_hi_us = e.mca.map_lo_us;
  EXPECT_THROW(e.validate(), std::invalid_argument);
  e = make_experiment("mca");
  e.mca.weight_range_schedule = {0.7, -1.0};
  EXPECT_THROW(e.validate(), std::invalid_argument);
  e = make_experiment("mca");
  e.mca.adc_forward.ideal = false;
  e.mca.adc_forward.bits = 0;
  try {
    e.validate();
    FAIL() << "adc bits = 0 accepted";
  } catch (const std::invalid_argument& err) {
    EXPECT_NE(std::string(err.what()).find("mca.adc_forward"), std::string::npos) << err.what();
  }
  e = make_experiment("mca");
  e.mca.pcm.nu = -1.0;
  EXPECT_THROW(e.validate(), std::invalid_argument);
  // fp64 does not use the PCM settings at all.
  e = make_experiment("fp64");
  e.mca.pcm.nu = -1.0;
  EXPECT_NO_THROW(e.validate());
}

TEST(ConfigJson, RoundTripKeepsEveryField) {
  experiment_config e = make_experiment("mca-nondiff");
  e.mca.pcm.nu_std = 0.01;
  e.mca.chi.max_pulses = 4;
  e.mca.adc_forward.bits = 6;
  e.mlp.hidden_activation = activation_kind::relu;
  e.mlp.loss = loss_kind::l2svm;
  const nlohmann::json j = e;
  EXPECT_EQ(j["mca"]["crossbar"]["synapse"], "single_ref");
  EXPECT_EQ(j["mlp"]["loss"], "l2svm");
  const experiment_config back = j.get<experiment_config>();
  EXPECT_EQ(nlohmann::json(back), j);
  EXPECT_EQ(back.mca.crossbar.synapse, synapse_kind::single_ref);
  EXPECT_EQ(back.mca.chi.max_pulses, 4);
  EXPECT_DOUBLE_EQ(back.mca.pcm.nu_std, 0.01);
  // Missing fields keep their defaults.
  const auto partial = nlohmann::json{{"name", "x"}}.get<experiment_config>();
  EXPECT_EQ(partial.mlp.hidden, 250u);
  EXPECT_DOUBLE_EQ(partial.mca.pcm.nu, 0.04);
}

}  // namespace
}  // namespace mcasim
