#include "workloads/gan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <vector>

#include "models/rng.h"
#include "util/io.h"
#include "util/png.h"
#include "workloads/config_json.h"
#include "workloads/frechet.h"
#include "workloads/model.h"
#include "workloads/network_train.h"
#include "workloads/trained_network.h"

namespace mcasim {

namespace {

// The run's per-layer numerics that belong to `net`.
network_run_config part(const network_run_config& cfg, const network_spec& net) {
  network_run_config c = cfg;
  c.layers.clear();
  for (const auto& [name, v] : cfg.layers) {
    for (const std::size_t i : net.weight_layers()) {
      if (net.layers[i].name == name) c.layers[name] = v;
    }
  }
  return c;
}

// The discriminator's streams apart from the generator's (both models
// number their weight layers from 0).
uint64_t discriminator_seed(uint64_t seed) {
  return seed ^ 0x5851f42d4c957f2dULL;
}

void draw_noise(rng& r, std::size_t n, std::vector<float>& z) {
  z.resize(n);
  for (float& v : z) v = static_cast<float>(2.0 * r.uniform() - 1.0);
}

class gan_machine : public trainable {
 public:
  gan_machine(const gan_spec& s, const network_run_config& cfg, uint64_t seed, const dataset& train,
              const dataset& test, const gan_options& go)
      : spec_(s),
        g_(s.generator, part(cfg, s.generator), seed),
        d_(s.discriminator, part(cfg, s.discriminator), discriminator_seed(seed)),
        seed_(seed),
        opt_(go),
        noise_rng_(seed, stream_id(stream_kind::gan_noise)),
        height_(test.height),
        width_(test.width) {
    for (const auto& [name, v] : cfg.layers) {
      if (part(cfg, s.generator).layers.count(name) == 0 &&
          part(cfg, s.discriminator).layers.count(name) == 0) {
        throw std::invalid_argument("training.layers." + name +
                                    ": neither the generator nor the discriminator has a weight "
                                    "layer of that name");
      }
    }
    if (!go.fd_classifier.empty()) {
      fx_ =
          std::make_unique<feature_extractor>(read_trained_network(go.fd_classifier), cfg.threads);
      if (fx_->input_size() != test.pixels) {
        throw std::invalid_argument(
            go.fd_classifier + ": the classifier takes " + std::to_string(fx_->input_size()) +
            " values per sample, the data set has " + std::to_string(test.pixels));
      }
      fd_n_ = std::min(go.fd_samples, test.size());
      if (fd_n_ < 2) {
        throw std::invalid_argument("the Frechet distance needs 2 or more test images, got " +
                                    std::to_string(fd_n_));
      }
      real_features_ = features(test.image(0), fd_n_);
      // The floor of the scale: as many real training images as samples
      // score this much (what a generator that draws the data would score).
      const std::size_t nr = std::min(fd_n_, train.size());
      if (nr >= 2) {
        const std::vector<float> f = features(train.image(0), nr);
        fd_real_ = frechet_distance(real_features_.data(), fd_n_, f.data(), nr, fx_->dim());
        fd_real_n_ = nr;
      }
    }
  }

  step_result train_batch(const float* x, const uint8_t*, std::size_t n, double lr,
                          double now_s) override {
    const std::size_t d = spec_.discriminator.input.size();
    // The discriminator: n real, n generated.
    draw_noise(noise_rng_, n * spec_.noise, z_);
    const std::vector<float> fake = g_.outputs(z_.data(), n);
    batch_.resize(2 * n * d);
    std::copy(x, x + n * d, batch_.begin());
    std::copy(fake.begin(), fake.end(), batch_.begin() + static_cast<std::ptrdiff_t>(n * d));
    labels_.assign(2 * n, 0);
    std::fill(labels_.begin(), labels_.begin() + static_cast<std::ptrdiff_t>(n), uint8_t{1});
    const batch_result dr = d_.train_batch(batch_.data(), labels_.data(), 2 * n, lr, now_s);
    // The generator, through the discriminator.
    draw_noise(noise_rng_, n * spec_.noise, z_);
    const std::vector<uint8_t> real(n, 1);
    const batch_result gr =
        g_.train_batch(z_.data(), n, lr, now_s, [&](const float* out, std::size_t rows, float* g) {
          return d_.input_gradient(out, real.data(), rows, g);
        });
    d_loss_ += dr.loss_sum;
    d_correct_ += dr.correct;
    g_loss_ += gr.loss_sum;
    samples_ += n;
    const double loss = std::isfinite(gr.loss_sum) ? dr.loss_sum : gr.loss_sum;
    return {loss, dr.correct};
  }

  // The discriminator on n real samples and n generated ones.
  step_result evaluate(const float* x, const uint8_t*, std::size_t n, double) override {
    const std::size_t d = spec_.discriminator.input.size();
    draw_noise(eval_rng_, n * spec_.noise, z_);
    const std::vector<float> fake = g_.outputs(z_.data(), n);
    batch_.resize(2 * n * d);
    std::copy(x, x + n * d, batch_.begin());
    std::copy(fake.begin(), fake.end(), batch_.begin() + static_cast<std::ptrdiff_t>(n * d));
    labels_.assign(2 * n, 0);
    std::fill(labels_.begin(), labels_.begin() + static_cast<std::ptrdiff_t>(n), uint8_t{1});
    const batch_result r = d_.evaluate(batch_.data(), labels_.data(), 2 * n);
    return {r.loss_sum, r.correct};
  }

  std::size_t decisions() const override { return 2; }

  void begin_epoch(int epoch, double) override {
    g_.begin_epoch(epoch);
    d_.begin_epoch(epoch);
    eval_rng_ = rng(seed_, stream_id(stream_kind::gan_eval, static_cast<uint32_t>(epoch)));
    d_loss_ = g_loss_ = 0.0;
    d_correct_ = samples_ = 0;
  }
  void age_to(double now_s) override {
    g_.age_to(now_s);
    d_.age_to(now_s);
  }

  std::string epoch_report(nlohmann::json& e, int epoch, const std::string& out_dir) override {
    const double n = static_cast<double>(std::max<uint64_t>(samples_, 1));
    const double g_loss = g_loss_ / n;
    e["generator_loss"] = g_loss;
    e["discriminator_loss"] = d_loss_ / (2 * n);
    e["discriminator_accuracy"] = static_cast<double>(d_correct_) / (2 * n);
    // The picture: the same noise every epoch.
    rng grid_rng(seed_, stream_id(stream_kind::gan_sample));
    std::vector<float> z;
    draw_noise(grid_rng, opt_.grid * spec_.noise, z);
    if (opt_.grid > 0) {
      const std::vector<float> s = g_.outputs(z.data(), opt_.grid);
      const gray_image img = sample_grid(s.data(), opt_.grid, height_, width_, 10);
      char name[32];
      std::snprintf(name, sizeof name, "samples/epoch_%03d.png", epoch);
      ensure_directory(out_dir + "/samples");
      write_png_gray(out_dir + "/" + name, img.pixels.data(), img.width, img.height);
      e["samples_png"] = name;
    }
    char text[96];
    std::snprintf(text, sizeof text, "  D loss %.3f  G loss %.3f", d_loss_ / (2 * n), g_loss);
    std::string out = text;
    if (fx_) {
      rng fd_rng(seed_,
                 stream_id(stream_kind::gan_eval, 0x80000000u + static_cast<uint32_t>(epoch)));
      std::vector<float> fake(fd_n_ * spec_.discriminator.input.size());
      const std::size_t d = spec_.discriminator.input.size();
      for (std::size_t k = 0; k < fd_n_; k += k_chunk) {
        const std::size_t c = std::min(k_chunk, fd_n_ - k);
        draw_noise(fd_rng, c * spec_.noise, z);
        const std::vector<float> s = g_.outputs(z.data(), c);
        std::copy(s.begin(), s.end(), fake.begin() + static_cast<std::ptrdiff_t>(k * d));
      }
      const std::vector<float> f = features(fake.data(), fd_n_);
      double fd = 0.0;
      try {
        fd = frechet_distance(real_features_.data(), fd_n_, f.data(), fd_n_, fx_->dim());
      } catch (const std::invalid_argument& err) {
        throw std::invalid_argument("epoch " + std::to_string(epoch) +
                                    ", Frechet distance of the generated images: " + err.what());
      }
      e["frechet_distance"] = fd;
      std::snprintf(text, sizeof text, "  FD %.2f", fd);
      out += text;
    }
    const bool wins = e.value("test_accuracy", 0.0) >= 0.99 && g_loss > std::log(100.0);
    e["discriminator_wins"] = wins;
    if (wins) out += "  (D wins)";
    return out;
  }

  std::vector<layer_counters> counters() const override {
    std::vector<layer_counters> out;
    for (const model* m : {&g_, &d_}) {
      for (const weight_layer_stats& s : m->stats()) out.push_back(counters_of(s));
    }
    return out;
  }
  // The generator's layers on a fixed draw of noise (its own stream: the
  // training's draws stay as they are), then the discriminator's on the
  // probe's real samples.
  nlohmann::json activity(const float* x, std::size_t n) override {
    rng probe(seed_, stream_id(stream_kind::gan_sample, 1));
    std::vector<float> z;
    draw_noise(probe, n * spec_.noise, z);
    nlohmann::json out = activity_json(g_.activity(z.data(), n));
    for (auto& l : activity_json(d_.activity(x, n))) out.push_back(std::move(l));
    return out;
  }
  std::vector<std::string> layer_names() const override {
    std::vector<std::string> names;
    for (const model* m : {&g_, &d_}) {
      for (const weight_layer_stats& s : m->stats()) names.push_back(s.name);
    }
    return names;
  }
  void save(state_writer& w) const override {
    g_.save(w);
    d_.save(w);
    noise_rng_.save(w);
    eval_rng_.save(w);
    w.put(d_loss_);
    w.put(g_loss_);
    w.put(d_correct_);
    w.put(samples_);
  }
  void load(state_reader& r) override {
    g_.load(r);
    d_.load(r);
    noise_rng_.load(r, "noise stream");
    eval_rng_.load(r, "evaluation noise stream");
    r.get(d_loss_, "discriminator loss");
    r.get(g_loss_, "generator loss");
    r.get(d_correct_, "discriminator decisions");
    r.get(samples_, "samples of the epoch");
  }

  std::vector<model*> networks() override { return {&g_, &d_}; }
  const model& generator() const { return g_; }
  const model& discriminator() const { return d_; }
  nlohmann::json classifier() const {
    if (!fx_) return nlohmann::json();
    nlohmann::json c = fx_->describe();
    if (fd_real_n_ > 0) {
      c["real_training_images_fd"] = fd_real_;
      c["real_training_images"] = fd_real_n_;
    }
    return c;
  }

 private:
  static constexpr std::size_t k_chunk = 500;

  std::vector<float> features(const float* x, std::size_t n) {
    const std::size_t in = fx_->input_size(), dim = fx_->dim();
    std::vector<float> f(n * dim);
    for (std::size_t k = 0; k < n; k += k_chunk) {
      const std::size_t c = std::min(k_chunk, n - k);
      const std::vector<float> part = fx_->features(x + k * in, c);
      std::copy(part.begin(), part.end(), f.begin() + static_cast<std::ptrdiff_t>(k * dim));
    }
    return f;
  }

  gan_spec spec_;
  model g_, d_;
  uint64_t seed_;
  gan_options opt_;
  rng noise_rng_, eval_rng_;
  std::size_t height_, width_;
  std::unique_ptr<feature_extractor> fx_;
  std::size_t fd_n_ = 0, fd_real_n_ = 0;
  double fd_real_ = 0.0;
  std::vector<float> real_features_;
  std::vector<float> z_, batch_;
  std::vector<uint8_t> labels_;
  double d_loss_ = 0.0, g_loss_ = 0.0;
  uint64_t d_correct_ = 0, samples_ = 0;
};

}  // namespace

std::unique_ptr<trainable> make_gan_machine(const gan_spec& gan, const network_run_config& cfg,
                                            uint64_t seed, const dataset& train,
                                            const dataset& test, const gan_options& g) {
  return std::make_unique<gan_machine>(gan, cfg, seed, train, test, g);
}

void gan_verdict(nlohmann::json& doc) {
  nlohmann::json won = nlohmann::json::array();
  int streak_from = 0;
  for (const auto& e : doc["epochs"]) {
    if (e.value("discriminator_wins", false)) {
      won.push_back(e["epoch"]);
      if (streak_from == 0) streak_from = e["epoch"].get<int>();
    } else {
      streak_from = 0;
    }
  }
  doc["discriminator_won_epochs"] = won;
  if (streak_from != 0) doc["diverged_at_epoch"] = streak_from;
}

void check_gan_input(const gan_spec& gan, const dataset& ds, const std::string& name) {
  if (ds.targets != 1 || ds.pixels != gan.discriminator.input.size()) {
    throw std::invalid_argument("GAN '" + gan.name + "': its discriminator takes " +
                                gan.discriminator.input.str() + " but data set '" + name +
                                "' has samples of " + std::to_string(ds.pixels) + " values" +
                                (ds.targets != 1 ? " in sequences" : ""));
  }
}

nlohmann::json run_gan_training(const gan_spec& gan, const network_run_config& cfg,
                                const split_dataset& data, const gan_options& g,
                                const train_options& opt) {
  cfg.validate();
  for (const dataset* ds : {&data.train, &data.test}) {
    check_gan_input(gan, *ds, data.name);
  }
  if (data.test.size() == 0) throw std::invalid_argument("the GAN needs test images");
  gan_machine machine(gan, cfg, opt.seed, data.train, data.test, g);
  loop_setup setup;
  setup.label = gan.name + "/" + numerics_name(cfg.numerics);
  setup.run = {{"gan", to_json(gan)},
               {"training", cfg},
               {"fd_classifier", g.fd_classifier},
               {"fd_samples", g.fd_samples},
               {"grid", g.grid}};
  setup.must_match = {"gan", "training", "fd_classifier", "fd_samples", "grid"};
  std::vector<weight_layer_stats> stats = machine.generator().stats();
  for (const weight_layer_stats& s : machine.discriminator().stats()) stats.push_back(s);
  setup.doc = {{"gan", to_json(gan)},
               {"numerics", numerics_name(cfg.numerics)},
               {"training", cfg},
               {"threads", cfg.threads},
               {"parameters", gan.parameters()},
               {"generator_parameters", gan.generator.parameters()},
               {"discriminator_parameters", gan.discriminator.parameters()},
               {"noise", "uniform in [-1, 1]"},
               {"fd_classifier", machine.classifier()},
               {"weight_layers", weight_layers_json(cfg, stats)}};
  setup.batch = cfg.batch;
  setup.learning_rate = cfg.learning_rate;
  setup.schedule = cfg.schedule;
  setup.augment = cfg.augment;
  setup.image_period_s = cfg.image_period_s;
  // Losses that blow up are the GAN's divergence (Fig. 4i: batch 1, no
  // momentum), a result: the run says where and why.
  setup.divergence_is_result = true;
  nlohmann::json doc = train_loop(machine, setup, data.train, data.test, opt);
  if (doc.value("status", std::string()) == "diverged") {
    gan_verdict(doc);
    doc["diverged_at_epoch"] = doc["epochs"].size() + 1;
    doc["divergence"] = doc["error"];
    write_file_atomic(opt.out_dir + "/metrics.json", doc.dump(2) + "\n");
    return doc;
  }
  if (doc.value("status", std::string()) != "complete") return doc;
  gan_verdict(doc);
  for (const auto& e : doc["epochs"]) {
    if (e.contains("frechet_distance")) {
      const double fd = e["frechet_distance"].get<double>();
      doc["min_frechet_distance"] = std::min(doc.value("min_frechet_distance", fd), fd);
    }
  }
  write_file_atomic(opt.out_dir + "/metrics.json", doc.dump(2) + "\n");
  write_trained_network(opt.out_dir + "/generator.bin", machine.generator(),
                        {{"numerics", numerics_name(cfg.numerics)}, {"seed", opt.seed}});
  write_trained_network(opt.out_dir + "/discriminator.bin", machine.discriminator(),
                        {{"numerics", numerics_name(cfg.numerics)}, {"seed", opt.seed}});
  return doc;
}

}  // namespace mcasim
