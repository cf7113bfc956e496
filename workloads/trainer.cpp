#include "workloads/trainer.h"
#include "workloads/version.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <numeric>
#include <sstream>

#include "models/rng.h"
#include "models/state_io.h"
#include "workloads/config_json.h"
#include "workloads/io.h"
#include "workloads/network.h"
#include "workloads/progress.h"

namespace mcasim {
namespace {

double evaluate(network& net, const dataset& ds, double now_s, progress* bar, uint64_t base) {
  std::size_t correct = 0;
  for (std::size_t i = 0; i < ds.size(); ++i) {
    correct += net.predict(ds.image(i), now_s) == ds.labels[i];
    if (bar && (i & 1023) == 0) bar->update(base + i, "(evaluating)");
  }
  return ds.size() ? static_cast<double>(correct) / static_cast<double>(ds.size()) : 0.0;
}

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
  rng shuffle_rng, trace_rng;

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
    shuffle_rng.save(w);
    trace_rng.save(w);
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
    shuffle_rng.load(r, "shuffle stream");
    trace_rng.load(r, "trace stream");
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

nlohmann::json run_training(const experiment_config& cfg, const dataset& train, const dataset& test,
                            const train_options& opt) {
  if (opt.epochs < 1) throw std::invalid_argument("--epochs must be >= 1");
  if (train.size() == 0) throw std::invalid_argument("the training set is empty");
  if (train.pixels != cfg.mlp.inputs) {
    throw std::invalid_argument("the data set has " + std::to_string(train.pixels) +
                                " pixels per image but the network has " +
                                std::to_string(cfg.mlp.inputs) + " inputs");
  }
  ensure_directory(opt.out_dir);
  auto net = make_network(cfg, opt.seed, 0.0);
  auto* mca = dynamic_cast<mca_network*>(net.get());
  const uint64_t n = train.size();
  const std::string ckpt = checkpoint_path(opt.out_dir);

  nlohmann::json run{{"version", version()},
                     {"experiment", cfg},
                     {"seed", opt.seed},
                     {"epochs", opt.epochs},
                     {"eval_train", opt.eval_train},
                     {"traced_synapses", opt.traced_synapses},
                     {"trace_every_images", opt.trace_every_images},
                     {"drift_times_s", opt.drift_times_s},
                     {"source", opt.source},
                     {"train_images", train.size()},
                     {"test_images", test.size()},
                     {"train_fingerprint", fingerprint(train)},
                     {"test_fingerprint", fingerprint(test)}};

  loop_state st;
  st.shuffle_rng = rng(opt.seed, stream_id(stream_kind::shuffle));
  st.trace_rng = rng(opt.seed, stream_id(stream_kind::trace));
  st.order.resize(n);
  std::iota(st.order.begin(), st.order.end(), std::size_t{0});
  st.before = net->counters();
  nlohmann::json doc;

  if (opt.resume) {
    const std::string bytes = read_file(ckpt);
    state_reader r(bytes, ckpt);
    const nlohmann::json saved = read_header(r);
    for (const char* key : {"experiment", "seed", "eval_train", "traced_synapses",
                            "trace_every_images", "drift_times_s", "train_images", "test_images",
                            "train_fingerprint", "test_fingerprint"}) {
      if (saved.value(key, nlohmann::json()) != run[key]) {
        r.fail(std::string("'") + key + "' of the checkpoint (" +
               saved.value(key, nlohmann::json()).dump() + ") differs from this run's (" +
               run[key].dump() + "); resume with the same configuration and data");
      }
    }
    if (saved.value("version", std::string()) != version()) {
      std::fprintf(stderr,
                   "mcasim: warning: %s was written by mcasim %s, this is %s; results may "
                   "differ from an uninterrupted run\n",
                   ckpt.c_str(), saved.value("version", std::string("?")).c_str(), version());
    }
    st.load(r);
    net->load(r);
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
    std::printf("[%s] resuming %s at epoch %d, image %llu of %llu\n", cfg.name.c_str(),
                opt.out_dir.c_str(), st.epoch, static_cast<unsigned long long>(st.k),
                static_cast<unsigned long long>(n));
  } else {
    // Synapses traced for Fig. 3b: distinct layer-2 cells chosen by the trace stream.
    if (mca && opt.traced_synapses > 0) {
      crossbar& l2 = mca->layer(1);
      const std::size_t want = std::min<std::size_t>(static_cast<std::size_t>(opt.traced_synapses),
                                                     l2.rows() * l2.cols());
      while (st.traced.size() / 2 < want) {
        const uint64_t r = st.trace_rng.below(l2.rows()), c = st.trace_rng.below(l2.cols());
        bool seen = false;
        for (std::size_t i = 0; i < st.traced.size(); i += 2)
          seen |= st.traced[i] == r && st.traced[i + 1] == c;
        if (!seen) st.traced.insert(st.traced.end(), {r, c});
      }
    }
    doc["tool"] = "mcasim";
    doc["version"] = version();
    doc["command"] = "train";
    doc["experiment"] = cfg.name;
    doc["seed"] = opt.seed;
    doc["config"] = cfg;
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
      mca->layer(1).read_cell(st.traced[i], st.traced[i + 1], now_s, st.trace_rng, gp, gn);
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
    state_writer w([&file](const char* p, std::size_t n) { file.write(p, n); });
    w.put(k_magic);
    w.put(k_format);
    w.put(run.dump());
    st.save(w);
    net->save(w);
    w.put_checksum();
    w.flush();
    file.commit();
  };
  auto stop_requested = [&] { return opt.stop && opt.stop(); };
  auto interrupted = [&] {
    write_checkpoint();
    write_metrics("interrupted");
    std::printf(
        "[%s] stopped at epoch %d, image %llu of %llu; checkpoint %s\n"
        "[%s] continue with: mcasim train --resume %s\n",
        cfg.name.c_str(), st.epoch, static_cast<unsigned long long>(st.k),
        static_cast<unsigned long long>(n), ckpt.c_str(), cfg.name.c_str(), opt.out_dir.c_str());
    std::fflush(stdout);
    return doc;
  };

  const uint64_t per_epoch_work = n + (opt.eval_train ? n : 0) + test.size();
  progress bar(cfg.name, per_epoch_work * static_cast<uint64_t>(opt.epochs), opt.progress);
  while (st.epoch <= opt.epochs) {
    const int epoch = st.epoch;
    if (!st.shuffled) {
      net->begin_epoch(epoch, st.now_s);
      auto& order = st.order;
      for (std::size_t i = n - 1; i > 0; --i)
        std::swap(order[i], order[st.shuffle_rng.below(i + 1)]);
      st.shuffled = true;
      st.k = 0;
      st.online_correct = 0;
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
    for (; st.k < n; ++st.k) {
      if (stop_requested()) {
        st.epoch_wall_s += lap();
        bar.finish();
        return interrupted();
      }
      const std::size_t idx = st.order[st.k];
      st.now_s = static_cast<double>(st.image) * cfg.image_period_s;
      st.online_correct +=
          net->train(train.image(idx), train.labels[idx], st.now_s) == train.labels[idx];
      ++st.image;
      if (opt.trace_every_images > 0 &&
          st.image % static_cast<uint64_t>(opt.trace_every_images) == 0) {
        trace_row(st.image, st.now_s);
      }
      if ((st.k & 1023) == 0) bar.update(base + st.k, "(epoch " + std::to_string(epoch) + ")");
    }
    st.epoch_wall_s += lap();
    const double wall = st.epoch_wall_s;
    st.train_wall_s += wall;
    const double train_acc = opt.eval_train ? evaluate(*net, train, st.now_s, &bar, base + n) : 0.0;
    const double test_acc =
        evaluate(*net, test, st.now_s, &bar, base + n + (opt.eval_train ? n : 0));
    st.best_test = std::max(st.best_test, test_acc);
    st.best_train = std::max(st.best_train, train_acc);
    const auto after = net->counters();
    nlohmann::json e{{"epoch", epoch},
                     {"online_train_accuracy", static_cast<double>(st.online_correct) / n},
                     {"test_accuracy", test_acc},
                     {"sim_time_s", st.now_s},
                     {"train_wall_s", wall},
                     {"train_images_per_wall_s", wall > 0 ? n / wall : 0.0}};
    if (opt.eval_train) e["train_accuracy"] = train_acc;
    e["layers"] = nlohmann::json::array();
    uint64_t updates = 0;
    for (std::size_t l = 0; l < after.size(); ++l) {
      e["layers"].push_back(layer_json(after[l], st.before[l]));
      updates += after[l].weight_updates - st.before[l].weight_updates;
    }
    e["weight_updates"] = updates;
    st.before = after;
    doc["epochs"].push_back(e);
    bar.finish();
    char train_txt[32] = "-";
    if (opt.eval_train) std::snprintf(train_txt, sizeof train_txt, "%.2f%%", 100.0 * train_acc);
    std::printf("[%s] epoch %d/%d  train %s  test %.2f%%  updates %llu  %.0f img/s\n",
                cfg.name.c_str(), epoch, opt.epochs, train_txt, 100.0 * test_acc,
                static_cast<unsigned long long>(updates), n / wall);
    std::fflush(stdout);
    doc["max_test_accuracy"] = st.best_test;
    if (opt.eval_train) doc["max_train_accuracy"] = st.best_train;
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

  if (mca) {
    doc["traced_synapses"] = nlohmann::json::array();
    for (std::size_t i = 0; i < st.traced.size(); i += 2)
      doc["traced_synapses"].push_back(
          {{"layer", 2}, {"row", st.traced[i]}, {"col", st.traced[i + 1]}});
    write_file_atomic(opt.out_dir + "/synapses.csv", st.csv);
    nlohmann::json drift = nlohmann::json::array();
    for (double dt : opt.drift_times_s) {
      net->age_to(st.now_s + dt);
      const double acc = evaluate(*net, test, st.now_s + dt, nullptr, 0);
      drift.push_back({{"after_s", dt}, {"label", drift_label(dt)}, {"test_accuracy", acc}});
      std::printf("[%s] inference %s after training: test %.2f%%\n", cfg.name.c_str(),
                  drift_label(dt).c_str(), 100.0 * acc);
    }
    doc["drift_inference"] = drift;
  }
  write_metrics("complete");
  return doc;
}

}  // namespace mcasim
