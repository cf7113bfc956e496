#include "workloads/trainer.h"
#include "util/version.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <numeric>
#include <sstream>

#include "models/rng.h"
#include "models/state_io.h"
#include "util/io.h"
#include "util/progress.h"
#include "workloads/config_json.h"

namespace mcasim {
namespace {

nlohmann::json layer_json(const layer_counters& now, const layer_counters& before) {
  return {{"weight_updates", now.weight_updates - before.weight_updates},
          {"set_pulses", now.set_pulses - before.set_pulses},
          {"reset_pulses", now.reset_pulses - before.reset_pulses},
          {"nonzero_chi_updates", now.nonzero_chi_updates - before.nonzero_chi_updates},
          {"refreshed_cells", now.refreshed_cells - before.refreshed_cells},
          {"refresh_set_pulses", now.refresh_set_pulses - before.refresh_set_pulses},
          {"refresh_reset_pulses", now.refresh_reset_pulses - before.refresh_reset_pulses}};
}

std::string drift_label(double s) {
  if (s >= 2592000.0) return std::to_string(static_cast<long>(s / 2592000.0)) + " month";
  if (s >= 604800.0) return std::to_string(static_cast<long>(s / 604800.0)) + " week";
  if (s >= 86400.0) return std::to_string(static_cast<long>(s / 86400.0)) + " day";
  if (s >= 3600.0) return std::to_string(static_cast<long>(s / 3600.0)) + " h";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", s);
  return buf;
}

constexpr char k_magic[8] = {'M', 'C', 'A', 'S', 'I', 'M', 'C', 'K'};
constexpr uint32_t k_format = 2;  // 2: CRC-32 trailer

// FNV-1a over the images and labels: detects a resume on other data.
uint64_t fingerprint(const dataset& ds) {
  uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](uint64_t v) { h = (h ^ v) * 0x100000001b3ull; };
  mix(ds.size());
  mix(ds.pixels);
  for (uint8_t label : ds.labels) mix(label);
  // Pixels two at a time (their bit patterns).
  const std::size_t n = ds.images.size();
  for (std::size_t i = 0; i < n; i += 2) {
    uint32_t a = 0, b = 0;
    std::memcpy(&a, &ds.images[i], sizeof a);
    if (i + 1 < n) std::memcpy(&b, &ds.images[i + 1], sizeof b);
    mix((static_cast<uint64_t>(b) << 32) | a);
  }
  return h;
}

// Where the loop stands; with the machine and the random streams, all that a
// resume needs.
struct loop_state {
  int epoch = 1;          // epoch in progress, or the next one when !shuffled
  uint64_t k = 0;         // training images of this epoch done
  bool shuffled = false;  // `order` holds this epoch's permutation
  uint64_t image = 0;     // training images done in all
  double now_s = 0.0;
  uint64_t online_correct = 0;
  double epoch_wall_s = 0.0, train_wall_s = 0.0;
  double best_test = 0.0, best_train = 0.0;
  std::vector<std::size_t> order;
  std::vector<layer_counters> before;  // counters at the start of the epoch
  std::vector<uint64_t> traced;        // (row, col) pairs of traced layer-2 cells
  std::string csv;                     // synapses.csv so far
  std::string doc;                     // metrics so far
  double online_loss = 0.0;            // summed over this epoch's training samples
  rng shuffle_rng, trace_rng, augment_rng;

  void save(state_writer& w) const {
    w.put(epoch);
    w.put(k);
    w.put(shuffled);
    w.put(image);
    w.put(now_s);
    w.put(online_correct);
    w.put(epoch_wall_s);
    w.put(train_wall_s);
    w.put(best_test);
    w.put(best_train);
    w.put(order);
    w.put(before);
    w.put(traced);
    w.put(csv);
    w.put(doc);
    w.put(online_loss);
    shuffle_rng.save(w);
    trace_rng.save(w);
    augment_rng.save(w);
  }
  void load(state_reader& r) {
    r.get(epoch, "epoch");
    r.get(k, "position in the epoch");
    r.get(shuffled, "shuffle flag");
    r.get(image, "image count");
    r.get(now_s, "simulated time");
    r.get(online_correct, "online accuracy");
    r.get(epoch_wall_s, "wall time");
    r.get(train_wall_s, "wall time");
    r.get(best_test, "best test accuracy");
    r.get(best_train, "best train accuracy");
    r.get(order, "shuffle order");
    r.get(before, "epoch counters");
    r.get(traced, "traced synapses", true);
    r.get(csv, "synapse trace");
    r.get(doc, "metrics");
    r.get(online_loss, "online loss");
    shuffle_rng.load(r, "shuffle stream");
    trace_rng.load(r, "trace stream");
    augment_rng.load(r, "augmentation stream");
  }
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw state_error(path + ": cannot open (" + std::strerror(errno) +
                      "); a run checkpoints after its first epoch or when stopped");
  }
  std::string bytes;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf).gcount() > 0) {
    bytes.append(buf, static_cast<std::size_t>(in.gcount()));
  }
  return bytes;
}

// Header of a checkpoint: magic, format, run description (JSON); the
// CRC-32 trailer is checked once the format is known.
nlohmann::json read_header(state_reader& r) {
  char magic[8];
  r.get(magic, "magic");
  if (std::memcmp(magic, k_magic, sizeof magic) != 0) r.fail("not an mcasim checkpoint");
  uint32_t format = 0;
  r.get(format, "format");
  if (format != k_format) {
    r.fail("checkpoint format " + std::to_string(format) + ", this build reads " +
           std::to_string(k_format));
  }
  r.verify_checksum();
  std::string text;
  r.get(text, "run description");
  auto run = nlohmann::json::parse(text, nullptr, false);
  if (!run.is_object()) r.fail("run description is not a JSON object");
  return run;
}

}  // namespace

std::string checkpoint_path(const std::string& dir) {
  return dir + "/checkpoint.bin";
}

nlohmann::json read_checkpoint_run(const std::string& dir) {
  const std::string path = checkpoint_path(dir);
  // The whole file: the checksum covers it.
  const std::string bytes = read_file(path);
  state_reader r(bytes, path);
  return read_header(r);
}

train_options resume_options(const nlohmann::json& run, const std::string& dir) {
  train_options opt;
  try {
    opt.epochs = run.at("epochs").get<int>();
    opt.seed = run.at("seed").get<uint64_t>();
    opt.eval_train = run.at("eval_train").get<bool>();
    opt.traced_synapses = run.at("traced_synapses").get<int>();
    opt.trace_every_images = run.at("trace_every_images").get<int>();
    opt.drift_times_s = run.at("drift_times_s").get<std::vector<double>>();
    opt.source = run.at("source");
  } catch (const nlohmann::json::exception& e) {
    throw state_error(checkpoint_path(dir) + ": run description incomplete: " + e.what());
  }
  opt.out_dir = dir;
  opt.resume = true;
  return opt;
}

namespace {

struct eval_result {
  double accuracy = 0.0, loss = 0.0;  // loss: mean per sample
};

// x[0..n) to mean 0 and standard deviation max(std, 1/sqrt(n)).
void standardize(float* x, std::size_t n) {
  double s1 = 0.0, s2 = 0.0;
  for (std::size_t k = 0; k < n; ++k) {
    s1 += x[k];
    s2 += static_cast<double>(x[k]) * x[k];
  }
  const double mean = s1 / static_cast<double>(n);
  const double var = std::max(0.0, s2 / static_cast<double>(n) - mean * mean);
  const double sd = std::max(std::sqrt(var), 1.0 / std::sqrt(static_cast<double>(n)));
  const float m = static_cast<float>(mean), inv = static_cast<float>(1.0 / sd);
  for (std::size_t k = 0; k < n; ++k) x[k] = (x[k] - m) * inv;
}

eval_result evaluate(trainable& m, const dataset& ds, std::size_t batch, double now_s,
                     progress* bar, uint64_t base, bool standardized) {
  std::size_t correct = 0;
  double loss = 0.0;
  std::vector<float> buf(standardized ? batch * ds.pixels : 0);
  for (std::size_t i = 0; i < ds.size(); i += batch) {
    const std::size_t n = std::min(batch, ds.size() - i);
    const float* x = ds.image(i);
    if (standardized) {
      std::copy(x, x + n * ds.pixels, buf.begin());
      for (std::size_t k = 0; k < n; ++k) standardize(&buf[k * ds.pixels], ds.pixels);
      x = buf.data();
    }
    const step_result r = m.evaluate(x, ds.label(i), n, now_s);
    correct += r.correct;
    loss += r.loss_sum;
    if (bar) bar->update(base + i, "(evaluating)");
  }
  eval_result e;
  if (ds.size() > 0) {
    const auto labels = static_cast<double>(ds.labels.size() * m.decisions());
    e.accuracy = static_cast<double>(correct) / labels;
    e.loss = loss / labels;
  }
  return e;
}

// Copies sample `idx` into out, augmented: horizontal flip, brightness
// (+ U(-b, b)) and contrast (around the sample's mean, x U(1 - c, 1 + c)),
// clamped to [0, 1]. The draws happen whether or not they change anything,
// so the stream advances the same way for every sample.
void augmented_copy(const dataset& ds, std::size_t idx, const augment_config& a, rng& r,
                    float* out) {
  const float* x = ds.image(idx);
  const std::size_t c = ds.channels, h = ds.height, w = ds.width;
  const bool image = c * h * w == ds.pixels && w > 1;
  const bool flip = a.flip && image && r.uniform() < 0.5;
  const float bright =
      a.brightness > 0 ? static_cast<float>((2 * r.uniform() - 1) * a.brightness) : 0.0f;
  const float contrast =
      a.contrast > 0 ? static_cast<float>(1 + (2 * r.uniform() - 1) * a.contrast) : 1.0f;
  if (flip) {
    for (std::size_t p = 0; p < c * h; ++p) {
      for (std::size_t k = 0; k < w; ++k) out[p * w + k] = x[p * w + (w - 1 - k)];
    }
  } else {
    std::copy(x, x + ds.pixels, out);
  }
  if (bright != 0.0f || contrast != 1.0f) {
    double mean = 0.0;
    for (std::size_t k = 0; k < ds.pixels; ++k) mean += out[k];
    const float m = static_cast<float>(mean / static_cast<double>(ds.pixels));
    for (std::size_t k = 0; k < ds.pixels; ++k) {
      out[k] = std::clamp((out[k] - m) * contrast + m + bright, 0.0f, 1.0f);
    }
  }
  if (a.standardize) standardize(out, ds.pixels);
}

bool augments(const augment_config& a) {
  return a.standardize || a.flip || a.brightness > 0 || a.contrast > 0;
}

}  // namespace

std::vector<std::string> trainable::layer_names() const {
  std::vector<std::string> names;
  for (std::size_t l = 0; l < counters().size(); ++l)
    names.push_back("layer" + std::to_string(l + 1));
  return names;
}

dataset prepared_samples(const dataset& ds, const std::vector<std::size_t>& order,
                         const augment_config& a, uint64_t seed) {
  dataset out;
  out.pixels = ds.pixels;
  out.channels = ds.channels;
  out.height = ds.height;
  out.width = ds.width;
  out.images.resize(order.size() * ds.pixels);
  out.targets = ds.targets;
  out.labels.resize(order.size() * ds.targets);
  rng r(seed, stream_id(stream_kind::augment));
  for (std::size_t k = 0; k < order.size(); ++k) {
    augmented_copy(ds, order[k], a, r, &out.images[k * ds.pixels]);
    std::copy(ds.label(order[k]), ds.label(order[k]) + ds.targets, &out.labels[k * ds.targets]);
  }
  return out;
}

double scheduled_rate(double lr, const lr_schedule& s, int epoch) {
  if (s.step_epochs <= 0) return lr;
  return lr * std::pow(s.gamma, (epoch - 1) / s.step_epochs);
}

nlohmann::json train_loop(trainable& machine, const loop_setup& setup, const dataset& train,
                          const dataset& test, const train_options& opt) {
  if (opt.epochs < 1) throw std::invalid_argument("--epochs must be >= 1");
  if (train.size() == 0) throw std::invalid_argument("the training set is empty");
  if (setup.batch < 1) throw std::invalid_argument("batch must be >= 1");
  if (opt.eval_batch < 1) throw std::invalid_argument("eval_batch must be >= 1");
  ensure_directory(opt.out_dir);
  const uint64_t n = train.size();
  const std::string ckpt = checkpoint_path(opt.out_dir);
  const std::string& label = setup.label;

  nlohmann::json run = setup.run;
  run["version"] = version();
  run["seed"] = opt.seed;
  run["epochs"] = opt.epochs;
  run["eval_train"] = opt.eval_train;
  run["traced_synapses"] = opt.traced_synapses;
  run["trace_every_images"] = opt.trace_every_images;
  run["drift_times_s"] = opt.drift_times_s;
  run["source"] = opt.source;
  run["train_images"] = train.size();
  run["test_images"] = test.size();
  run["train_fingerprint"] = fingerprint(train);
  run["test_fingerprint"] = fingerprint(test);
  std::vector<std::string> must_match = setup.must_match;
  for (const char* key :
       {"seed", "eval_train", "traced_synapses", "trace_every_images", "drift_times_s",
        "train_images", "test_images", "train_fingerprint", "test_fingerprint"}) {
    must_match.emplace_back(key);
  }
  if (setup.valid != nullptr) {
    run["valid_images"] = setup.valid->size();
    run["valid_fingerprint"] = fingerprint(*setup.valid);
    must_match.emplace_back("valid_fingerprint");
  }

  loop_state st;
  st.shuffle_rng = rng(opt.seed, stream_id(stream_kind::shuffle));
  st.trace_rng = rng(opt.seed, stream_id(stream_kind::trace));
  st.augment_rng = rng(opt.seed, stream_id(stream_kind::augment));
  st.order.resize(n);
  std::iota(st.order.begin(), st.order.end(), std::size_t{0});
  st.before = machine.counters();
  nlohmann::json doc;
  crossbar* traced = machine.traced_array();

  if (opt.resume) {
    const std::string bytes = read_file(ckpt);
    state_reader r(bytes, ckpt);
    const nlohmann::json saved = read_header(r);
    for (const std::string& key : must_match) {
      if (saved.value(key, nlohmann::json()) != run[key]) {
        r.fail("'" + key + "' of the checkpoint (" + saved.value(key, nlohmann::json()).dump() +
               ") differs from this run's (" + run[key].dump() +
               "); resume with the same configuration and data");
      }
    }
    if (saved.value("version", std::string()) != version()) {
      std::fprintf(stderr,
                   "mcasim: warning: %s was written by mcasim %s, this is %s; results may "
                   "differ from an uninterrupted run\n",
                   ckpt.c_str(), saved.value("version", std::string("?")).c_str(), version());
    }
    st.load(r);
    machine.load(r);
    if (!r.done()) r.fail("trailing bytes after the state");
    // An epoch in progress must be finished: the state holds part of it.
    const int needed = st.shuffled ? st.epoch : st.epoch - 1;
    if (opt.epochs < needed) {
      throw std::invalid_argument("--epochs " + std::to_string(opt.epochs) +
                                  " is below the epochs the checkpoint has started (" +
                                  std::to_string(needed) + ")");
    }
    doc = nlohmann::json::parse(st.doc);
    doc["epochs_requested"] = opt.epochs;
    std::printf("[%s] resuming %s at epoch %d, sample %llu of %llu\n", label.c_str(),
                opt.out_dir.c_str(), st.epoch, static_cast<unsigned long long>(st.k),
                static_cast<unsigned long long>(n));
  } else {
    // Synapses traced for Fig. 3b: distinct cells chosen by the trace stream.
    if (traced && opt.traced_synapses > 0) {
      const std::size_t want = std::min<std::size_t>(static_cast<std::size_t>(opt.traced_synapses),
                                                     traced->rows() * traced->cols());
      while (st.traced.size() / 2 < want) {
        const uint64_t r = st.trace_rng.below(traced->rows()),
                       c = st.trace_rng.below(traced->cols());
        bool seen = false;
        for (std::size_t i = 0; i < st.traced.size(); i += 2)
          seen |= st.traced[i] == r && st.traced[i + 1] == c;
        if (!seen) st.traced.insert(st.traced.end(), {r, c});
      }
    }
    doc = setup.doc;
    doc["tool"] = "mcasim";
    doc["version"] = version();
    doc["command"] = "train";
    doc["seed"] = opt.seed;
    doc["train_images"] = train.size();
    doc["test_images"] = test.size();
    doc["epochs_requested"] = opt.epochs;
    doc["epochs"] = nlohmann::json::array();
  }

  auto trace_row = [&](uint64_t image, double now_s) {
    if (st.traced.empty()) return;
    std::ostringstream row;
    row << image << ',' << now_s;
    for (std::size_t i = 0; i < st.traced.size(); i += 2) {
      float gp, gn;
      traced->read_cell(st.traced[i], st.traced[i + 1], now_s, st.trace_rng, gp, gn);
      row << ',' << gp << ',' << gn;
    }
    row << '\n';
    st.csv += row.str();
  };
  if (!opt.resume && !st.traced.empty()) {
    st.csv = "image,time_s";
    for (std::size_t s = 0; s < st.traced.size() / 2; ++s)
      st.csv += ",gp" + std::to_string(s) + "_us,gn" + std::to_string(s) + "_us";
    st.csv += "\n";
    trace_row(0, st.now_s);
  }

  auto write_metrics = [&](const char* status) {
    doc["status"] = status;
    write_file_atomic(opt.out_dir + "/metrics.json", doc.dump(2) + "\n");
  };
  auto write_checkpoint = [&] {
    st.doc = doc.dump();
    atomic_file file(ckpt);
    state_writer w([&file](const char* p, std::size_t len) { file.write(p, len); });
    w.put(k_magic);
    w.put(k_format);
    w.put(run.dump());
    st.save(w);
    machine.save(w);
    w.put_checksum();
    w.flush();
    file.commit();
  };
  auto stop_requested = [&] { return opt.stop && opt.stop(); };
  auto interrupted = [&] {
    write_checkpoint();
    write_metrics("interrupted");
    std::printf(
        "[%s] stopped at epoch %d, sample %llu of %llu; checkpoint %s\n"
        "[%s] continue with: mcasim train --resume %s\n",
        label.c_str(), st.epoch, static_cast<unsigned long long>(st.k),
        static_cast<unsigned long long>(n), ckpt.c_str(), label.c_str(), opt.out_dir.c_str());
    std::fflush(stdout);
    return doc;
  };

  const bool augment = augments(setup.augment);
  std::vector<float> batch(setup.batch * train.pixels);
  const std::size_t targets = train.targets;
  std::vector<uint8_t> labels(setup.batch * targets);
  const std::size_t valid_n = setup.valid != nullptr ? setup.valid->size() : 0;
  const uint64_t per_epoch_work = n + (opt.eval_train ? n : 0) + valid_n + test.size();
  // A mean loss in nats per symbol, in bits.
  auto bits = [](double nats) { return nats / std::log(2.0); };
  progress bar(label, per_epoch_work * static_cast<uint64_t>(opt.epochs), opt.progress);
  while (st.epoch <= opt.epochs) {
    const int epoch = st.epoch;
    const double lr = scheduled_rate(setup.learning_rate, setup.schedule, epoch);
    if (!st.shuffled) {
      machine.begin_epoch(epoch, st.now_s);
      auto& order = st.order;
      for (std::size_t i = n - 1; i > 0; --i)
        std::swap(order[i], order[st.shuffle_rng.below(i + 1)]);
      st.shuffled = true;
      st.k = 0;
      st.online_correct = 0;
      st.online_loss = 0.0;
      st.epoch_wall_s = 0.0;
    }
    auto t0 = std::chrono::steady_clock::now();
    auto lap = [&t0] {
      const auto t1 = std::chrono::steady_clock::now();
      const double s = std::chrono::duration<double>(t1 - t0).count();
      t0 = t1;
      return s;
    };
    const uint64_t base = static_cast<uint64_t>(epoch - 1) * per_epoch_work;
    uint64_t drawn = st.k;
    while (st.k < n) {
      if (stop_requested()) {
        st.epoch_wall_s += lap();
        bar.finish();
        return interrupted();
      }
      const std::size_t b = static_cast<std::size_t>(std::min<uint64_t>(setup.batch, n - st.k));
      st.now_s = static_cast<double>(st.image) * setup.image_period_s;
      const float* x;
      if (b == 1 && !augment) {  // the perceptron's path: no copy
        x = train.image(st.order[st.k]);
        std::copy(train.label(st.order[st.k]), train.label(st.order[st.k]) + targets, &labels[0]);
      } else {
        for (std::size_t j = 0; j < b; ++j) {
          const std::size_t idx = st.order[st.k + j];
          std::copy(train.label(idx), train.label(idx) + targets, &labels[j * targets]);
          if (augment) {
            augmented_copy(train, idx, setup.augment, st.augment_rng, &batch[j * train.pixels]);
          } else {
            std::copy(train.image(idx), train.image(idx) + train.pixels, &batch[j * train.pixels]);
          }
        }
        x = batch.data();
      }
      const step_result r = machine.train_batch(x, labels.data(), b, lr, st.now_s);
      if (!std::isfinite(r.loss_sum)) {
        const std::string msg =
            "the training loss became " + std::string(std::isnan(r.loss_sum) ? "NaN" : "infinite") +
            " at epoch " + std::to_string(epoch) + ", batch " +
            std::to_string(st.k / setup.batch + 1) + " (samples " + std::to_string(st.k) + " to " +
            std::to_string(st.k + b - 1) + " of the epoch, learning rate " + std::to_string(lr) +
            "); lower the learning rate";
        doc["error"] = msg;
        bar.finish();
        write_metrics("diverged");
        if (setup.divergence_is_result) return doc;
        throw training_error(msg);
      }
      st.online_correct += r.correct;
      st.online_loss += r.loss_sum;
      const uint64_t before_image = st.image;
      st.image += b;
      st.k += b;
      if (opt.trace_every_images > 0) {
        const uint64_t every = static_cast<uint64_t>(opt.trace_every_images);
        if (st.image / every > before_image / every) trace_row(st.image, st.now_s);
      }
      if (st.k - drawn >= 1024 || st.k == n) {
        bar.update(base + st.k, "(epoch " + std::to_string(epoch) + ")");
        drawn = st.k;
      }
    }
    st.epoch_wall_s += lap();
    const double wall = st.epoch_wall_s;
    st.train_wall_s += wall;
    const bool stdz = setup.augment.standardize;
    const eval_result tr =
        opt.eval_train ? evaluate(machine, train, opt.eval_batch, st.now_s, &bar, base + n, stdz)
                       : eval_result{};
    const eval_result va = valid_n > 0 ? evaluate(machine, *setup.valid, opt.eval_batch, st.now_s,
                                                  &bar, base + n + (opt.eval_train ? n : 0), stdz)
                                       : eval_result{};
    const eval_result te = evaluate(machine, test, opt.eval_batch, st.now_s, &bar,
                                    base + n + (opt.eval_train ? n : 0) + valid_n, stdz);
    const double labelled = static_cast<double>(n * targets * machine.decisions());
    const double online_acc = static_cast<double>(st.online_correct) / labelled;
    const double train_acc = opt.eval_train ? tr.accuracy : online_acc;
    st.best_test = std::max(st.best_test, te.accuracy);
    st.best_train = std::max(st.best_train, train_acc);
    const auto after = machine.counters();
    nlohmann::json e{{"epoch", epoch},
                     {"online_train_accuracy", online_acc},
                     {"train_accuracy", train_acc},
                     {"test_accuracy", te.accuracy},
                     {"sim_time_s", st.now_s},
                     {"train_wall_s", wall},
                     {"train_images_per_wall_s", wall > 0 ? n / wall : 0.0}};
    if (!opt.eval_train) e["train_accuracy_source"] = "online";
    e["learning_rate"] = lr;
    e["online_train_loss"] = st.online_loss / labelled;
    if (opt.eval_train) e["train_loss"] = tr.loss;
    if (valid_n > 0) {
      e["valid_accuracy"] = va.accuracy;
      e["valid_loss"] = va.loss;
    }
    e["test_loss"] = te.loss;
    if (setup.bits_per_symbol) {
      e["online_train_bpc"] = bits(st.online_loss / labelled);
      if (opt.eval_train) e["train_bpc"] = bits(tr.loss);
      if (valid_n > 0) e["valid_bpc"] = bits(va.loss);
      e["test_bpc"] = bits(te.loss);
      if (valid_n > 0) {
        doc["min_valid_bpc"] = std::min(doc.value("min_valid_bpc", bits(va.loss)), bits(va.loss));
      }
    }
    // What every layer puts out on the first test samples (dead units,
    // a collapsed output): the machine's own statistics, if it has them.
    if (test.size() > 0) {
      const std::size_t np = std::min(opt.eval_batch, test.size());
      std::vector<float> probe(test.image(0), test.image(0) + np * test.pixels);
      if (stdz) {
        for (std::size_t k = 0; k < np; ++k) standardize(&probe[k * test.pixels], test.pixels);
      }
      nlohmann::json act = machine.activity(probe.data(), np);
      if (!act.empty()) e["activity"] = std::move(act);
    }
    e["layers"] = nlohmann::json::array();
    const auto names = machine.layer_names();
    uint64_t updates = 0, refreshed = 0;
    for (std::size_t l = 0; l < after.size(); ++l) {
      nlohmann::json lj = layer_json(after[l], st.before[l]);
      lj["name"] = names[l];
      e["layers"].push_back(lj);
      updates += after[l].weight_updates - st.before[l].weight_updates;
      refreshed += after[l].refreshed_cells - st.before[l].refreshed_cells;
    }
    e["weight_updates"] = updates;
    e["refreshed_cells"] = refreshed;
    const std::string own = machine.epoch_report(e, epoch, opt.out_dir);
    st.before = after;
    doc["epochs"].push_back(e);
    bar.finish();
    char train_txt[32] = "-", loss_txt[96] = "";
    std::snprintf(train_txt, sizeof train_txt, "%.2f%%", 100.0 * train_acc);
    std::snprintf(loss_txt, sizeof loss_txt, "  test loss %.4f", te.loss);
    if (setup.bits_per_symbol) {
      std::snprintf(loss_txt, sizeof loss_txt, "  bpc train %.3f%s valid %.3f test %.3f",
                    bits(opt.eval_train ? tr.loss : st.online_loss / labelled),
                    opt.eval_train ? "" : " (online)", bits(va.loss), bits(te.loss));
    }
    std::printf("[%s] epoch %d/%d  train %s  test %.2f%%%s%s  updates %llu  %.0f samples/s\n",
                label.c_str(), epoch, opt.epochs, train_txt, 100.0 * te.accuracy, loss_txt,
                own.c_str(), static_cast<unsigned long long>(updates), n / wall);
    std::fflush(stdout);
    doc["max_test_accuracy"] = st.best_test;
    doc["max_train_accuracy"] = st.best_train;
    doc["train_wall_s"] = st.train_wall_s;
    ++st.epoch;
    st.shuffled = false;
    st.k = 0;
    // A stop here writes the checkpoint once (interrupted() does).
    if (stop_requested() && st.epoch <= opt.epochs) return interrupted();
    write_metrics("running");
    if (opt.checkpoint) write_checkpoint();
  }
  const uint64_t trained = st.image;
  doc["train_wall_s"] = st.train_wall_s;
  doc["train_images_per_wall_s"] = st.train_wall_s > 0 ? trained / st.train_wall_s : 0.0;

  if (traced && opt.traced_synapses > 0) {
    doc["traced_synapses"] = nlohmann::json::array();
    for (std::size_t i = 0; i < st.traced.size(); i += 2)
      doc["traced_synapses"].push_back(
          {{"layer", machine.counters().size()}, {"row", st.traced[i]}, {"col", st.traced[i + 1]}});
    write_file_atomic(opt.out_dir + "/synapses.csv", st.csv);
  }
  if (traced && !opt.drift_times_s.empty()) {
    nlohmann::json drift = nlohmann::json::array();
    for (double dt : opt.drift_times_s) {
      machine.age_to(st.now_s + dt);
      const double acc = evaluate(machine, test, opt.eval_batch, st.now_s + dt, nullptr, 0,
                                  setup.augment.standardize)
                             .accuracy;
      drift.push_back({{"after_s", dt}, {"label", drift_label(dt)}, {"test_accuracy", acc}});
      std::printf("[%s] inference %s after training: test %.2f%%\n", label.c_str(),
                  drift_label(dt).c_str(), 100.0 * acc);
    }
    doc["drift_inference"] = drift;
  }
  write_metrics("complete");
  return doc;
}

}  // namespace mcasim
