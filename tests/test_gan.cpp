// GANs and what they need: the sigmoid_cross_entropy loss, the engine's
// input gradient and external-loss step, the Frechet distance, PNG grids,
// trained-network files and their features, and GAN training through the
// one loop (metrics per epoch, pictures, resume, determinism, errors).
#include <png.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "models/rng.h"
#include "models/state_io.h"
#include "test_util.h"
#include "util/png.h"
#include "workloads/frechet.h"
#include "workloads/gan.h"
#include "workloads/model.h"
#include "workloads/network_train.h"
#include "workloads/trained_network.h"

namespace mcasim {
namespace {

using nlohmann::json;

json small_gan_json() {
  return json::parse(R"({"name": "tiny-gan", "noise": 8,
    "generator": {"input": [8], "layers": [
      {"kind": "dense", "name": "g1", "units": 32}, {"kind": "relu"},
      {"kind": "dense", "name": "g2", "units": 784}, {"kind": "sigmoid"}]},
    "discriminator": {"input": [784], "layers": [
      {"kind": "dense", "name": "d1", "units": 32}, {"kind": "maxout", "pieces": 4},
      {"kind": "dropout", "rate": 0.2},
      {"kind": "dense", "name": "d2", "units": 1}, {"kind": "sigmoid_cross_entropy"}]}})");
}

network_run_config gan_config(numerics_kind k) {
  network_run_config c;
  c.numerics = k;
  c.batch = 10;
  c.learning_rate = 0.1;
  c.momentum = 0.5;
  c.threads = 1;
  return c;
}

// ---- descriptions -------------------------------------------------------------

TEST(GanSpec, BuiltInGanMnistHasThePapersShape) {
  const gan_spec g = load_gan("gan-mnist");
  EXPECT_EQ(g.noise, 100u);
  EXPECT_FALSE(g.generator.has_loss());
  EXPECT_EQ(g.generator.output().size(), 784u);
  EXPECT_EQ(g.discriminator.layers.back().kind, layer_kind::sigmoid_cross_entropy);
  // Generator 100-1200-1200-784, discriminator 784-1200(maxout 5)-1200(maxout 5)-1, biases.
  EXPECT_EQ(g.generator.parameters(), 101u * 1200 + 1201u * 1200 + 1201u * 784);
  EXPECT_EQ(g.discriminator.parameters(), 785u * 1200 + 241u * 1200 + 241u);
  EXPECT_EQ(parse_gan(to_json(g), "again").parameters(), g.parameters());
  EXPECT_TRUE(describes_gan(load_description("gan-mnist")));
}

void expect_network_error(const json& j, const std::string& part) {
  try {
    parse_gan(j, "g.json");
    FAIL() << "accepted: " << j.dump();
  } catch (const network_error& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("g.json"), std::string::npos) << e.what();
  }
}

TEST(GanSpec, BadDescriptionsAreRefusedNamingWhatIsWrong) {
  json j = small_gan_json();
  j.erase("noise");
  expect_network_error(j, "missing \"noise\"");
  j = small_gan_json();
  j["noise"] = 9;
  expect_network_error(j, "must be [noise] = [9]");
  j = small_gan_json();
  j["generator"]["layers"].push_back({{"kind", "mse"}, {"name", "gl"}});
  expect_network_error(j, "layer 4 'gl': a generator has no loss");
  j = small_gan_json();
  j["generator"]["layers"][2]["units"] = 100;
  expect_network_error(j, "does not fit the discriminator's input [784]");
  j = small_gan_json();
  j["discriminator"]["layers"][4]["kind"] = "mse";
  expect_network_error(j, "a loss needs at least 2 classes");
  j = small_gan_json();
  j["discriminator"]["layers"][3]["units"] = 2;
  expect_network_error(j, "sigmoid_cross_entropy needs one output");
  j = small_gan_json();
  j["critic"] = 1;
  expect_network_error(j, "unknown key 'critic'");
  // One network where a GAN is given, and the reverse.
  try {
    load_network("gan-mnist");
    FAIL();
  } catch (const network_error& e) {
    EXPECT_NE(std::string(e.what()).find("a GAN"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_gan("mlp-paper"), network_error);
}

// ---- the engine ---------------------------------------------------------------

TEST(GanEngine, SigmoidCrossEntropyIsTheLogisticLoss) {
  const network_spec d = parse_network(json::parse(R"({"input": [3], "layers": [
      {"kind": "dense", "name": "out", "units": 1}, {"kind": "sigmoid_cross_entropy"}]})"),
                                       "t");
  EXPECT_EQ(d.classes(), 2u);
  network_run_config cfg;
  cfg.threads = 1;
  model m(d, cfg, 1);
  m.set_weights(0, {0.5f, -1.0f, 2.0f, 0.25f});
  const std::vector<float> x{1.0f, 1.0f, 1.0f, 0.0f, 0.0f, -1.0f};
  const std::vector<uint8_t> y{1, 0};
  const batch_result r = m.evaluate(x.data(), y.data(), 2);
  const double z0 = 0.5 - 1.0 + 2.0 + 0.25, z1 = -2.0 + 0.25;
  const double want = std::log1p(std::exp(-z0)) + std::log1p(std::exp(z1));
  EXPECT_NEAR(r.loss_sum, want, 1e-5);
  EXPECT_EQ(r.correct, 2u);  // z0 > 0 (class 1), z1 < 0 (class 0)
  const std::vector<uint8_t> bad{2, 0};
  EXPECT_THROW(m.evaluate(x.data(), bad.data(), 2), std::invalid_argument);
}

TEST(GanEngine, InputGradientMatchesFiniteDifferences) {
  json j = small_gan_json()["discriminator"];
  j["layers"][2]["rate"] = 0.0;  // no dropout: a deterministic loss
  const network_spec d = parse_network(j, "t");
  network_run_config cfg;
  cfg.threads = 1;
  model m(d, cfg, 4);
  rng r(7, 1);
  std::vector<float> x(2 * 784);
  for (float& v : x) v = static_cast<float>(r.uniform());
  const std::vector<uint8_t> y{1, 0};
  std::vector<float> gx(x.size());
  const batch_result base = m.input_gradient(x.data(), y.data(), 2, gx.data());
  EXPECT_NEAR(base.loss_sum, m.evaluate(x.data(), y.data(), 2).loss_sum, 1e-6);
  // The gradient of the batch-mean loss, checked on a few inputs.
  for (std::size_t k : {3u, 400u, 784u + 10u, 784u + 600u}) {
    const float h = 1e-2f;
    std::vector<float> xp = x, xm = x;
    xp[k] += h;
    xm[k] -= h;
    const double fd = (m.evaluate(xp.data(), y.data(), 2).loss_sum -
                       m.evaluate(xm.data(), y.data(), 2).loss_sum) /
                      (2.0 * h) / 2.0;
    EXPECT_NEAR(gx[k], fd, 2e-3 * std::max(1.0, std::abs(fd))) << k;
  }
  // No update happened.
  EXPECT_EQ(m.samples_trained(), 0u);
}

TEST(GanEngine, StepWithAnOuterLossIsTheStepWithTheLossLayer) {
  const network_spec net = parse_network(json::parse(R"({"input": [5], "layers": [
      {"kind": "dense", "name": "h", "units": 4}, {"kind": "tanh"},
      {"kind": "dense", "name": "o", "units": 1}, {"kind": "sigmoid_cross_entropy"}]})"),
                                         "t");
  network_run_config cfg;
  cfg.threads = 1;
  cfg.momentum = 0.5;
  cfg.learning_rate = 0.3;
  model a(net, cfg, 2), b(net, cfg, 2);
  const std::vector<float> x{0.1f, 0.2f, -0.3f, 0.4f, 0.5f, 1.0f, -1.0f, 0.5f, 0.0f, 0.2f};
  const std::vector<uint8_t> y{1, 0};
  for (int step = 0; step < 3; ++step) {
    const batch_result ra = a.train_batch(x.data(), y.data(), 2, 0.3);
    const batch_result rb =
        b.train_batch(x.data(), 2, 0.3, 0.0, [&](const float* z, std::size_t rows, float* g) {
          batch_result r;
          for (std::size_t k = 0; k < rows; ++k) {
            const double p = 1.0 / (1.0 + std::exp(-static_cast<double>(z[k])));
            r.loss_sum -= std::log(y[k] == 1 ? p : 1.0 - p);
            g[k] = static_cast<float>((p - y[k]) / static_cast<double>(rows));
          }
          return r;
        });
    EXPECT_NEAR(ra.loss_sum, rb.loss_sum, 1e-5);
  }
  for (std::size_t k = 0; k < 2; ++k) {
    const std::vector<float> wa = a.weights(k), wb = b.weights(k);
    for (std::size_t i = 0; i < wa.size(); ++i) EXPECT_NEAR(wa[i], wb[i], 1e-6) << k << " " << i;
  }
  // A network without a loss layer takes no labels.
  const network_spec g = parse_gan(small_gan_json(), "t").generator;
  model mg(g, cfg, 1);
  const std::vector<float> z(8, 0.5f);
  const std::vector<uint8_t> one{0};
  EXPECT_THROW(mg.train_batch(z.data(), one.data(), 1, 0.1), std::invalid_argument);
  EXPECT_EQ(mg.outputs(z.data(), 1).size(), 784u);
}

// ---- Frechet distance -----------------------------------------------------------

TEST(Frechet, KnownDistances) {
  // Four points each, mean 0: covariances diag(8/3, 2/3) and diag(2/3, 2/3).
  const std::vector<float> a{2, 0, -2, 0, 0, 1, 0, -1};
  const std::vector<float> b{1, 0, -1, 0, 0, 1, 0, -1};
  const double want = std::pow(std::sqrt(8.0 / 3.0) - std::sqrt(2.0 / 3.0), 2);
  EXPECT_NEAR(frechet_distance(a.data(), 4, b.data(), 4, 2), want, 1e-9);
  EXPECT_NEAR(frechet_distance(a.data(), 4, a.data(), 4, 2), 0.0, 1e-9);
  // A shift adds |mu_a - mu_b|^2.
  std::vector<float> c = b;
  for (std::size_t k = 0; k < c.size(); k += 2) {
    c[k] += 3.0f;
    c[k + 1] -= 4.0f;
  }
  EXPECT_NEAR(frechet_distance(b.data(), 4, c.data(), 4, 2), 25.0, 1e-6);
}

TEST(Frechet, FeaturesThatNeverChangeAddNothing) {
  // A feature that is the same in every sample (a ReLU unit that never fires)
  // makes both covariances singular; the distance is that of the others.
  const std::vector<float> a{2, 0, 0, -2, 0, 0, 0, 1, 0, 0, -1, 0};
  const std::vector<float> b{1, 0, 0, -1, 0, 0, 0, 1, 0, 0, -1, 0};
  const double want = std::pow(std::sqrt(8.0 / 3.0) - std::sqrt(2.0 / 3.0), 2);
  EXPECT_NEAR(frechet_distance(a.data(), 4, b.data(), 4, 3), want, 1e-9);
  // Two draws of the same distribution, a third of the features dead: near 0,
  // not the sum of the two traces (about 22) that a lost square-root term leaves.
  rng r(5, 2);
  const std::size_t n = 4000, d = 12;
  std::vector<float> x(2 * n * d, 0.0f);
  for (std::size_t i = 0; i < 2 * n; ++i) {
    const double u = r.normal();
    for (std::size_t k = 0; k < d; k += 3) {
      x[i * d + k] = static_cast<float>(u + r.normal());
      x[i * d + k + 1] = static_cast<float>(std::max(0.0, u - r.normal()));
    }
  }
  const double same = frechet_distance(x.data(), n, x.data() + n * d, n, d);
  EXPECT_LT(same, 0.05);
  EXPECT_GE(same, 0.0);
  x[7] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(frechet_distance(x.data(), n, x.data() + n * d, n, d), std::invalid_argument);
}

TEST(Frechet, SymmetricForCovariancesThatDoNotCommute) {
  rng r(3, 9);
  const std::size_t n = 400, d = 5;
  std::vector<float> a(n * d), b(n * d);
  for (std::size_t i = 0; i < n; ++i) {
    const double u = r.normal(), v = r.normal();
    for (std::size_t k = 0; k < d; ++k) {
      a[i * d + k] = static_cast<float>(u * (k + 1) + 0.3 * r.normal());
      b[i * d + k] = static_cast<float>(v * (k % 2 == 0 ? 1.0 : -2.0) + r.normal() + 0.1 * k);
    }
  }
  const double ab = frechet_distance(a.data(), n, b.data(), n, d);
  EXPECT_GT(ab, 1.0);
  EXPECT_NEAR(ab, frechet_distance(b.data(), n, a.data(), n, d), 1e-6 * ab);
  EXPECT_THROW(frechet_distance(a.data(), 1, b.data(), n, d), std::invalid_argument);
}

// ---- pictures -----------------------------------------------------------------

TEST(Png, GridTilesSamplesAndTheFileDecodes) {
  const std::vector<float> s{0.0f, 1.0f, 0.5f, 2.0f,  // sample 0 (2 x 2), 2.0 clamped
                             1.0f, 0.0f, NAN,  0.0f,  // sample 1, NaN as 0
                             0.2f, 0.2f, 0.2f, 0.2f};
  const gray_image g = sample_grid(s.data(), 3, 2, 2, 2);
  ASSERT_EQ(g.width, 2u * 3 + 1);
  ASSERT_EQ(g.height, 2u * 3 + 1);
  EXPECT_EQ(g.pixels[1 * g.width + 1], 0);
  EXPECT_EQ(g.pixels[1 * g.width + 2], 255);
  EXPECT_EQ(g.pixels[2 * g.width + 1], 128);
  EXPECT_EQ(g.pixels[2 * g.width + 2], 255);
  EXPECT_EQ(g.pixels[1 * g.width + 4], 255);  // sample 1 starts at x = 4
  EXPECT_EQ(g.pixels[2 * g.width + 4], 0);
  EXPECT_EQ(g.pixels[4 * g.width + 1], 51);  // sample 2: second row
  EXPECT_EQ(g.pixels[0], 0);                 // border
  const std::string bytes = png_gray(g.pixels.data(), g.width, g.height);
  png_image img;
  std::memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  ASSERT_NE(png_image_begin_read_from_memory(&img, bytes.data(), bytes.size()), 0);
  img.format = PNG_FORMAT_GRAY;
  std::vector<uint8_t> back(PNG_IMAGE_SIZE(img));
  ASSERT_NE(png_image_finish_read(&img, nullptr, back.data(), 0, nullptr), 0);
  EXPECT_EQ(img.width, g.width);
  EXPECT_EQ(back, g.pixels);
}

// ---- trained networks -------------------------------------------------------------

TEST(TrainedNetwork, FileRoundTripsAndCorruptionIsRefused) {
  test::temp_dir dir;
  const network_spec net = parse_network(json::parse(R"({"name": "c", "input": [6], "layers": [
      {"kind": "dense", "name": "h", "units": 4}, {"kind": "relu"},
      {"kind": "dense", "name": "o", "units": 3}, {"kind": "cross_entropy"}]})"),
                                         "t");
  network_run_config cfg;
  cfg.threads = 1;
  model m(net, cfg, 5);
  const std::string path = dir.file("network.bin");
  write_trained_network(path, m, {{"test_accuracy", 0.75}, {"numerics", "fp32"}});
  const trained_network t = read_trained_network(path);
  EXPECT_EQ(t.net.name, "c");
  EXPECT_EQ(t.meta["test_accuracy"], 0.75);
  ASSERT_EQ(t.weights.size(), 2u);
  EXPECT_EQ(t.weights[0], m.weights(0));
  EXPECT_EQ(t.weights[1], m.weights(1));
  // Features: the input of the last weight layer (the ReLU's outputs).
  feature_extractor fx(t);
  EXPECT_EQ(fx.dim(), 4u);
  EXPECT_EQ(fx.describe()["feature_layer"], "relu1");
  const std::vector<float> x{1, 2, 3, -1, 0, 0.5f};
  EXPECT_EQ(fx.features(x.data(), 1), m.outputs(x.data(), 1, 2));
  // One byte changed: refused by the checksum, naming the file.
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x40);
  {
    std::ofstream out(path, std::ios::binary);
    out << bytes;
  }
  try {
    read_trained_network(path);
    FAIL() << "a corrupt file was accepted";
  } catch (const state_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_trained_network(dir.file("missing.bin")), state_error);
}

TEST(TrainedNetwork, WeightsSummaryGivesEachLayersQuantiles) {
  test::temp_dir dir;
  const network_spec net = parse_network(json::parse(R"({"name": "c", "input": [9], "layers": [
      {"kind": "dense", "name": "h", "units": 10}, {"kind": "relu"},
      {"kind": "dense", "name": "o", "units": 2}, {"kind": "cross_entropy"}]})"),
                                         "t");
  network_run_config cfg;
  cfg.threads = 1;
  model m(net, cfg, 5);
  // h: 10 x 10 weights of magnitude 1..100 with alternating signs.
  std::vector<float> w(100);
  for (std::size_t i = 0; i < w.size(); ++i) {
    w[i] = static_cast<float>(i + 1) * (i % 2 == 0 ? 1.0f : -1.0f);
  }
  m.set_weights(0, w);
  m.set_weights(1, std::vector<float>(22, 0.25f));
  const std::string path = dir.file("network.bin");
  write_trained_network(path, m, {{"test_accuracy", 0.5}, {"numerics", "fp32"}, {"seed", 3}});
  const std::string text = weights_summary(read_trained_network(path));
  EXPECT_NE(text.find("test accuracy 50 %"), std::string::npos) << text;
  // |w| sorted 1..100: p50 = a[49] = 50, p90 = a[89] = 90, p99 = a[98] = 99; mean -0.5,
  // std sqrt(mean of squares 3383.5 - 0.25) = 58.1656.
  const auto row = [&text](const std::string& name) {
    const std::size_t at = text.find("\n" + name + " ");
    return at == std::string::npos ? std::string()
                                   : text.substr(at + 1, text.find('\n', at + 1) - at - 1);
  };
  std::istringstream h(row("h"));
  std::string name, rows, x, cols;
  double p50 = 0, p90 = 0, p99 = 0, mx = 0, mean = 0, sd = 0;
  h >> name >> rows >> x >> cols >> p50 >> p90 >> p99 >> mx >> mean >> sd;
  EXPECT_EQ(rows + x + cols, "10x10");
  EXPECT_EQ(p50, 50.0);
  EXPECT_EQ(p90, 90.0);
  EXPECT_EQ(p99, 99.0);
  EXPECT_EQ(mx, 100.0);
  EXPECT_NEAR(mean, -0.5, 1e-9);
  EXPECT_NEAR(sd, 58.1656, 0.01);  // printed to 4 significant digits
  std::istringstream o(row("o"));
  o >> name >> rows >> x >> cols >> p50 >> p90 >> p99 >> mx >> mean >> sd;
  EXPECT_EQ(rows + x + cols, "11x2");
  EXPECT_EQ(p50, 0.25);
  EXPECT_EQ(mx, 0.25);
  EXPECT_EQ(sd, 0.0);
}

// ---- GAN training -----------------------------------------------------------------

nlohmann::json without_wall(nlohmann::json doc) {
  for (const char* k : {"train_wall_s", "train_images_per_wall_s"}) doc.erase(k);
  for (auto& e : doc["epochs"]) {
    for (const char* k : {"train_wall_s", "train_images_per_wall_s"}) e.erase(k);
  }
  return doc;
}

class GanTraining : public ::testing::TestWithParam<numerics_kind> {
 protected:
  void SetUp() override {
    data_.name = "synthetic";
    data_.train = test::make_synthetic_dataset(60, 1);
    data_.test = test::make_synthetic_dataset(30, 2);
    // A classifier for the Frechet distance, trained briefly.
    const network_spec c = parse_network(json::parse(R"({"name": "clf", "input": [784],
      "layers": [{"kind": "dense", "name": "h", "units": 6}, {"kind": "relu"},
                 {"kind": "dense", "name": "o", "units": 10}, {"kind": "cross_entropy"}]})"),
                                         "t");
    network_run_config cc;
    cc.threads = 1;
    cc.batch = 10;
    cc.learning_rate = 0.1;
    train_options o;
    o.epochs = 1;
    o.out_dir = dir_.file("clf");
    o.traced_synapses = 0;
    o.drift_times_s.clear();
    run_network_training(c, cc, data_.train, data_.test, o);
    g_.fd_classifier = dir_.file("clf/network.bin");
    g_.fd_samples = 30;
    g_.grid = 12;
  }
  train_options options(const std::string& sub) const {
    train_options o;
    o.epochs = 2;
    o.seed = 5;
    o.out_dir = dir_.file(sub);
    o.eval_batch = 10;
    o.eval_train = false;
    o.traced_synapses = 0;
    o.drift_times_s.clear();
    return o;
  }
  test::temp_dir dir_;
  split_dataset data_;
  gan_options g_;
};

TEST_P(GanTraining, EpochMetricsPicturesAndResumeGiveTheUninterruptedResult) {
  const gan_spec gan = parse_gan(small_gan_json(), "t");
  const network_run_config cfg = gan_config(GetParam());
  const json whole = run_gan_training(gan, cfg, data_, g_, options("whole"));
  ASSERT_EQ(whole["status"], "complete");
  ASSERT_EQ(whole["epochs"].size(), 2u);
  EXPECT_EQ(whole["fd_classifier"]["features"], 6);
  {
    // The scale's floor: the first 30 training images against the 30 test images.
    feature_extractor fx(read_trained_network(g_.fd_classifier));
    const std::vector<float> a = fx.features(data_.test.image(0), 30);
    const std::vector<float> b = fx.features(data_.train.image(0), 30);
    EXPECT_EQ(whole["fd_classifier"]["real_training_images"], 30);
    EXPECT_NEAR(whole["fd_classifier"]["real_training_images_fd"].get<double>(),
                frechet_distance(a.data(), 30, b.data(), 30, 6), 1e-9);
  }
  EXPECT_EQ(whole["parameters"], gan.parameters());
  // The weight layers as built, generator first; an mca layer with its mapping.
  ASSERT_EQ(whole["weight_layers"].size(), 4u);
  EXPECT_EQ(whole["weight_layers"][0]["name"], "g1");
  EXPECT_EQ(whole["weight_layers"][3]["name"], "d2");
  EXPECT_EQ(whole["weight_layers"][3].contains("adc_backward_range"),
            GetParam() == numerics_kind::mca);
  for (const auto& e : whole["epochs"]) {
    for (const char* key :
         {"generator_loss", "discriminator_loss", "discriminator_accuracy", "frechet_distance",
          "test_accuracy", "test_loss", "samples_png", "discriminator_wins"}) {
      EXPECT_TRUE(e.contains(key)) << key;
    }
    EXPECT_GT(e["frechet_distance"].get<double>(), 0.0);
    EXPECT_GT(e["generator_loss"].get<double>(), 0.0);
    const double acc = e["discriminator_accuracy"].get<double>();
    EXPECT_GE(acc, 0.0);
    EXPECT_LE(acc, 1.0);
    EXPECT_TRUE(std::filesystem::exists(dir_.file("whole/" + e["samples_png"].get<std::string>())));
    // Weight layers of both networks, generator first.
    ASSERT_EQ(e["layers"].size(), 4u);
    EXPECT_EQ(e["layers"][0]["name"], "g1");
    EXPECT_EQ(e["layers"][3]["name"], "d2");
    // Both networks learn: weights written (fp32) or, in a run this short,
    // at least the generator's chi accumulating (mca).
    auto learns = [&e](std::size_t l) {
      return e["layers"][l]["weight_updates"].get<double>() +
                 e["layers"][l]["nonzero_chi_updates"].get<double>() >
             0.0;
    };
    EXPECT_TRUE(learns(0) && learns(1));
    EXPECT_GT(e["layers"][2]["weight_updates"].get<double>(), 0.0);
  }
  EXPECT_TRUE(whole.contains("min_frechet_distance"));
  EXPECT_TRUE(std::filesystem::exists(dir_.file("whole/generator.bin")));
  EXPECT_EQ(read_trained_network(dir_.file("whole/generator.bin")).net.output().size(), 784u);
  // Stopped in epoch 1 and at the start of epoch 2, resumed each time.
  const std::string dir = dir_.file("pieces");
  train_options opt = options("pieces");
  for (int after : {3, 5}) {
    int calls = 0;
    opt.stop = [&calls, after] { return ++calls >= after; };
    EXPECT_EQ(run_gan_training(gan, cfg, data_, g_, opt)["status"], "interrupted");
    opt = resume_options(read_checkpoint_run(dir), dir);
    opt.eval_batch = 10;
  }
  const json pieces = run_gan_training(gan, cfg, data_, g_, opt);
  EXPECT_EQ(without_wall(pieces), without_wall(whole));
}

// The generator in the other numerics than the run's (training.layers):
// each network's layers compute in their own, and a stopped run resumes to
// the uninterrupted result.
TEST_P(GanTraining, GeneratorInOtherNumericsThanTheDiscriminator) {
  const gan_spec gan = parse_gan(small_gan_json(), "t");
  network_run_config cfg = gan_config(GetParam());
  const numerics_kind other =
      GetParam() == numerics_kind::mca ? numerics_kind::fp32 : numerics_kind::mca;
  cfg.layers["g1"].numerics = cfg.layers["g2"].numerics = numerics_name(other);
  const json whole = run_gan_training(gan, cfg, data_, g_, options("mixed"));
  ASSERT_EQ(whole["status"], "complete");
  const json& wl = whole["weight_layers"];
  EXPECT_EQ(wl[0]["numerics"], numerics_name(other));
  EXPECT_EQ(wl[1]["numerics"], numerics_name(other));
  EXPECT_EQ(wl[2]["numerics"], numerics_name(GetParam()));
  EXPECT_EQ(wl[3]["numerics"], numerics_name(GetParam()));
  // Devices (conductance statistics) on the mca network's layers only.
  for (const auto& a : whole["epochs"][0]["activity"]) {
    const bool generator = a["name"] == "g1" || a["name"] == "g2";
    const bool discriminator = a["name"] == "d1" || a["name"] == "d2";
    if (!generator && !discriminator) continue;
    const numerics_kind k = generator ? other : GetParam();
    EXPECT_EQ(a.contains("g_pos_mean_us"), k == numerics_kind::mca) << a["name"];
  }
  train_options opt = options("mixed-pieces");
  int calls = 0;
  opt.stop = [&calls] { return ++calls >= 4; };
  EXPECT_EQ(run_gan_training(gan, cfg, data_, g_, opt)["status"], "interrupted");
  opt = resume_options(read_checkpoint_run(dir_.file("mixed-pieces")), dir_.file("mixed-pieces"));
  opt.eval_batch = 10;
  EXPECT_EQ(without_wall(run_gan_training(gan, cfg, data_, g_, opt)), without_wall(whole));
}

INSTANTIATE_TEST_SUITE_P(Numerics, GanTraining,
                         ::testing::Values(numerics_kind::fp32, numerics_kind::mca),
                         [](const auto& info) {
                           return std::string(info.param == numerics_kind::fp32 ? "fp32" : "mca");
                         });

TEST(GanTrainingErrors, DataOrClassifierThatDoNotFitAreRefused) {
  test::temp_dir dir;
  const gan_spec gan = parse_gan(small_gan_json(), "t");
  split_dataset data;
  data.name = "small";
  data.train = test::make_synthetic_dataset(10, 1);
  data.test = test::make_synthetic_dataset(10, 2);
  train_options o;
  o.epochs = 1;
  o.out_dir = dir.file("out");
  gan_options g;
  // Samples of another size.
  split_dataset other = data;
  other.train.pixels = 392;
  try {
    run_gan_training(gan, gan_config(numerics_kind::fp32), other, g, o);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("discriminator takes [784]"), std::string::npos)
        << e.what();
  }
  // A classifier file that is not one.
  const std::string bad = dir.file("bad.bin");
  std::ofstream(bad) << "not a network";
  g.fd_classifier = bad;
  EXPECT_THROW(run_gan_training(gan, gan_config(numerics_kind::fp32), data, g, o), state_error);
  // Per-layer numerics for a layer neither network has.
  network_run_config cfg = gan_config(numerics_kind::fp32);
  cfg.layers["d9"] = layer_numerics{};
  g.fd_classifier.clear();
  try {
    run_gan_training(gan, cfg, data, g, o);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("training.layers.d9"), std::string::npos) << e.what();
  }
}

// Weights that blow up (an absurd learning rate) end the run as a
// divergence, a result with status "diverged", not an error.
TEST(GanTrainingErrors, LossesThatBlowUpAreADivergenceNotAnError) {
  test::temp_dir dir;
  const gan_spec gan = parse_gan(small_gan_json(), "t");
  split_dataset data;
  data.name = "small";
  data.train = test::make_synthetic_dataset(40, 1);
  data.test = test::make_synthetic_dataset(10, 2);
  train_options o;
  o.epochs = 2;
  o.out_dir = dir.file("out");
  o.traced_synapses = 0;
  o.drift_times_s.clear();
  network_run_config cfg = gan_config(numerics_kind::fp32);
  cfg.learning_rate = 1e30;
  const json doc = run_gan_training(gan, cfg, data, gan_options{}, o);
  EXPECT_EQ(doc["status"], "diverged");
  EXPECT_EQ(doc["diverged_at_epoch"], 1);
  EXPECT_NE(doc["divergence"].get<std::string>().find("at epoch 1, batch"), std::string::npos)
      << doc["divergence"];
  const json file = json::parse(test::read_text(o.out_dir + "/metrics.json"));
  EXPECT_EQ(file["divergence"], doc["divergence"]);
}

TEST(GanVerdict, DivergedOnlyWhenTheDiscriminatorWinsToTheEnd) {
  const auto doc_of = [](std::initializer_list<bool> wins) {
    json doc;
    doc["epochs"] = json::array();
    int epoch = 1;
    for (const bool w : wins)
      doc["epochs"].push_back({{"epoch", epoch++}, {"discriminator_wins", w}});
    gan_verdict(doc);
    return doc;
  };
  json d = doc_of({true, false, true, true, false});
  EXPECT_EQ(d["discriminator_won_epochs"], json({1, 3, 4}));
  EXPECT_FALSE(d.contains("diverged_at_epoch"));
  d = doc_of({false, true, false, true, true});
  EXPECT_EQ(d["discriminator_won_epochs"], json({2, 4, 5}));
  EXPECT_EQ(d["diverged_at_epoch"], 4);
  d = doc_of({false, false});
  EXPECT_TRUE(d["discriminator_won_epochs"].empty());
  EXPECT_FALSE(d.contains("diverged_at_epoch"));
}
}  // namespace
}  // namespace mcasim
