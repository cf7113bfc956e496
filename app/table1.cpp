#include "app/table1.h"
#include "util/version.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <sstream>

#include "models/rng.h"
#include "platform/measure.h"
#include "power/ledger.h"
#include "util/io.h"
#include "util/progress.h"
#include "workloads/config_json.h"

namespace mcasim {
namespace {

const char* k_design_names[3] = {"digital32", "digital-mp", "mca"};
const char* k_experiments[3] = {"table1-digital32", "table1-digital-mp", "table1-mca"};
const stage k_all_stages[3] = {stage::forward, stage::backward, stage::update};

// The paper's Table I (energy in nJ, time in us per image) and its headline
// figures: reference values shown next to the measured ones, never used to
// compute them.
struct paper_cell {
  double energy_nj, time_us;
};
const std::map<std::string, std::map<std::string, paper_cell>> k_paper = {
    {"digital32",
     {{"forward", {5620, 7.31}},
      {"backward", {90, 0.59}},
      {"update", {8640, 15.36}},
      {"total", {14350, 23.27}}}},
    {"digital-mp",
     {{"forward", {1780, 6.41}},
      {"backward", {16, 0.13}},
      {"update", {76, 0.79}},
      {"total", {1870, 7.33}}}},
    {"mca",
     {{"forward", {16.18, 0.61}},
      {"backward", {4.88, 0.22}},
      {"update", {62.03, 1.19}},
      {"total", {83.08, 2.01}}}},
    {"mca/computational memory",
     {{"forward", {7.27, 0.26}}, {"backward", {2.15, 0.13}}, {"update", {0.05, NAN}}}},
    {"mca/digital unit",
     {{"forward", {8.91, 0.34}}, {"backward", {2.73, 0.09}}, {"update", {61.98, 1.19}}}},
};
const std::map<std::string, double> k_paper_ratios = {
    {"mca_vs_digital32_energy", 173.0},        {"mca_vs_digital32_throughput", 11.5},
    {"mca_vs_digital_mp_energy", 23.0},        {"fwd_bwd_energy_gain_vs_digital32", 271.0},
    {"fwd_bwd_speedup_vs_digital32", 9.61},    {"fwd_bwd_energy_gain_vs_digital_mp", 85.0},
    {"update_energy_gain_vs_digital32", 139.0}};

// Technology-table components of the computational memory: the tiles
// (crossbar reads, programming) and their converter banks.
bool is_cm_kind(const std::string& kind) {
  return kind == "crossbar" || kind == "pwm_dac" || kind == "adc_bank";
}

nlohmann::json cell(double energy_nj, double time_us, const paper_cell* ref) {
  nlohmann::json c{{"energy_nj", energy_nj}, {"time_us", time_us}};
  if (ref) {
    c["paper_energy_nj"] = ref->energy_nj;
    c["energy_dev_pct"] = 100.0 * (energy_nj - ref->energy_nj) / ref->energy_nj;
    if (!std::isnan(ref->time_us)) {
      c["paper_time_us"] = ref->time_us;
      c["time_dev_pct"] = 100.0 * (time_us - ref->time_us) / ref->time_us;
    }
  }
  return c;
}

}  // namespace

nlohmann::json table1_design_report(const std::string& name, const design_snapshot& snap,
                                    const technology& tech, std::size_t images) {
  if (images == 0) throw std::invalid_argument("table1: no measured images");
  const auto ref_it = k_paper.find(name);
  if (ref_it == k_paper.end()) throw std::invalid_argument("table1: unknown design '" + name + "'");
  const double per = 1.0 / static_cast<double>(images);
  const ledger led = make_ledger(snap, tech);
  nlohmann::json dj;
  double total_e = 0, total_t = 0;
  const auto& ref = ref_it->second;
  for (stage s : k_all_stages) {
    const double e = led.energy_pj(stage_name(s)) * 1e-3 * per;
    const double t = snap.stage_s[static_cast<int>(s)] * 1e6 * per;
    total_e += e;
    total_t += t;
    dj["stages"][stage_name(s)] = cell(e, t, &ref.at(stage_name(s)));
  }
  dj["stages"]["total"] = cell(total_e, total_t, &ref.at("total"));
  dj["throughput_images_per_s"] = 1e6 / total_t;
  if (name == "mca") {
    for (const std::string part : {"computational memory", "digital unit"}) {
      const auto& pref = k_paper.at("mca/" + part);
      for (stage s : k_all_stages) {
        double e = 0;
        for (const auto& entry : led.entries()) {
          const bool cm = is_cm_kind(entry.kind);
          if (entry.stage == stage_name(s) && (cm == (part == "computational memory"))) {
            e += entry.energy_pj;
          }
        }
        const double cm_busy = part_busy_s(snap, "computational memory", s);
        const double stage_t = snap.stage_s[static_cast<int>(s)];
        double t = part == "computational memory" ? cm_busy : stage_t - cm_busy;
        if (s == stage::update) t = part == "computational memory" ? cm_busy : stage_t;
        dj["parts"][part][stage_name(s)] =
            cell(e * 1e-3 * per, t * 1e6 * per, &pref.at(stage_name(s)));
      }
    }
    // The computational memory by block, per image: energy (nJ) of the PWM
    // DACs, crossbar reads, ADCs and programming pulses; busy time (us) of
    // the PWM windows (the crossbar is read during them), the ADC rounds and
    // the programming.
    for (stage s : k_all_stages) {
      const char* sn = stage_name(s);
      const double pwm = led.energy_pj(sn, "pwm_dac"), adc = led.energy_pj(sn, "adc_bank");
      double read = 0, prog = 0;
      for (const auto& entry : led.entries()) {
        if (entry.stage != sn || entry.kind != "crossbar") continue;
        (entry.action == "device_read" ? read : prog) += entry.energy_pj;
      }
      dj["parts"]["computational memory"]["split"][sn] = {
          {"pwm_nj", pwm * 1e-3 * per},
          {"crossbar_read_nj", read * 1e-3 * per},
          {"adc_nj", adc * 1e-3 * per},
          {"programming_nj", prog * 1e-3 * per},
          {"pwm_us", kind_busy_s(snap, "pwm_dac", s) * 1e6 * per},
          {"adc_us", kind_busy_s(snap, "adc_bank", s) * 1e6 * per},
          {"programming_us", kind_busy_s(snap, "crossbar", s) * 1e6 * per}};
    }
    const double nz = led.count("du_mca", "outer_product", "update") * per;
    const double pulses =
        (led.count("crossbar", "set_pulse") + led.count("crossbar", "reset_pulse")) * per;
    dj["statistics"] = {
        {"nonzero_chi_updates_per_image", nz},
        {"paper_nonzero_chi_updates_per_image", 2130},
        {"pcm_pulses_per_image", pulses},
        {"paper_pcm_devices_programmed_per_image", 0.5},
        {"devices_programmed_per_image", led.count("du_mca", "pulse_command") * per},
        {"refresh_resets_per_image", led.count("crossbar", "reset_pulse") * per},
        {"refreshed_cells_per_image", led.count("crossbar", "reset_pulse") * per / 2}};
  } else if (name == "digital-mp") {
    dj["statistics"] = {{"nonzero_weight_updates_per_image",
                         led.count("du_digital_mp", "outer_product", "update") * per}};
  }
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& e : led.entries()) {
    entries.push_back({{"component", e.component},
                       {"kind", e.kind},
                       {"stage", e.stage},
                       {"action", e.action},
                       {"count_per_image", e.count * per},
                       {"energy_pj_per_image", e.energy_pj * per}});
  }
  dj["ledger"] = entries;
  return dj;
}

nlohmann::json table1_ratios(const nlohmann::json& designs) {
  auto st = [&](const char* d, const char* s, const char* q) {
    return designs.at(d).at("stages").at(s).at(q).get<double>();
  };
  auto fb = [&](const char* d, const char* q) {
    return st(d, "forward", q) + st(d, "backward", q);
  };
  const nlohmann::json ratios{
      {"mca_vs_digital32_energy",
       st("digital32", "total", "energy_nj") / st("mca", "total", "energy_nj")},
      {"mca_vs_digital32_throughput",
       st("digital32", "total", "time_us") / st("mca", "total", "time_us")},
      {"mca_vs_digital_mp_energy",
       st("digital-mp", "total", "energy_nj") / st("mca", "total", "energy_nj")},
      {"fwd_bwd_energy_gain_vs_digital32", fb("digital32", "energy_nj") / fb("mca", "energy_nj")},
      {"fwd_bwd_speedup_vs_digital32", fb("digital32", "time_us") / fb("mca", "time_us")},
      {"fwd_bwd_energy_gain_vs_digital_mp", fb("digital-mp", "energy_nj") / fb("mca", "energy_nj")},
      {"update_energy_gain_vs_digital32",
       st("digital32", "update", "energy_nj") / st("mca", "update", "energy_nj")}};
  nlohmann::json out;
  for (auto& [k, v] : ratios.items()) {
    const double ref = k_paper_ratios.at(k);
    out[k] = {{"value", v.get<double>()},
              {"paper", ref},
              {"dev_pct", 100.0 * (v.get<double>() - ref) / ref}};
  }
  return out;
}

nlohmann::json run_table1(const mnist& data, const technology& tech, const table1_options& opt,
                          const platform_config& pc, const overrides& o) {
  if (opt.images == 0) throw std::invalid_argument("--images must be >= 1");
  const std::size_t n_train = opt.warmup + opt.images;
  if (n_train > data.train.size()) {
    throw std::invalid_argument("--warmup + --images = " + std::to_string(n_train) +
                                " exceeds the " + std::to_string(data.train.size()) +
                                " training images");
  }
  ensure_directory(opt.out_dir);
  // One shuffled order for every design (the trainer's shuffle stream).
  rng shuffle(opt.seed, stream_id(stream_kind::shuffle));
  std::vector<std::size_t> all(data.train.size());
  std::iota(all.begin(), all.end(), std::size_t{0});
  for (std::size_t i = all.size() - 1; i > 0; --i) std::swap(all[i], all[shuffle.below(i + 1)]);
  std::vector<std::size_t> order(all.begin(), all.begin() + n_train);
  const std::size_t n_test =
      opt.test_images == 0 ? data.test.size() : std::min(opt.test_images, data.test.size());
  std::vector<std::size_t> test_order(n_test);
  std::iota(test_order.begin(), test_order.end(), std::size_t{0});

  experiment_config exps[3];
  nlohmann::json effective;
  std::unique_ptr<design> designs[3];
  for (int d = 0; d < 3; ++d) {
    exps[d] = make_experiment(k_experiments[d]);
    exps[d].mlp.hidden = opt.hidden;
    if (opt.learning_rate > 0) exps[d].mlp.learning_rate = opt.learning_rate;
    exps[d] = apply(run_config{exps[d], pc, tech, {}}, o).experiment;
    effective[k_design_names[d]] = to_tree(run_config{exps[d], pc, tech, {}});
    designs[d] = make_design(k_design_names[d], exps[d], pc, opt.seed);
  }

  // Per design: warm-up images, then the measured window (counters cleared
  // first, frozen after), then the test images.
  design_snapshot snaps[3];
  std::size_t train_correct[3] = {0, 0, 0}, test_correct[3] = {0, 0, 0};
  for (int d = 0; d < 3; ++d) {
    design* ds = designs[d].get();
    std::vector<job_phase> phases(3);
    phases[0].data = &data.train;
    phases[0].order.assign(order.begin(), order.begin() + opt.warmup);
    phases[1].data = &data.train;
    phases[1].order.assign(order.begin() + opt.warmup, order.end());
    phases[1].before = [ds] { ds->clear_all_counters(); };
    phases[1].after = [ds, d, &snaps, &train_correct](std::size_t correct) {
      snaps[d] = take_snapshot(*ds);
      train_correct[d] = correct;
    };
    phases[2].data = &data.test;
    phases[2].order = test_order;
    phases[2].train = false;
    phases[2].after = [d, &test_correct](std::size_t correct) { test_correct[d] = correct; };
    ds->unit().set_job(std::move(phases));
  }

  progress bar("table1", 3 * (n_train + n_test), opt.progress);
  uint64_t done_images = 0;
  for (auto& ds : designs) {
    ds->unit().on_image([&bar, &done_images] {
      if ((++done_images & 255) == 0) bar.update(done_images);
    });
  }

  std::vector<design*> simulated;
  for (auto& ds : designs) simulated.push_back(ds.get());
  const auto t0 = std::chrono::steady_clock::now();
  simulate(simulated, opt.traces, tech);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  bar.finish();

  nlohmann::json doc;
  doc["tool"] = "mcasim";
  doc["version"] = version();
  doc["command"] = "table1";
  doc["seed"] = opt.seed;
  doc["technology"] = tech.name();
  doc["warmup_images"] = opt.warmup;
  doc["measured_images"] = opt.images;
  doc["test_images"] = n_test;
  doc["hidden"] = opt.hidden;
  doc["wall_s"] = wall;
  doc["simulated_images_per_wall_s"] = wall > 0 ? 3.0 * (n_train + n_test) / wall : 0.0;
  const double per = 1.0 / static_cast<double>(opt.images);
  for (int d = 0; d < 3; ++d) {
    const std::string name = k_design_names[d];
    nlohmann::json dj = table1_design_report(name, snaps[d], tech, opt.images);
    dj["experiment"] = exps[d];
    dj["learning_rate"] = exps[d].mlp.learning_rate;
    const double wall_s = designs[d]->unit().train_wall_s();
    dj["train_wall_s"] = wall_s;
    dj["train_images_per_wall_s"] = wall_s > 0 ? static_cast<double>(n_train) / wall_s : 0.0;
    dj["train_accuracy_measured_window"] = static_cast<double>(train_correct[d]) * per;
    dj["test_accuracy"] = static_cast<double>(test_correct[d]) / n_test;
    doc["designs"][name] = dj;
  }
  doc["ratios"] = table1_ratios(doc["designs"]);
  write_run_files(opt.out_dir, "table1", opt.seed, effective, o);
  write_file_atomic(opt.out_dir + "/table1.json", doc.dump(2) + "\n");
  write_file_atomic(opt.out_dir + "/table1.md", table1_markdown(doc));
  return doc;
}

std::string table1_markdown(const nlohmann::json& doc) {
  std::ostringstream md;
  char buf[256];
  auto fmt_cell = [&](const nlohmann::json& c, const char* q, const char* pq, const char* dq,
                      const char* unit, double scale) {
    if (!c.contains(q)) return std::string("-");
    std::snprintf(buf, sizeof buf, "%.4g %s", c[q].get<double>() * scale, unit);
    std::string s = buf;
    if (c.contains(pq)) {
      std::snprintf(buf, sizeof buf, " (paper %.4g, %+.1f%%)", c[pq].get<double>() * scale,
                    c[dq].get<double>());
      s += buf;
    }
    return s;
  };
  md << "# Table I: energy and time per training image\n\n";
  md << "Measured over " << doc["measured_images"] << " MNIST training images after "
     << doc["warmup_images"] << " warm-up images; seed " << doc["seed"] << "; technology "
     << doc["technology"].get<std::string>() << ".\n\n";
  md << "| design | quantity | forward | backward | weight update | total "
        "|\n|---|---|---|---|---|---|\n";
  auto row = [&](const std::string& label, const nlohmann::json& stages, bool total) {
    md << "| " << label << " | energy | ";
    for (const char* s : {"forward", "backward", "update"}) {
      md << fmt_cell(stages[s], "energy_nj", "paper_energy_nj", "energy_dev_pct", "nJ", 1.0)
         << " | ";
    }
    md << (total ? fmt_cell(stages["total"], "energy_nj", "paper_energy_nj", "energy_dev_pct", "nJ",
                            1.0)
                 : std::string(""))
       << " |\n|  | time | ";
    for (const char* s : {"forward", "backward", "update"}) {
      md << fmt_cell(stages[s], "time_us", "paper_time_us", "time_dev_pct", "us", 1.0) << " | ";
    }
    md << (total ? fmt_cell(stages["total"], "time_us", "paper_time_us", "time_dev_pct", "us", 1.0)
                 : std::string(""))
       << " |\n";
  };
  const auto& d = doc["designs"];
  row("32-bit digital", d["digital32"]["stages"], true);
  row("digital mixed precision", d["digital-mp"]["stages"], true);
  row("MCA: computational memory", d["mca"]["parts"]["computational memory"], false);
  row("MCA: digital unit", d["mca"]["parts"]["digital unit"], false);
  row("MCA: total", d["mca"]["stages"], true);
  // The computational memory by block: one table per quantity, a column per
  // block of `split` and their total.
  const auto& split = d["mca"]["parts"]["computational memory"]["split"];
  auto blocks = [&](const char* title, std::initializer_list<std::pair<const char*, const char*>>
                                           columns) {  // (heading, key in split)
    md << "\nMCA computational memory by block (" << title << "):\n\n| stage |";
    for (const auto& c : columns) md << " " << c.first << " |";
    md << " total |\n|---|";
    for (std::size_t k = 0; k <= columns.size(); ++k) md << "---|";
    md << "\n";
    for (const char* st : {"forward", "backward", "update"}) {
      double total = 0.0;
      md << "| " << st << " |";
      for (const auto& c : columns) {
        const double v = split[st][c.second].get<double>();
        total += v;
        std::snprintf(buf, sizeof buf, " %.4g |", v);
        md << buf;
      }
      std::snprintf(buf, sizeof buf, " %.4g |\n", total);
      md << buf;
    }
  };
  blocks("nJ per image", {{"PWM DACs", "pwm_nj"},
                          {"crossbar read", "crossbar_read_nj"},
                          {"ADCs", "adc_nj"},
                          {"programming", "programming_nj"}});
  blocks("us per image; the crossbar is read during the PWM windows",
         {{"PWM windows", "pwm_us"}, {"ADC rounds", "adc_us"}, {"programming", "programming_us"}});
  md << "\n| figure | measured | paper | deviation |\n|---|---|---|---|\n";
  for (const char* k : {"digital32", "digital-mp", "mca"}) {
    std::snprintf(buf, sizeof buf, "| throughput %s (images/s) | %.4g | | |\n", k,
                  d[k]["throughput_images_per_s"].get<double>());
    md << buf;
  }
  for (auto& [k, v] : doc["ratios"].items()) {
    std::snprintf(buf, sizeof buf, "| %s | %.3g | %.3g | %+.1f%% |\n", k.c_str(),
                  v["value"].get<double>(), v["paper"].get<double>(), v["dev_pct"].get<double>());
    md << buf;
  }
  const auto& s = d["mca"]["statistics"];
  std::snprintf(buf, sizeof buf,
                "| MCA non-zero chi updates per image | %.0f | 2130 | |\n"
                "| MCA PCM devices programmed per image | %.3f | 0.5 | |\n"
                "| MCA PCM pulses per image | %.3f | | |\n"
                "| MCA refreshed cells per image | %.4f | | |\n",
                s["nonzero_chi_updates_per_image"].get<double>(),
                s["devices_programmed_per_image"].get<double>(),
                s["pcm_pulses_per_image"].get<double>(),
                s["refreshed_cells_per_image"].get<double>());
  md << buf;
  for (const char* k : {"digital32", "digital-mp", "mca"}) {
    std::snprintf(buf, sizeof buf, "| test accuracy %s | %.2f%% | | |\n", k,
                  100.0 * d[k]["test_accuracy"].get<double>());
    md << buf;
  }
  return md.str();
}

}  // namespace mcasim
