#include "app/platform_train.h"
#include "util/version.h"

#include <cstdio>
#include <numeric>

#include "models/rng.h"
#include "platform/measure.h"
#include "util/io.h"
#include "util/progress.h"
#include "workloads/config_json.h"

namespace mcasim {

nlohmann::json run_platform_training(const dataset& train, const dataset& test,
                                     const experiment_config& exp, const technology& tech,
                                     const platform_train_options& opt, const platform_config& pc) {
  if (opt.epochs < 1) throw std::invalid_argument("--epochs must be >= 1");
  if (train.size() == 0 || test.size() == 0) {
    throw std::invalid_argument("the training and test sets must not be empty");
  }
  if (train.pixels != exp.mlp.inputs) {
    throw std::invalid_argument("the data set has " + std::to_string(train.pixels) +
                                " pixels per image but the network has " +
                                std::to_string(exp.mlp.inputs) + " inputs");
  }
  ensure_directory(opt.out_dir);
  auto d = make_design(opt.design, exp, pc, opt.seed);

  rng shuffle(opt.seed, stream_id(stream_kind::shuffle));
  std::vector<std::size_t> order(train.size()), test_order(test.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::iota(test_order.begin(), test_order.end(), std::size_t{0});

  nlohmann::json doc;
  doc["tool"] = "mcasim";
  doc["version"] = version();
  doc["command"] = "train";
  doc["design"] = opt.design;
  doc["seed"] = opt.seed;
  doc["technology"] = tech.name();
  doc["config"] = exp;
  doc["epochs"] = nlohmann::json::array();
  double best = 0.0;

  std::vector<job_phase> phases;
  design* ds = d.get();
  auto epoch_record = std::make_shared<nlohmann::json>();
  for (int e = 1; e <= opt.epochs; ++e) {
    for (std::size_t i = order.size() - 1; i > 0; --i)
      std::swap(order[i], order[shuffle.below(i + 1)]);
    job_phase tr;
    tr.data = &train;
    tr.order = order;
    tr.before = [ds] { ds->clear_all_counters(); };
    tr.after = [ds, e, &tech, epoch_record, n = order.size()](std::size_t correct) {
      const design_snapshot snap = take_snapshot(*ds);
      const ledger led = make_ledger(snap, tech);
      nlohmann::json rec{{"epoch", e}, {"online_train_accuracy", double(correct) / n}};
      double te = 0, tt = 0;
      for (int si = 0; si < k_stages; ++si) {
        const char* sn = stage_name(static_cast<stage>(si));
        const double en = led.energy_pj(sn) * 1e-3 / n, tu = snap.stage_s[si] * 1e6 / n;
        rec["stages"][sn] = {{"energy_nj", en}, {"time_us", tu}};
        te += en;
        tt += tu;
      }
      rec["stages"]["total"] = {{"energy_nj", te}, {"time_us", tt}};
      rec["simulated_time_s"] = sc_core::sc_time_stamp().to_seconds();
      *epoch_record = rec;
    };
    job_phase te;
    te.data = &test;
    te.order = test_order;
    te.train = false;
    te.after = [&, e, epoch_record](std::size_t correct) {
      nlohmann::json rec = *epoch_record;
      rec["test_accuracy"] = double(correct) / test.size();
      best = std::max(best, rec["test_accuracy"].get<double>());
      doc["epochs"].push_back(rec);
      doc["max_test_accuracy"] = best;
      const auto& st = rec["stages"];
      std::printf(
          "[%s] epoch %d/%d  test %.2f%%  per image: forward %.4g nJ %.3g us, backward %.4g nJ "
          "%.3g us, update %.4g nJ %.3g us, total %.4g nJ %.3g us\n",
          opt.design.c_str(), e, opt.epochs, 100.0 * rec["test_accuracy"].get<double>(),
          st["forward"]["energy_nj"].get<double>(), st["forward"]["time_us"].get<double>(),
          st["backward"]["energy_nj"].get<double>(), st["backward"]["time_us"].get<double>(),
          st["update"]["energy_nj"].get<double>(), st["update"]["time_us"].get<double>(),
          st["total"]["energy_nj"].get<double>(), st["total"]["time_us"].get<double>());
      std::fflush(stdout);
      write_file_atomic(opt.out_dir + "/metrics.json", doc.dump(2) + "\n");
    };
    phases.push_back(std::move(tr));
    phases.push_back(std::move(te));
  }
  ds->unit().set_job(std::move(phases));
  progress bar(opt.design, static_cast<uint64_t>(opt.epochs) * (train.size() + test.size()),
               opt.progress);
  uint64_t done_images = 0;
  ds->unit().on_image([&bar, &done_images] {
    if ((++done_images & 255) == 0) bar.update(done_images);
  });
  simulate({ds}, opt.traces, tech);
  bar.finish();
  doc["train_images_per_wall_s"] =
      ds->unit().train_wall_s() > 0 ? ds->unit().images_done() / ds->unit().train_wall_s() : 0.0;
  write_file_atomic(opt.out_dir + "/metrics.json", doc.dump(2) + "\n");
  return doc;
}

}  // namespace mcasim
