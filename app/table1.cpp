#include "app/table1.h"
#include "app/estimate.h"
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
#include "workloads/network_train.h"

namespace mcasim {
namespace {

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

// The paper's value and the deviation beside a measured cell.
void annotate(nlohmann::json& c, const paper_cell& ref) {
  const double e = c["energy_nj"].get<double>(), t = c["time_us"].get<double>();
  c["paper_energy_nj"] = ref.energy_nj;
  c["energy_dev_pct"] = 100.0 * (e - ref.energy_nj) / ref.energy_nj;
  if (!std::isnan(ref.time_us)) {
    c["paper_time_us"] = ref.time_us;
    c["time_dev_pct"] = 100.0 * (t - ref.time_us) / ref.time_us;
  }
}

}  // namespace

nlohmann::json table1_design_report(const std::string& name, const design_snapshot& snap,
                                    const technology& tech, std::size_t images) {
  const auto ref_it = k_paper.find(name);
  if (ref_it == k_paper.end()) throw std::invalid_argument("table1: unknown design '" + name + "'");
  if (images == 0) throw std::invalid_argument("table1: no measured images");
  nlohmann::json dj = design_report(name, snap, tech, images);
  const auto& ref = ref_it->second;
  for (stage s : k_all_stages) annotate(dj["stages"][stage_name(s)], ref.at(stage_name(s)));
  annotate(dj["stages"]["total"], ref.at("total"));
  if (name == "mca") {
    for (const std::string part : {"computational memory", "digital unit"}) {
      const auto& pref = k_paper.at("mca/" + part);
      for (stage s : k_all_stages) {
        annotate(dj["parts"][part][stage_name(s)], pref.at(stage_name(s)));
      }
    }
    dj["statistics"]["paper_nonzero_chi_updates_per_image"] = 2130;
    dj["statistics"]["paper_pcm_devices_programmed_per_image"] = 0.5;
  }
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
  ensure_directory(opt.out_dir);
  const std::size_t n_test =
      opt.test_images == 0 ? data.test.size() : std::min(opt.test_images, data.test.size());

  experiment_config exps[3];
  nlohmann::json effective;
  std::vector<design_run> runs;
  for (int d = 0; d < 3; ++d) {
    exps[d] = make_experiment(k_experiments[d]);
    exps[d].mlp.hidden = opt.hidden;
    if (opt.learning_rate > 0) exps[d].mlp.learning_rate = opt.learning_rate;
    exps[d] = apply(run_config{exps[d], pc, tech, {}}, o).experiment;
    exps[d].validate();
    effective[k_design_names[d]] = to_tree(run_config{exps[d], pc, tech, {}});
    runs.push_back({k_design_names[d], engine_config(exps[d])});
  }
  measure_options mo;
  mo.warmup = opt.warmup;
  mo.images = opt.images;
  mo.test_images = n_test;
  mo.seed = opt.seed;
  mo.traces = opt.traces;
  mo.progress = opt.progress;
  mo.label = "table1";
  const measurement m =
      measure_designs(perceptron_network(exps[0].mlp), runs, data.train, data.test, pc, tech, mo);
  const std::size_t n_train = opt.warmup + opt.images;

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
  doc["wall_s"] = m.wall_s;
  doc["simulated_images_per_wall_s"] = m.wall_s > 0 ? 3.0 * (n_train + n_test) / m.wall_s : 0.0;
  for (int d = 0; d < 3; ++d) {
    const std::string name = k_design_names[d];
    const design_measurement& dm = m.designs[d];
    nlohmann::json dj = table1_design_report(name, dm.snap, tech, opt.images);
    dj["experiment"] = exps[d];
    dj["learning_rate"] = exps[d].mlp.learning_rate;
    add_training_figures(dj, dm, n_train, opt.images);
    dj["test_accuracy"] = static_cast<double>(dm.test_correct) / n_test;
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
