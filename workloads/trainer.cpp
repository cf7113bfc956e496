#include "workloads/trainer.h"
#include "workloads/version.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <sstream>

#include "models/rng.h"
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

}  // namespace

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

  rng shuffle_rng(opt.seed, stream_id(stream_kind::shuffle));
  rng trace_rng(opt.seed, stream_id(stream_kind::trace));
  std::vector<std::size_t> order(train.size());
  std::iota(order.begin(), order.end(), std::size_t{0});

  // Synapses traced for Fig. 3b: distinct layer-2 cells chosen by the trace stream.
  std::vector<std::pair<std::size_t, std::size_t>> traced;
  std::ostringstream csv;
  if (mca && opt.traced_synapses > 0) {
    crossbar& l2 = mca->layer(1);
    while (traced.size() < static_cast<std::size_t>(opt.traced_synapses) &&
           traced.size() < l2.rows() * l2.cols()) {
      const std::pair<std::size_t, std::size_t> rc{trace_rng.below(l2.rows()),
                                                   trace_rng.below(l2.cols())};
      if (std::find(traced.begin(), traced.end(), rc) == traced.end()) traced.push_back(rc);
    }
    csv << "image,time_s";
    for (std::size_t s = 0; s < traced.size(); ++s) csv << ",gp" << s << "_us,gn" << s << "_us";
    csv << "\n";
  }
  auto trace_row = [&](uint64_t image, double now_s) {
    if (traced.empty()) return;
    csv << image << ',' << now_s;
    for (const auto& [r, c] : traced) {
      float gp, gn;
      mca->layer(1).read_cell(r, c, now_s, trace_rng, gp, gn);
      csv << ',' << gp << ',' << gn;
    }
    csv << '\n';
  };

  nlohmann::json doc;
  doc["tool"] = "mcasim";
  doc["version"] = version();
  doc["command"] = "train";
  doc["experiment"] = cfg.name;
  doc["seed"] = opt.seed;
  doc["config"] = cfg;
  doc["train_images"] = train.size();
  doc["test_images"] = test.size();
  doc["epochs"] = nlohmann::json::array();

  const uint64_t n = train.size();
  const uint64_t per_epoch_work = n + (opt.eval_train ? n : 0) + test.size();
  progress bar(cfg.name, per_epoch_work * static_cast<uint64_t>(opt.epochs), opt.progress);
  uint64_t image = 0;
  double now_s = 0.0;
  double best_test = 0.0, best_train = 0.0;
  double train_wall_s = 0.0;
  trace_row(0, now_s);
  auto before = net->counters();
  for (int epoch = 1; epoch <= opt.epochs; ++epoch) {
    net->begin_epoch(epoch, now_s);
    for (std::size_t i = n - 1; i > 0; --i) std::swap(order[i], order[shuffle_rng.below(i + 1)]);
    const auto t0 = std::chrono::steady_clock::now();
    std::size_t online_correct = 0;
    const uint64_t base = static_cast<uint64_t>(epoch - 1) * per_epoch_work;
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t idx = order[k];
      now_s = static_cast<double>(image) * cfg.image_period_s;
      online_correct += net->train(train.image(idx), train.labels[idx], now_s) == train.labels[idx];
      ++image;
      if (opt.trace_every_images > 0 &&
          image % static_cast<uint64_t>(opt.trace_every_images) == 0) {
        trace_row(image, now_s);
      }
      if ((k & 1023) == 0) bar.update(base + k, "(epoch " + std::to_string(epoch) + ")");
    }
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    train_wall_s += wall;
    const double train_acc = opt.eval_train ? evaluate(*net, train, now_s, &bar, base + n) : 0.0;
    const double test_acc = evaluate(*net, test, now_s, &bar, base + n + (opt.eval_train ? n : 0));
    best_test = std::max(best_test, test_acc);
    best_train = std::max(best_train, train_acc);
    const auto after = net->counters();
    nlohmann::json e{{"epoch", epoch},
                     {"online_train_accuracy", static_cast<double>(online_correct) / n},
                     {"test_accuracy", test_acc},
                     {"sim_time_s", now_s},
                     {"train_wall_s", wall},
                     {"train_images_per_s", wall > 0 ? n / wall : 0.0}};
    if (opt.eval_train) e["train_accuracy"] = train_acc;
    e["layers"] = nlohmann::json::array();
    uint64_t updates = 0;
    for (std::size_t l = 0; l < after.size(); ++l) {
      e["layers"].push_back(layer_json(after[l], before[l]));
      updates += after[l].weight_updates - before[l].weight_updates;
    }
    e["weight_updates"] = updates;
    before = after;
    doc["epochs"].push_back(e);
    bar.finish();
    char train_txt[32] = "-";
    if (opt.eval_train) std::snprintf(train_txt, sizeof train_txt, "%.2f%%", 100.0 * train_acc);
    std::printf("[%s] epoch %d/%d  train %s  test %.2f%%  updates %llu  %.0f img/s\n",
                cfg.name.c_str(), epoch, opt.epochs, train_txt, 100.0 * test_acc,
                static_cast<unsigned long long>(updates), n / wall);
    std::fflush(stdout);
    doc["max_test_accuracy"] = best_test;
    if (opt.eval_train) doc["max_train_accuracy"] = best_train;
    write_file_atomic(opt.out_dir + "/metrics.json", doc.dump(2) + "\n");
  }
  doc["train_wall_s"] = train_wall_s;
  doc["train_images_per_s"] = train_wall_s > 0 ? (n * opt.epochs) / train_wall_s : 0.0;

  if (mca) {
    doc["traced_synapses"] = nlohmann::json::array();
    for (const auto& [r, c] : traced)
      doc["traced_synapses"].push_back({{"layer", 2}, {"row", r}, {"col", c}});
    write_file_atomic(opt.out_dir + "/synapses.csv", csv.str());
    nlohmann::json drift = nlohmann::json::array();
    for (double dt : opt.drift_times_s) {
      net->age_to(now_s + dt);
      const double acc = evaluate(*net, test, now_s + dt, nullptr, 0);
      drift.push_back({{"after_s", dt}, {"label", drift_label(dt)}, {"test_accuracy", acc}});
      std::printf("[%s] inference %s after training: test %.2f%%\n", cfg.name.c_str(),
                  drift_label(dt).c_str(), 100.0 * acc);
    }
    doc["drift_inference"] = drift;
  }
  write_file_atomic(opt.out_dir + "/metrics.json", doc.dump(2) + "\n");
  return doc;
}

}  // namespace mcasim
