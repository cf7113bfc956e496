// workloads/network_train.h: training runs of any network through the one
// loop: per-epoch metrics, stops and resumes that give the uninterrupted
// result in every numerics (mini-batches, momentum, augmentation, dropout),
// a diverging loss stopped with the epoch and batch named, and data that
// does not fit the network refused.
#include "workloads/network_train.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "models/rng.h"
#include "test_util.h"
#include "workloads/text_corpus.h"

namespace mcasim {
namespace {

network_spec small_cnn() {
  return parse_network(nlohmann::json::parse(R"({"name": "small", "input": [1, 28, 28],
    "layers": [{"kind": "conv2d", "name": "c1", "filters": 4, "kernel": 3}, {"kind": "relu"},
               {"kind": "maxpool", "size": 4}, {"kind": "dropout", "rate": 0.2},
               {"kind": "flatten"}, {"kind": "dense", "name": "fc", "units": 10},
               {"kind": "cross_entropy"}]})"),
                       "test");
}

network_run_config run_config_for(numerics_kind k) {
  network_run_config c;
  c.numerics = k;
  c.batch = 8;
  c.learning_rate = 0.05;
  c.momentum = 0.5;
  c.weight_decay = 1e-4;
  c.schedule = {0.5, 1};
  c.augment = {false, true, 0.1, 0.2};
  c.conv_update = "sum";
  c.threads = 1;
  return c;
}

nlohmann::json without_wall(nlohmann::json doc) {
  for (const char* k : {"train_wall_s", "train_images_per_wall_s"}) doc.erase(k);
  for (auto& e : doc["epochs"]) {
    for (const char* k : {"train_wall_s", "train_images_per_wall_s"}) e.erase(k);
  }
  return doc;
}

class NetworkTraining : public ::testing::TestWithParam<numerics_kind> {
 protected:
  dataset train_ = test::make_synthetic_dataset(160, 1);
  dataset test_ = test::make_synthetic_dataset(40, 2);
  test::temp_dir dir_;

  train_options options(const std::string& sub) const {
    train_options o;
    o.epochs = 2;
    o.seed = 3;
    o.out_dir = dir_.file(sub);
    o.eval_batch = 16;
    o.eval_train = true;
    o.traced_synapses = 0;
    return o;
  }
};

TEST_P(NetworkTraining, MetricsPerEpochAndResumeGiveTheUninterruptedResult) {
  const network_spec net = small_cnn();
  const network_run_config cfg = run_config_for(GetParam());
  const nlohmann::json whole = run_network_training(net, cfg, train_, test_, options("whole"));
  ASSERT_EQ(whole["status"], "complete");
  ASSERT_EQ(whole["epochs"].size(), 2u);
  for (const auto& e : whole["epochs"]) {
    for (const char* key : {"epoch", "train_accuracy", "test_accuracy", "test_loss", "train_loss",
                            "online_train_loss", "learning_rate", "weight_updates",
                            "refreshed_cells", "train_wall_s"}) {
      EXPECT_TRUE(e.contains(key)) << key;
    }
    ASSERT_EQ(e["layers"].size(), 2u);
    EXPECT_EQ(e["layers"][0]["name"], "c1");
    EXPECT_EQ(e["layers"][1]["name"], "fc");
    EXPECT_GT(e["test_loss"].get<double>(), 0.0);
    // The activity probe: every layer but the loss, weight statistics on
    // the two weight layers only.
    ASSERT_EQ(e["activity"].size(), net.layers.size() - 1);
    EXPECT_EQ(e["activity"][0]["name"], "c1");
    EXPECT_TRUE(e["activity"][0].contains("weight_std"));
    EXPECT_FALSE(e["activity"][1].contains("weight_std"));
    EXPECT_EQ(e["activity"][5]["name"], "fc");
    const double zeros = e["activity"][1]["zero_fraction"].get<double>();
    EXPECT_GT(zeros, 0.0);  // a ReLU of a zero-mean convolution
    EXPECT_LT(zeros, 1.0);
  }
  // The schedule halves the rate every epoch.
  EXPECT_DOUBLE_EQ(whole["epochs"][1]["learning_rate"].get<double>(), 0.025);
  EXPECT_EQ(whole["numerics"], numerics_name(GetParam()));
  EXPECT_EQ(whole["parameters"], net.parameters());
  EXPECT_TRUE(std::filesystem::exists(dir_.file("whole/checkpoint.bin")));
  // Stopped before batch 7 of epoch 1, then at the first check of epoch 2
  // (20 batches + the end-of-epoch check later), resumed each time.
  const std::string dir = dir_.file("pieces");
  train_options opt = options("pieces");
  nlohmann::json doc;
  for (int after : {7, 16}) {
    int calls = 0;
    opt.stop = [&calls, after] { return ++calls >= after; };
    doc = run_network_training(net, cfg, train_, test_, opt);
    EXPECT_EQ(doc["status"], "interrupted") << after;
    opt = resume_options(read_checkpoint_run(dir), dir);
    opt.eval_batch = 16;
  }
  doc = run_network_training(net, cfg, train_, test_, opt);
  EXPECT_EQ(doc["status"], "complete");
  EXPECT_EQ(without_wall(doc), without_wall(whole));
  // The checkpoint of another configuration is refused, naming the entry.
  network_run_config other = cfg;
  other.learning_rate *= 2;
  try {
    run_network_training(net, other, train_, test_, opt);
    FAIL() << "a checkpoint of another configuration was accepted";
  } catch (const state_error& e) {
    EXPECT_NE(std::string(e.what()).find("'training' of the checkpoint"), std::string::npos)
        << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Numerics, NetworkTraining,
                         ::testing::Values(numerics_kind::fp32, numerics_kind::digital_mp,
                                           numerics_kind::mca),
                         [](const auto& info) {
                           std::string n = numerics_name(info.param);
                           return n == "digital-mp" ? std::string("digital_mp") : n;
                         });

// A layer's own numerics (training.layers.NAME.numerics) overrides the
// run's: every layer set to fp32 under an mca run trains exactly as fp32;
// one layer on PCM and one digital differs from both.
TEST(NetworkTrainingMixed, LayersComputeInTheirOwnNumerics) {
  const dataset train = test::make_synthetic_dataset(64, 1),
                test = test::make_synthetic_dataset(32, 2);
  test::temp_dir dir;
  const network_spec net = small_cnn();
  auto run = [&](const network_run_config& cfg, const std::string& sub) {
    train_options o;
    o.epochs = 1;
    o.seed = 3;
    o.out_dir = dir.file(sub);
    o.eval_batch = 16;
    o.traced_synapses = 0;
    return run_network_training(net, cfg, train, test, o);
  };
  const nlohmann::json fp32 = run(run_config_for(numerics_kind::fp32), "fp32");
  const nlohmann::json mca = run(run_config_for(numerics_kind::mca), "mca");
  network_run_config cfg = run_config_for(numerics_kind::mca);
  cfg.layers["c1"].numerics = "fp32";
  cfg.layers["fc"].numerics = "fp32";
  EXPECT_EQ(without_wall(run(cfg, "all-fp32"))["epochs"], without_wall(fp32)["epochs"]);
  cfg.layers["fc"].numerics = "";  // the run's: mca
  const nlohmann::json mixed = run(cfg, "mixed");
  ASSERT_EQ(mixed["status"], "complete");
  const auto& wl = mixed["weight_layers"];
  EXPECT_EQ(wl[0]["numerics"], "fp32");
  EXPECT_FALSE(wl[0].contains("g_per_weight_us"));
  EXPECT_EQ(wl[1]["numerics"], "mca");
  EXPECT_GT(wl[1]["g_per_weight_us"].get<double>(), 0.0);
  const auto& e = mixed["epochs"][0];
  EXPECT_FALSE(e["activity"][0].contains("g_pos_mean_us"));  // c1: no devices
  EXPECT_TRUE(e["activity"][5].contains("g_pos_mean_us"));   // fc: on PCM
  for (const nlohmann::json* other : {&fp32, &mca}) {
    EXPECT_NE(e["test_loss"], (*other)["epochs"][0]["test_loss"]);
  }
  // A name that is not a numerics is refused before any work, naming the key.
  cfg.layers["fc"].numerics = "analog";
  try {
    run(cfg, "bad");
    FAIL() << "an unknown numerics was accepted";
  } catch (const std::invalid_argument& err) {
    EXPECT_NE(std::string(err.what()).find("layers.fc.numerics"), std::string::npos) << err.what();
    EXPECT_NE(std::string(err.what()).find("fp32, mca or digital-mp"), std::string::npos)
        << err.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("bad/metrics.json")));
}

TEST(NetworkTrainingErrors, DivergingLossStopsNamingEpochAndBatch) {
  test::temp_dir dir;
  const dataset train = test::make_synthetic_dataset(64, 1),
                test_set = test::make_synthetic_dataset(8, 2);
  network_run_config cfg = run_config_for(numerics_kind::fp32);
  cfg.learning_rate = 1e30;
  cfg.augment = {};
  train_options opt;
  opt.epochs = 1;
  opt.out_dir = dir.file("nan");
  try {
    run_network_training(small_cnn(), cfg, train, test_set, opt);
    FAIL() << "a diverging run completed";
  } catch (const training_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("at epoch 1, batch "), std::string::npos) << msg;
    EXPECT_NE(msg.find("lower the learning rate"), std::string::npos) << msg;
  }
  const auto doc = nlohmann::json::parse(test::read_text(dir.file("nan/metrics.json")));
  EXPECT_EQ(doc["status"], "diverged");
}

TEST(NetworkTrainingErrors, DropoutScaleThatReachesOneIsRefused) {
  test::temp_dir dir;
  const dataset train = test::make_synthetic_dataset(16, 1);
  network_run_config cfg = run_config_for(numerics_kind::fp32);
  cfg.dropout_scale = 5.0;  // 0.2 x 5 = 1
  train_options opt;
  opt.out_dir = dir.file("x");
  try {
    run_network_training(small_cnn(), cfg, train, train, opt);
    FAIL() << "a dropout rate of 1 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("makes the rate of layer 3 'dropout1' 1.0"),
              std::string::npos)
        << e.what();
  }
}

TEST(NetworkTrainingErrors, DataThatDoesNotFitTheNetworkIsRefused) {
  test::temp_dir dir;
  const dataset train = test::make_synthetic_dataset(16, 1);
  train_options opt;
  opt.out_dir = dir.file("x");
  try {
    run_network_training(load_network("cnn-cifar10"), network_run_config{}, train, train, opt);
    FAIL() << "MNIST samples accepted by the CIFAR-10 network";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("takes input [3, 32, 32] but the training set has "
                                         "samples of [1, 28, 28] (784 values)"),
              std::string::npos)
        << e.what();
  }
  // A flat network takes any sample with as many values; labels must fit.
  const network_spec flat = parse_network(nlohmann::json::parse(R"({"name": "f", "input": [784],
      "layers": [{"kind": "dense", "units": 3}, {"kind": "cross_entropy"}]})"),
                                          "test");
  try {
    run_network_training(flat, network_run_config{}, train, train, opt);
    FAIL() << "labels above the outputs accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("is not below the 3 outputs"), std::string::npos)
        << e.what();
  }
}

// A character language model: sequences of symbols with a label per step,
// a validation split, losses in bits per symbol; stopped inside an epoch
// and resumed, the uninterrupted result.
TEST(NetworkTrainingText, LstmOnSequencesReportsBitsPerSymbolAndResumes) {
  test::temp_dir dir;
  rng r(2, 3);
  auto text = [&r](std::size_t n) {
    char_text t;
    t.name = "text";
    for (std::size_t k = 0; k < n; ++k) {
      t.symbols.push_back(static_cast<uint8_t>(r.below(4)));
    }
    return t;
  };
  split_dataset data;
  data.train = char_sequences(text(8 * 24 + 1), 8);
  data.valid = char_sequences(text(8 * 6 + 1), 8);
  data.test = char_sequences(text(8 * 6 + 1), 8);
  data.symbols = true;
  const network_spec net = parse_network(nlohmann::json::parse(R"({"name": "lm", "input": [1],
      "layers": [{"kind": "one_hot", "size": 4}, {"kind": "lstm", "name": "l1", "units": 8},
                 {"kind": "dropout", "rate": 0.1}, {"kind": "dense", "name": "out", "units": 4},
                 {"kind": "cross_entropy"}]})"),
                                         "test");
  network_run_config cfg = run_config_for(numerics_kind::mca);
  cfg.augment = {};
  cfg.bptt = 8;
  cfg.batch = 4;
  cfg.learning_rate = 0.5;
  cfg.clip_norm = 5.0;
  train_options opt;
  opt.epochs = 2;
  opt.out_dir = dir.file("whole");
  opt.eval_batch = 5;
  opt.traced_synapses = 0;
  const nlohmann::json whole = run_network_training(net, cfg, data, opt);
  ASSERT_EQ(whole["status"], "complete");
  for (const auto& e : whole["epochs"]) {
    for (const char* key : {"train_bpc", "valid_bpc", "test_bpc", "online_train_bpc"}) {
      EXPECT_TRUE(e.contains(key)) << key;
    }
    EXPECT_DOUBLE_EQ(e["valid_bpc"].get<double>(), e["valid_loss"].get<double>() / std::log(2.0));
    EXPECT_GT(e["valid_bpc"].get<double>(), 0.0);
  }
  EXPECT_DOUBLE_EQ(whole["min_valid_bpc"].get<double>(),
                   std::min(whole["epochs"][0]["valid_bpc"].get<double>(),
                            whole["epochs"][1]["valid_bpc"].get<double>()));
  EXPECT_EQ(whole["epochs"][1]["layers"][0]["name"], "l1");
  opt.out_dir = dir.file("pieces");
  int calls = 0;
  opt.stop = [&calls] { return ++calls >= 4; };
  EXPECT_EQ(run_network_training(net, cfg, data, opt)["status"], "interrupted");
  opt = resume_options(read_checkpoint_run(dir.file("pieces")), dir.file("pieces"));
  opt.eval_batch = 5;
  const nlohmann::json resumed = run_network_training(net, cfg, data, opt);
  EXPECT_EQ(without_wall(resumed), without_wall(whole));
  // Sequences of another length than training.bptt, single samples for a
  // recurrent network, and sequences for a feed-forward one are refused.
  cfg.bptt = 4;
  opt.out_dir = dir.file("x");
  opt.resume = false;
  auto refused = [&](const network_spec& n, const network_run_config& c, const split_dataset& d,
                     const std::string& want) {
    try {
      run_network_training(n, c, d, opt);
      ADD_FAILURE() << "accepted: " << want;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
    }
  };
  refused(net, cfg, data,
          "trains on sequences of training.bptt 4 steps, but the training set "
          "has sequences of 8 steps");
  split_dataset images;
  images.train = test::make_synthetic_dataset(8, 1);
  refused(net, cfg, images, "but the training set has single samples");
  refused(small_cnn(), cfg, data, "has no lstm layer but the training set has sequences of 8");
}

// Under mca the last weight layer's synapses are traced (Fig. 3b) and the
// trained network is evaluated after drift, as the perceptron experiments
// are; fp32 has no devices to trace.
TEST(NetworkTrainingMca, TracesTheLastWeightLayerAndInfersAfterDrift) {
  test::temp_dir dir;
  const dataset train = test::make_synthetic_dataset(64, 1),
                test = test::make_synthetic_dataset(32, 2);
  const network_spec net = parse_network(nlohmann::json::parse(R"({"name": "m", "input": [784],
      "layers": [{"kind": "dense", "name": "h", "units": 12}, {"kind": "sigmoid"},
                 {"kind": "dense", "name": "o", "units": 10}, {"kind": "mse"}]})"),
                                         "test");
  network_run_config cfg;
  cfg.numerics = numerics_kind::mca;
  cfg.learning_rate = 0.4;
  cfg.threads = 1;
  train_options opt;
  opt.epochs = 1;
  opt.out_dir = dir.file("mca");
  opt.traced_synapses = 3;
  opt.trace_every_images = 16;
  opt.drift_times_s = {3600.0, 2592000.0};
  const nlohmann::json doc = run_network_training(net, cfg, train, test, opt);
  ASSERT_EQ(doc["traced_synapses"].size(), 3u);
  for (const auto& t : doc["traced_synapses"]) {
    EXPECT_EQ(t["layer"], 2);
    EXPECT_LT(t["row"].get<int>(), 13);
    EXPECT_LT(t["col"].get<int>(), 10);
  }
  EXPECT_TRUE(std::filesystem::exists(dir.file("mca") + "/synapses.csv"));
  ASSERT_EQ(doc["drift_inference"].size(), 2u);
  EXPECT_EQ(doc["drift_inference"][1]["label"], "1 month");
  cfg.numerics = numerics_kind::fp32;
  opt.out_dir = dir.file("fp32");
  const nlohmann::json fp = run_network_training(net, cfg, train, test, opt);
  EXPECT_FALSE(fp.contains("traced_synapses"));
  EXPECT_FALSE(fp.contains("drift_inference"));
}

}  // namespace
}  // namespace mcasim
