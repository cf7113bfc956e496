#include "app/estimate.h"
#include "util/version.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <tuple>
#include <utility>

#include "models/rng.h"
#include "power/ledger.h"
#include "util/io.h"
#include "util/progress.h"
#include "workloads/config_json.h"
#include "workloads/trainer.h"

namespace mcasim {

const char* const k_design_names[3] = {"digital32", "digital-mp", "mca"};

numerics_kind design_numerics(const std::string& design) {
  if (design == "digital32") return numerics_kind::fp32;
  if (design == "digital-mp") return numerics_kind::digital_mp;
  if (design == "mca") return numerics_kind::mca;
  throw std::invalid_argument("unknown design '" + design +
                              "' (known: digital32, digital-mp, mca)");
}

namespace {

const stage k_all_stages[3] = {stage::forward, stage::backward, stage::update};

// Technology-table components of the computational memory: the tiles
// (crossbar reads, programming) and their converter banks.
bool is_cm_kind(const std::string& kind) {
  return kind == "crossbar" || kind == "pwm_dac" || kind == "adc_bank";
}

nlohmann::json cell(double energy_nj, double time_us) {
  return {{"energy_nj", energy_nj}, {"time_us", time_us}};
}

}  // namespace

measurement measure_designs(const platform_workload& w, const std::vector<design_run>& runs,
                            const dataset& train, const dataset& test, const platform_config& pc,
                            const technology& tech, const measure_options& opt) {
  if (opt.images == 0) throw std::invalid_argument("--images must be >= 1");
  const std::size_t n_train = opt.warmup + opt.images;
  if (n_train > train.size()) {
    throw std::invalid_argument("--warmup + --images = " + std::to_string(n_train) +
                                " exceeds the " + std::to_string(train.size()) +
                                " training samples");
  }
  if (opt.test_images > test.size()) {
    throw std::invalid_argument(std::to_string(opt.test_images) + " test samples requested but " +
                                std::to_string(test.size()) + " available");
  }
  // The same samples for every design: the trainer's shuffle stream picks
  // them, its augmentation (the first run's) prepares them; test samples are
  // standardised when training samples are.
  rng shuffle(opt.seed, stream_id(stream_kind::shuffle));
  std::vector<std::size_t> all(train.size());
  std::iota(all.begin(), all.end(), std::size_t{0});
  for (std::size_t i = all.size() - 1; i > 0; --i) std::swap(all[i], all[shuffle.below(i + 1)]);
  all.resize(n_train);
  const augment_config aug = runs.empty() ? augment_config() : runs[0].training.augment;
  const dataset samples = prepared_samples(train, all, aug, opt.seed);
  std::vector<std::size_t> test_order(opt.test_images);
  std::iota(test_order.begin(), test_order.end(), std::size_t{0});
  augment_config test_aug;
  test_aug.standardize = aug.standardize;
  const dataset tests = prepared_samples(test, test_order, test_aug, opt.seed);
  std::iota(all.begin(), all.end(), std::size_t{0});

  measurement m;
  m.designs.resize(runs.size());
  std::vector<std::unique_ptr<design>> designs;
  designs.reserve(runs.size());
  for (const design_run& r : runs) {
    designs.push_back(make_design(r.name, w, r.training, pc, opt.seed));
  }
  for (std::size_t d = 0; d < runs.size(); ++d) {
    design* ds = designs[d].get();
    design_measurement& dm = m.designs[d];
    std::vector<job_phase> phases(2);
    phases[0].data = &samples;
    phases[0].order.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(opt.warmup));
    phases[1].data = &samples;
    phases[1].order.assign(all.begin() + static_cast<std::ptrdiff_t>(opt.warmup),
                           all.begin() + static_cast<std::ptrdiff_t>(n_train));
    phases[1].before = [ds] { ds->clear_all_counters(); };
    phases[1].after = [ds, &dm](std::size_t correct) {
      dm.snap = take_snapshot(*ds);
      dm.train_correct = correct;
    };
    if (!test_order.empty()) {
      job_phase te;
      te.data = &tests;
      te.order = test_order;
      te.train = false;
      te.after = [&dm](std::size_t correct) { dm.test_correct = correct; };
      phases.push_back(std::move(te));
    }
    ds->unit().set_job(std::move(phases));
  }

  progress bar(opt.label, runs.size() * (n_train + test_order.size()), opt.progress);
  uint64_t done = 0;
  for (auto& ds : designs) {
    ds->unit().on_image([&bar, &done] {
      if ((++done & 63) == 0) bar.update(done);
    });
  }
  std::vector<design*> simulated;
  simulated.reserve(designs.size());
  for (auto& ds : designs) simulated.push_back(ds.get());
  const auto t0 = std::chrono::steady_clock::now();
  simulate(simulated, opt.traces, tech);
  m.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  bar.finish();
  for (std::size_t d = 0; d < runs.size(); ++d) {
    m.designs[d].train_wall_s = designs[d]->unit().train_wall_s();
  }
  return m;
}

nlohmann::json design_report(const std::string& name, const design_snapshot& snap,
                             const technology& tech, std::size_t images) {
  if (images == 0) throw std::invalid_argument("design report: no measured samples");
  const double per = 1.0 / static_cast<double>(images);
  const ledger led = make_ledger(snap, tech);
  nlohmann::json dj;
  double total_e = 0, total_t = 0;
  for (stage s : k_all_stages) {
    const double e = led.energy_pj(stage_name(s)) * 1e-3 * per;
    const double t = snap.stage_s[static_cast<int>(s)] * 1e6 * per;
    total_e += e;
    total_t += t;
    dj["stages"][stage_name(s)] = cell(e, t);
  }
  dj["stages"]["total"] = cell(total_e, total_t);
  dj["throughput_images_per_s"] = total_t > 0 ? 1e6 / total_t : 0.0;
  if (name == "mca") {
    for (const std::string part : {"computational memory", "digital unit"}) {
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
        dj["parts"][part][stage_name(s)] = cell(e * 1e-3 * per, t * 1e6 * per);
      }
    }
    // The computational memory by block, per sample: energy (nJ) of the PWM
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
    const double pulses =
        (led.count("crossbar", "set_pulse") + led.count("crossbar", "reset_pulse")) * per;
    dj["statistics"] = {
        {"nonzero_chi_updates_per_image", led.count("du_mca", "outer_product", "update") * per},
        {"pcm_pulses_per_image", pulses},
        {"devices_programmed_per_image", led.count("du_mca", "pulse_command") * per},
        {"refresh_resets_per_image", led.count("crossbar", "reset_pulse") * per},
        {"refreshed_cells_per_image", led.count("crossbar", "reset_pulse") * per / 2}};
  } else if (name == "digital-mp") {
    dj["statistics"] = {{"nonzero_weight_updates_per_image",
                         led.count("du_digital_mp", "outer_product", "update") * per}};
  }
  // Pipelined stages: per sample, the fill and drain of a batch's pipeline,
  // the steady-state time between samples, and each resource's work and
  // idle (stall) time.
  for (stage s : k_all_stages) {
    const pipeline_stats& ps = snap.pipeline[static_cast<int>(s)];
    if (ps.batches == 0) continue;
    const double b = static_cast<double>(ps.batches), n = static_cast<double>(ps.samples);
    nlohmann::json pj{{"batches", ps.batches},
                      {"fill_us_per_batch", ps.fill.to_seconds() * 1e6 / b},
                      {"drain_us_per_batch", ps.drain.to_seconds() * 1e6 / b},
                      {"time_us_per_sample", ps.time.to_seconds() * 1e6 / n}};
    pj["steady_state_us_per_sample"] =
        n > b ? (ps.time - ps.fill).to_seconds() * 1e6 / (n - b) : ps.time.to_seconds() * 1e6 / n;
    for (const auto& [r, busy] : ps.busy) {
      pj["busy_us_per_sample"][r] = busy.to_seconds() * 1e6 / n;
      pj["stall_us_per_sample"][r] = (ps.time - busy).to_seconds() * 1e6 / n;
    }
    // The first measured batch's schedule: [sample, resource, start_us, end_us].
    nlohmann::json slots = nlohmann::json::array();
    for (const auto& sl : ps.first_batch) {
      slots.push_back(
          {sl.sample, sl.resource, sl.start.to_seconds() * 1e6, sl.end.to_seconds() * 1e6});
    }
    pj["first_batch_schedule"] = slots;
    dj["pipeline"][stage_name(s)] = pj;
  }
  // By weight layer (the counts the modules attributed to the layer whose
  // work the unit issued), per stage and component, nJ per sample; what no
  // layer owns (element-wise work, the loss, the unit's clocked cycles) is
  // "network_wide".
  // [layer][(stage, kind, action)] -> (count, nJ) per sample
  using action_key = std::tuple<std::string, std::string, std::string>;
  std::vector<std::map<action_key, std::pair<double, double>>> layer_a;
  const std::size_t n_layers = std::max(snap.layer_s.size(), [&] {
    std::size_t n = 0;
    for (const auto& c : snap.layer_counts) n = std::max(n, c.layer + 1);
    return n;
  }());
  layer_a.resize(n_layers);
  for (const auto& c : snap.layer_counts) {
    auto& a = layer_a[c.layer][{c.stage, c.kind, c.action}];
    a.first += c.n * per;
    a.second += c.n * tech.energy_pj(c.kind, c.action, c.size) * 1e-3 * per;
  }
  nlohmann::json layers = nlohmann::json::array();
  std::map<std::string, double> attributed;
  for (std::size_t k = 0; k < n_layers; ++k) {
    nlohmann::json row{{"layer", k}};
    // Its energy by stage and by component, from its actions.
    std::map<std::string, double> by_stage, by_component;
    nlohmann::json actions = nlohmann::json::array();
    for (const auto& [key, v] : layer_a[k]) {
      by_stage[std::get<0>(key)] += v.second;
      by_component[std::get<1>(key)] += v.second;
      actions.push_back({{"stage", std::get<0>(key)},
                         {"component", std::get<1>(key)},
                         {"action", std::get<2>(key)},
                         {"count_per_image", v.first},
                         {"energy_nj", v.second}});
    }
    double total = 0;
    for (stage s : k_all_stages) {
      const double e = by_stage[stage_name(s)];
      row[std::string(stage_name(s)) + "_nj"] = e;
      row[std::string(stage_name(s)) + "_us"] =
          k < snap.layer_s.size() ? snap.layer_s[k][static_cast<int>(s)] * 1e6 * per : 0.0;
      attributed[stage_name(s)] += e;
      total += e;
    }
    row["total_nj"] = total;
    for (const auto& [kind, e] : by_component) row["by_component_nj"][kind] = e;
    row["actions"] = actions;
    layers.push_back(row);
  }
  dj["layers"] = layers;
  double shared_total = 0;
  for (stage s : k_all_stages) {
    const double e =
        dj["stages"][stage_name(s)]["energy_nj"].get<double>() - attributed[stage_name(s)];
    dj["network_wide"][std::string(stage_name(s)) + "_nj"] = e;
    shared_total += e;
  }
  dj["network_wide"]["total_nj"] = shared_total;
  // Silicon area of the modules that declare it (not modelled: the digital
  // units' control and registers, DRAM), by technology component.
  double area = 0;
  for (const auto& [kind, um2] : area_by_kind_um2(snap, tech)) {
    dj["area"]["by_component_mm2"][kind] = um2 * 1e-6;
    area += um2 * 1e-6;
  }
  dj["area"]["total_mm2"] = area;
  dj["dram"] = {{"read_bits_per_image", led.count("dram", "read_bit") * per},
                {"write_bits_per_image", led.count("dram", "write_bit") * per},
                {"energy_nj", led.energy_pj("", "dram") * 1e-3 * per}};
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

void add_training_figures(nlohmann::json& dj, const design_measurement& dm, std::size_t trained,
                          std::size_t predictions) {
  dj["train_wall_s"] = dm.train_wall_s;
  dj["train_images_per_wall_s"] =
      dm.train_wall_s > 0 ? static_cast<double>(trained) / dm.train_wall_s : 0.0;
  dj["train_accuracy_measured_window"] =
      static_cast<double>(dm.train_correct) * (1.0 / static_cast<double>(predictions));
}

namespace {

// Where a design keeps its weights (digital) or chi (MCA): the SRAM's
// capacity, what the network needs, and the layers that live in DRAM.
nlohmann::json memory_json(const network_spec& net, const std::string& design,
                           const platform_config& pc, std::size_t batch, std::size_t bptt) {
  const sram_config& s = pc.memory_for(design_numerics(design));
  const std::vector<bool> off = off_chip_layers(net, s.capacity_bits(), s.word_bits);
  const std::vector<std::size_t> wl = net.weight_layers();
  double need = 0;
  nlohmann::json names = nlohmann::json::array();
  for (std::size_t k = 0; k < wl.size(); ++k) {
    const layer_spec& l = net.layers[wl[k]];
    need += static_cast<double>(l.rows()) * l.cols() * s.word_bits / 8.0 / 1024.0;
    if (off[k]) names.push_back(l.name);
  }
  // The weight layers' inputs of a batch, kept from the forward pass to
  // the update (the same placement as the design's, place_activations).
  const activation_placement acts =
      place_activations(net, design_numerics(design), batch, bptt, pc);
  nlohmann::json where = {{"buffer", nlohmann::json::array()},
                          {"sram", nlohmann::json::array()},
                          {"dram", nlohmann::json::array()}};
  double act_need = 0;
  for (std::size_t k = 0; k < wl.size(); ++k) {
    act_need += static_cast<double>(acts.words[k] * batch) * 4.0 / 1024.0;
    const char* at = acts.where[k] == activation_place::buffer ? "buffer"
                     : acts.where[k] == activation_place::sram ? "sram"
                                                               : "dram";
    where[at].push_back(net.layers[wl[k]].name);
  }
  return {{"holds", design == "mca" ? "chi" : "weights"},
          {"sram_capacity_kib", s.capacity_kib},
          {"needed_kib", need},
          {"off_chip_layers", names},
          {"activations",
           {{"bits_per_value", acts.bits_per_value},
            {"batch", batch},
            {"needed_kib", act_need},
            {"buffer_kib", pc.activation_buffer_kib},
            {"sram_capacity_kib", pc.activation_sram.capacity_kib},
            {"layers", where}}}};
}

nlohmann::json mapping_json(const network_mapping& m) {
  nlohmann::json layers = nlohmann::json::array();
  for (const layer_mapping& l : m.layers) {
    layers.push_back({{"layer", l.name},
                      {"rows", l.rows},
                      {"cols", l.cols},
                      {"row_blocks", l.row_blocks},
                      {"col_blocks", l.col_blocks},
                      {"tiles", l.tiles()},
                      {"mvms_per_sample", l.mvms},
                      {"partial_sum_adds_per_sample", l.partial_sum_adds},
                      {"utilisation", l.utilisation()}});
  }
  return {{"tile_rows", m.tiles.rows},      {"tile_cols", m.tiles.cols},
          {"tile_count", m.tiles.count},    {"tiles_used", m.tiles_used()},
          {"utilisation", m.utilisation()}, {"layers", layers}};
}

}  // namespace

nlohmann::json run_estimate(const platform_workload& w, const network_run_config& training,
                            const dataset& train, const technology& tech, const platform_config& pc,
                            const estimate_options& opt, const nlohmann::json& effective,
                            const overrides& o) {
  const network_spec& net = w.layers;
  // The mapping first: a network the tiles cannot hold is refused before
  // any work.
  const network_mapping mapping = map_network(net, pc.tiles, net.steps(training.bptt));
  std::vector<design_run> runs;
  for (const char* name : k_design_names) {
    design_run r{name, training};
    r.training.numerics = design_numerics(name);
    // Refused before any design runs.
    check_uniform_numerics(r.training, name);
    runs.push_back(r);
  }
  ensure_directory(opt.out_dir);
  measure_options mo;
  mo.warmup = opt.warmup;
  mo.images = opt.images;
  mo.seed = opt.seed;
  mo.traces = opt.traces;
  mo.progress = opt.progress;
  const measurement m = measure_designs(w, runs, train, dataset(), pc, tech, mo);

  nlohmann::json doc;
  doc["tool"] = "mcasim";
  doc["version"] = version();
  doc["command"] = "estimate";
  doc["network"] = net.name;
  if (w.gan) {
    doc["gan"] = {{"generator_parameters", w.gan->generator.parameters()},
                  {"discriminator_parameters", w.gan->discriminator.parameters()},
                  {"sample",
                   "a real image: a discriminator step on it and a generated one, "
                   "a generator step through the discriminator"}};
  }
  doc["parameters"] = net.parameters();
  doc["seed"] = opt.seed;
  doc["technology"] = tech.name();
  doc["warmup_images"] = opt.warmup;
  doc["measured_images"] = opt.images;
  doc["batch"] = training.batch;
  // A recurrent network's sample is a sequence of training.bptt steps.
  doc["steps_per_sample"] = net.steps(training.bptt);
  doc["threads"] = training.threads;
  doc["wall_s"] = m.wall_s;
  const std::vector<std::size_t> wl = net.weight_layers();
  for (std::size_t d = 0; d < runs.size(); ++d) {
    const std::string& name = runs[d].name;
    nlohmann::json dj = design_report(name, m.designs[d].snap, tech, opt.images);
    dj["numerics"] = numerics_name(runs[d].training.numerics);
    // A GAN's discriminator decides on every real and as many generated samples.
    add_training_figures(dj, m.designs[d], opt.warmup + opt.images,
                         opt.images * net.steps(training.bptt) * (w.gan ? 2 : 1));
    for (auto& row : dj["layers"]) {
      const auto k = row["layer"].get<std::size_t>();
      row["layer"] = k < wl.size() ? net.layers[wl[k]].name : std::to_string(k);
    }
    dj["memory"] = memory_json(net, name, pc, runs[d].training.batch, runs[d].training.bptt);
    doc["designs"][name] = dj;
  }
  doc["mapping"] = mapping_json(mapping);
  auto total = [&](const char* d, const char* q) {
    return doc["designs"][d]["stages"]["total"][q].get<double>();
  };
  doc["ratios"] = {
      {"mca_vs_digital32_energy", total("digital32", "energy_nj") / total("mca", "energy_nj")},
      {"mca_vs_digital32_throughput", total("digital32", "time_us") / total("mca", "time_us")},
      {"mca_vs_digital_mp_energy", total("digital-mp", "energy_nj") / total("mca", "energy_nj")},
      {"mca_vs_digital_mp_throughput", total("digital-mp", "time_us") / total("mca", "time_us")}};
  write_run_files(opt.out_dir, "estimate", opt.seed, effective, o);
  write_file_atomic(opt.out_dir + "/estimate.json", doc.dump(2) + "\n");
  write_file_atomic(opt.out_dir + "/estimate.md", estimate_markdown(doc));
  return doc;
}

std::string estimate_markdown(const nlohmann::json& doc) {
  std::ostringstream md;
  char buf[256];
  md << "# Energy and time per training sample: " << doc["network"].get<std::string>() << "\n\n";
  md << "Measured over " << doc["measured_images"] << " training samples after "
     << doc["warmup_images"] << " warm-up samples (batch " << doc["batch"] << ")";
  if (doc.value("steps_per_sample", std::size_t{1}) > 1) {
    md << "; a sample is a sequence of " << doc["steps_per_sample"]
       << " steps (training.bptt), an input and a prediction per step";
  }
  md << "; seed " << doc["seed"] << "; technology " << doc["technology"].get<std::string>() << "; "
     << doc["parameters"] << " parameters.\n\n";
  md << "| design | quantity | forward | backward | weight update | total |\n"
        "|---|---|---|---|---|---|\n";
  const auto& d = doc["designs"];
  auto row = [&](const std::string& label, const nlohmann::json& stages, bool total) {
    for (const auto& [q, unit] : {std::pair<const char*, const char*>{"energy_nj", "nJ"},
                                  std::pair<const char*, const char*>{"time_us", "us"}}) {
      md << "| " << (q[0] == 'e' ? label : std::string()) << " | "
         << (q[0] == 'e' ? "energy" : "time") << " |";
      for (const char* s : {"forward", "backward", "update"}) {
        std::snprintf(buf, sizeof buf, " %.4g %s |", stages[s][q].get<double>(), unit);
        md << buf;
      }
      if (total) {
        std::snprintf(buf, sizeof buf, " %.4g %s |\n", stages["total"][q].get<double>(), unit);
      } else {
        std::snprintf(buf, sizeof buf, " |\n");
      }
      md << buf;
    }
  };
  row("32-bit digital", d["digital32"]["stages"], true);
  row("digital mixed precision", d["digital-mp"]["stages"], true);
  row("MCA: computational memory", d["mca"]["parts"]["computational memory"], false);
  row("MCA: digital unit", d["mca"]["parts"]["digital unit"], false);
  row("MCA: total", d["mca"]["stages"], true);
  md << "\nBy weight layer (nJ per sample: forward / backward / update; network-wide: the "
        "element-wise work, the loss and what no layer owns):\n\n| layer | 32-bit digital | "
        "digital mixed precision | MCA |\n|---|---|---|---|\n";
  auto split = [&](const nlohmann::json& l) {
    std::snprintf(buf, sizeof buf, "%.4g (%.4g / %.4g / %.4g)", l["total_nj"].get<double>(),
                  l["forward_nj"].get<double>(), l["backward_nj"].get<double>(),
                  l["update_nj"].get<double>());
    return std::string(buf);
  };
  const std::size_t nl = d["mca"]["layers"].size();
  for (std::size_t k = 0; k < nl; ++k) {
    md << "| " << d["mca"]["layers"][k]["layer"].get<std::string>() << " |";
    for (const char* des : k_design_names) {
      const auto& ls = d[des]["layers"];
      md << " " << (k < ls.size() ? split(ls[k]) : std::string("-")) << " |";
    }
    md << "\n";
  }
  md << "| network-wide |";
  for (const char* des : k_design_names) md << " " << split(d[des]["network_wide"]) << " |";
  md << "\n";
  md << "\nBy weight layer, time (us per sample: forward / backward / update; the unit's time on "
        "the layer's work, a pipelined stage's work items of the layer, the MCA's programming of "
        "its tiles; work that overlaps counts for each layer):\n\n| layer | 32-bit digital | "
        "digital mixed precision | MCA |\n|---|---|---|---|\n";
  for (std::size_t k = 0; k < nl; ++k) {
    md << "| " << d["mca"]["layers"][k]["layer"].get<std::string>() << " |";
    for (const char* des : k_design_names) {
      const auto& ls = d[des]["layers"];
      if (k < ls.size()) {
        std::snprintf(buf, sizeof buf, "%.4g / %.4g / %.4g", ls[k]["forward_us"].get<double>(),
                      ls[k]["backward_us"].get<double>(), ls[k]["update_us"].get<double>());
        md << " " << buf << " |";
      } else {
        md << " - |";
      }
    }
    md << "\n";
  }
  md << "\nOn-chip SRAM and DRAM (per sample):\n\n| design | holds | needed | SRAM capacity "
        "| layers in DRAM | DRAM read | DRAM written | DRAM energy |\n"
        "|---|---|---|---|---|---|---|---|\n";
  for (const char* k : k_design_names) {
    const auto& mem = d[k]["memory"];
    const auto& dr = d[k]["dram"];
    std::string layers;
    for (const auto& n : mem["off_chip_layers"])
      layers += (layers.empty() ? "" : ", ") + n.get<std::string>();
    const double cap = mem["sram_capacity_kib"].get<double>();
    std::snprintf(
        buf, sizeof buf, "| %s | %s | %.0f KiB | %s | %s | %.4g bits | %.4g bits | %.4g nJ |\n", k,
        mem["holds"].get<std::string>().c_str(), mem["needed_kib"].get<double>(),
        cap > 0 ? (std::to_string(static_cast<long long>(cap)) + " KiB").c_str() : "unbounded",
        layers.empty() ? "none" : layers.c_str(), dr["read_bits_per_image"].get<double>(),
        dr["write_bits_per_image"].get<double>(), dr["energy_nj"].get<double>());
    md << buf;
  }
  md << "\nActivations (each weight layer's inputs of a batch, written in the forward pass and "
        "read back by the update; platform.activation_buffer_kib, platform.activation_sram):\n\n"
        "| design | bits per value | needed per batch | in the unit's buffer | in the activation "
        "SRAM | in DRAM |\n|---|---|---|---|---|---|\n";
  for (const char* k : k_design_names) {
    const auto& a = d[k]["memory"]["activations"];
    auto names = [&](const char* at) {
      std::string s;
      for (const auto& n : a["layers"][at]) s += (s.empty() ? "" : ", ") + n.get<std::string>();
      return s.empty() ? std::string("none") : s;
    };
    std::snprintf(buf, sizeof buf, "| %s | %d | %.4g KiB |", k, a["bits_per_value"].get<int>(),
                  a["needed_kib"].get<double>());
    md << buf << " " << names("buffer") << " | " << names("sram") << " | " << names("dram")
       << " |\n";
  }
  const auto& mp = doc["mapping"];
  const auto tile_rows = mp["tile_rows"].get<std::size_t>();
  const std::string on = tile_rows > 0
                             ? "On tiles of " + std::to_string(tile_rows) + " x " +
                                   std::to_string(mp["tile_cols"].get<std::size_t>()) + " devices"
                             : std::string("On tiles sized to each layer");
  std::snprintf(buf, sizeof buf,
                "\n%s (platform.tiles): %zu of %zu tiles, utilisation %.1f %%.\n\n", on.c_str(),
                mp["tiles_used"].get<std::size_t>(), mp["tile_count"].get<std::size_t>(),
                100.0 * mp["utilisation"].get<double>());
  md << buf;
  md << "The simulated MCA holds every block on a tile of its own; each block's outputs go "
        "through its ADCs and the digital unit adds the partial sums (forward per sample below; "
        "the transposed reads add those of the column blocks).\n\n";
  md << "| layer | matrix | blocks | tiles | utilisation | MVMs per sample | partial-sum adds "
        "per sample |\n|---|---|---|---|---|---|---|\n";
  for (const auto& l : mp["layers"]) {
    std::snprintf(buf, sizeof buf, "| %s | %zu x %zu | %zu x %zu | %zu | %.1f %% | %zu | %zu |\n",
                  l["layer"].get<std::string>().c_str(), l["rows"].get<std::size_t>(),
                  l["cols"].get<std::size_t>(), l["row_blocks"].get<std::size_t>(),
                  l["col_blocks"].get<std::size_t>(), l["tiles"].get<std::size_t>(),
                  100.0 * l["utilisation"].get<double>(), l["mvms_per_sample"].get<std::size_t>(),
                  l["partial_sum_adds_per_sample"].get<std::size_t>());
    md << buf;
  }
  if (d["mca"].contains("pipeline")) {
    md << "\nMCA pipelined (platform.du_mca.pipelined; us):\n\n| stage | per sample | steady "
          "state per sample | fill per batch | drain per batch | bottleneck (busy per sample) "
          "|\n|---|---|---|---|---|---|\n";
    for (const auto& [st, p] : d["mca"]["pipeline"].items()) {
      std::string worst;
      double most = -1;
      for (const auto& [r, v] : p["busy_us_per_sample"].items()) {
        if (v.get<double>() > most) {
          most = v.get<double>();
          worst = r;
        }
      }
      std::snprintf(buf, sizeof buf, "| %s | %.4g | %.4g | %.4g | %.4g | %s (%.4g) |\n", st.c_str(),
                    p["time_us_per_sample"].get<double>(),
                    p["steady_state_us_per_sample"].get<double>(),
                    p["fill_us_per_batch"].get<double>(), p["drain_us_per_batch"].get<double>(),
                    worst.c_str(), most);
      md << buf;
    }
  }
  md << "\n| figure | value |\n|---|---|\n";
  for (const char* k : k_design_names) {
    std::string parts;
    for (const auto& [kind, mm2] : d[k]["area"]["by_component_mm2"].items()) {
      std::snprintf(buf, sizeof buf, "%s%s %.3g", parts.empty() ? "" : ", ", kind.c_str(),
                    mm2.get<double>());
      parts += buf;
    }
    std::snprintf(buf, sizeof buf, "| area %s (mm^2) | %.4g (%s) |\n", k,
                  d[k]["area"]["total_mm2"].get<double>(), parts.c_str());
    md << buf;
  }
  for (const char* k : k_design_names) {
    std::snprintf(buf, sizeof buf, "| throughput %s (samples/s) | %.4g |\n", k,
                  d[k]["throughput_images_per_s"].get<double>());
    md << buf;
  }
  for (auto& [k, v] : doc["ratios"].items()) {
    std::snprintf(buf, sizeof buf, "| %s | %.3g |\n", k.c_str(), v.get<double>());
    md << buf;
  }
  return md.str();
}

}  // namespace mcasim
