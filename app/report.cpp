#include "app/report.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include <boost/archive/iterators/base64_from_binary.hpp>
#include <boost/archive/iterators/transform_width.hpp>
#include <nlohmann/json.hpp>

#include "util/io.h"

namespace mcasim {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) return nullptr;
  try {
    return json::parse(in);
  } catch (const json::parse_error& e) {
    throw std::invalid_argument(path + ": not valid JSON: " + e.what());
  }
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot read");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, ',')) cells.push_back(c);
    rows.push_back(cells);
  }
  return rows;
}

const char* k_colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

json dataset(const std::string& label, const json& data, int color, const std::string& type = "") {
  json d{{"label", label},
         {"data", data},
         {"borderColor", k_colors[color % 10]},
         {"backgroundColor", k_colors[color % 10]}};
  if (!type.empty()) d["type"] = type;
  return d;
}

json axis(const std::string& title, bool log = false) {
  json a{{"title", {{"display", true}, {"text", title}}}};
  if (log) a["type"] = "logarithmic";
  return a;
}

// A plot (a Chart.js configuration) or, with `html` set, pictures.
struct figure {
  std::string title, caption;
  json config;
  std::string html = {};
};

// RFC 4648 base64 of `bytes` (Boost's iterators over the input padded to
// whole 3-byte groups; the padding's characters become '=').
std::string base64(std::string bytes) {
  namespace it = boost::archive::iterators;
  using encoder = it::base64_from_binary<it::transform_width<std::string::const_iterator, 6, 8>>;
  const std::size_t pad = (3 - bytes.size() % 3) % 3;
  bytes.append(pad, '\0');
  std::string out(encoder(bytes.cbegin()), encoder(bytes.cend()));
  out.replace(out.size() - pad, pad, pad, '=');
  return out;
}

json chart(const std::string& type, const json& data, const json& scales) {
  json c;
  c["type"] = type;
  c["data"] = data;
  c["options"]["scales"] = scales;
  return c;
}

json labelled(const json& labels, const json& datasets) {
  json d;
  d["labels"] = labels;
  d["datasets"] = datasets;
  return d;
}

json points_only(const json& datasets) {
  json d;
  d["datasets"] = datasets;
  return d;
}

json xy(const json& x, const json& y) {
  json s;
  s["x"] = x;
  s["y"] = y;
  return s;
}

const std::vector<std::string> k_report_designs{"digital32", "digital-mp", "mca"};
const std::vector<std::string> k_report_stages{"forward", "backward", "update"};

// Energy and time per sample and stage of the three designs (table1.json,
// estimate.json), with the paper's Table I outlined beside the energies
// when the cells hold it.
void design_stage_figures(const json& doc, bool paper, const std::string& unit,
                          std::vector<figure>& figs) {
  const json labels = k_report_stages;
  json sets = json::array(), tsets = json::array();
  int c = 0;
  for (const auto& d : k_report_designs) {
    json e = json::array(), p = json::array(), t = json::array();
    for (const auto& st : k_report_stages) {
      const auto& cell = doc["designs"][d]["stages"][st];
      e.push_back(cell["energy_nj"]);
      p.push_back(cell.value("paper_energy_nj", 0.0));
      t.push_back(cell["time_us"]);
    }
    sets.push_back(dataset(paper ? d + " (simulated)" : d, e, c));
    if (paper) {
      json pd = dataset(d + " (paper)", p, c);
      pd["backgroundColor"] = "rgba(0,0,0,0)";
      pd["borderWidth"] = 2;
      sets.push_back(pd);
    }
    tsets.push_back(dataset(d, t, c));
    ++c;
  }
  json y_log;
  y_log["y"] = axis("energy per " + unit + " (nJ)", true);
  figs.push_back({"Energy per training " + unit + " and stage",
                  paper ? "Simulated (filled) against the paper's Table I (outlined); log scale."
                        : "Ledger of counted actions x per-action energies; log scale.",
                  chart("bar", labelled(labels, sets), y_log)});
  json t_log;
  t_log["y"] = axis("time per " + unit + " (us)", true);
  figs.push_back({"Time per training " + unit + " and stage",
                  "SystemC simulated time per " + unit + "; log scale.",
                  chart("bar", labelled(labels, tsets), t_log)});
}

// Scales of a stacked bar chart with `y` as the value axis' title.
json stacked_scales(const std::string& y) {
  json s;
  s["x"]["stacked"] = true;
  s["y"] = axis(y);
  s["y"]["stacked"] = true;
  return s;
}

void table1_figures(const json& doc, std::vector<figure>& figs) {
  design_stage_figures(doc, true, "image", figs);
  json parts = json::array();
  int pc = 0;
  for (const std::string part : {"computational memory", "digital unit"}) {
    json e = json::array();
    for (const auto& st : k_report_stages)
      e.push_back(doc["designs"]["mca"]["parts"][part][st]["energy_nj"]);
    parts.push_back(dataset(part, e, pc++));
  }
  figs.push_back({"MCA energy by part",
                  "Computational memory (tiles) and digital unit (bus, chi SRAM, logic).",
                  chart("bar", labelled(k_report_stages, parts), stacked_scales("nJ per image"))});
}

// A line per key of the epochs that have it (none: no line).
json epoch_lines(const json& doc, const std::vector<std::pair<const char*, const char*>>& keys) {
  json sets = json::array();
  int c = 0;
  for (const auto& [key, label] : keys) {
    json v = json::array();
    for (const auto& e : doc["epochs"]) v.push_back(e.contains(key) ? e[key] : json());
    if (std::any_of(v.begin(), v.end(), [](const json& x) { return !x.is_null(); })) {
      sets.push_back(dataset(label, v, c));
    }
    ++c;
  }
  return sets;
}

// A GAN run: the Frechet distance and both losses per epoch, and the grids
// of generated samples (samples/epoch_NNN.png, embedded).
void gan_figures(const std::string& dir, const json& doc, const json& epochs,
                 std::vector<figure>& figs) {
  if (!doc.contains("gan")) return;
  const json fd = epoch_lines(doc, {{"frechet_distance", "Frechet distance"}});
  if (!fd.empty()) {
    json ax;
    ax["x"] = axis("epoch");
    ax["y"] = axis("Frechet distance");
    const json c = doc.contains("fd_classifier") && doc["fd_classifier"].is_object()
                       ? doc["fd_classifier"]
                       : json::object();
    std::string floor;
    if (c.contains("real_training_images_fd")) {
      char text[96];
      std::snprintf(text, sizeof text, " As many real training images score %.2f.",
                    c["real_training_images_fd"].get<double>());
      floor = text;
    }
    figs.push_back({"Frechet distance per epoch",
                    "Paper Fig. 4g: features of generated and real test images from the "
                    "classifier " +
                        c.value("path", std::string()) + "; lower is better." + floor,
                    chart("line", labelled(epochs, fd), ax)});
  }
  json ax;
  ax["x"] = axis("epoch");
  ax["y"] = axis("loss (nats)");
  figs.push_back(
      {"Generator and discriminator loss per epoch",
       "Paper Fig. 4i: a run diverges when the discriminator's loss goes to 0 and the "
       "generator's grows.",
       chart("line",
             labelled(epochs, epoch_lines(doc, {{"generator_loss", "generator"},
                                                {"discriminator_loss", "discriminator"}})),
             ax)});
  std::string html = {};
  for (const auto& e : doc["epochs"]) {
    if (!e.contains("samples_png")) continue;
    const std::string file = e["samples_png"].get<std::string>();
    std::ifstream in(dir + "/" + file, std::ios::binary);
    if (!in) continue;
    std::ostringstream png;
    png << in.rdbuf();
    html += "<div style=\"display:inline-block;margin:4px;text-align:center\"><img alt=\"" + file +
            "\" src=\"data:image/png;base64," + base64(png.str()) +
            "\" style=\"width:140px;image-rendering:pixelated\"><br>epoch " + e["epoch"].dump() +
            "</div>";
  }
  if (!html.empty()) {
    figs.push_back({"Generated samples per epoch",
                    "Paper Fig. 4h: the generator's outputs on the same noise every epoch.", json(),
                    html});
  }
}

// A character language model: bits per character per epoch.
void bpc_figures(const json& doc, const json& epochs, std::vector<figure>& figs) {
  const json sets = epoch_lines(doc, {{"test_bpc", "test"},
                                      {"valid_bpc", "validation"},
                                      {"train_bpc", "train"},
                                      {"online_train_bpc", "train (online)"}});
  if (sets.empty()) return;
  json ax;
  ax["x"] = axis("epoch");
  ax["y"] = axis("bits per character");
  figs.push_back({"Bits per character per epoch", "Paper Fig. 4e; lower is better.",
                  chart("line", labelled(epochs, sets), ax)});
}

// mca runs: per weight layer, the mean conductance of its positive and
// negative devices at the end of every epoch, and the share near saturation.
void conductance_figures(const json& doc, const json& epochs, std::vector<figure>& figs) {
  std::vector<std::string> names;
  std::map<std::string, std::array<json, 3>> series;  // G+ mean, G- mean, high fraction
  for (const auto& e : doc["epochs"]) {
    if (!e.contains("activity")) continue;
    for (const auto& l : e["activity"]) {
      if (!l.contains("g_pos_mean_us")) continue;
      const std::string n = l["name"].get<std::string>();
      if (series.count(n) == 0) names.push_back(n);
      auto& s = series[n];
      s[0].push_back(l["g_pos_mean_us"]);
      s[1].push_back(l["g_neg_mean_us"]);
      s[2].push_back(100.0 * l["g_high_fraction"].get<double>());
    }
  }
  if (names.empty()) return;
  json g = json::array(), high = json::array();
  for (std::size_t k = 0; k < names.size(); ++k) {
    const auto& s = series[names[k]];
    g.push_back(dataset(names[k] + " G+", s[0], static_cast<int>(k)));
    json neg = dataset(names[k] + " G-", s[1], static_cast<int>(k));
    neg["borderDash"] = json::array({4, 3});
    g.push_back(neg);
    high.push_back(dataset(names[k], s[2], static_cast<int>(k)));
  }
  json ax;
  ax["x"] = axis("epoch");
  ax["y"] = axis("mean conductance (uS)");
  figs.push_back({"Device conductances per weight layer",
                  "Mean drifted conductance of the positive (solid) and negative (dashed) "
                  "devices at the end of every epoch.",
                  chart("line", labelled(epochs, g), ax)});
  json hx;
  hx["x"] = axis("epoch");
  hx["y"] = axis("devices near saturation (%)");
  figs.push_back({"Devices near saturation per weight layer",
                  "Share of a layer's devices at or above 0.9 g_max (they take no more SETs "
                  "until a refresh).",
                  chart("line", labelled(epochs, high), hx)});
}

void train_figures(const std::string& dir, const json& doc, std::vector<figure>& figs) {
  json epochs = json::array(), test = json::array(), train = json::array();
  std::vector<json> layer_updates;
  std::vector<std::string> layer_names;
  for (const auto& e : doc["epochs"]) {
    epochs.push_back(e["epoch"]);
    test.push_back(100.0 * e["test_accuracy"].get<double>());
    if (e.contains("train_accuracy")) train.push_back(100.0 * e["train_accuracy"].get<double>());
    if (e.contains("layers")) {
      for (std::size_t l = 0; l < e["layers"].size(); ++l) {
        if (layer_updates.size() <= l) {
          layer_updates.emplace_back(json::array());
          layer_names.push_back(e["layers"][l].value("name", "layer " + std::to_string(l + 1)));
        }
        layer_updates[l].push_back(
            std::max<uint64_t>(1, e["layers"][l]["weight_updates"].get<uint64_t>()));
      }
    }
  }
  json acc = json::array({dataset("test", test, 0)});
  if (!train.empty()) acc.push_back(dataset("train", train, 1));
  // Network runs name their network and numerics.
  const bool gan = doc.contains("gan") && doc["gan"].is_object();
  const char* const key = gan ? "gan" : "network";
  const std::string network =
      doc.contains(key) && doc[key].is_object()
          ? doc[key].value("name", std::string(key)) + ", " + doc.value("numerics", std::string())
          : std::string("run");
  const std::string name = doc.value("experiment", doc.value("design", network));
  const bool paper = !doc.contains("network") && !gan;
  json acc_axes;
  acc_axes["x"] = axis("epoch");
  acc_axes["y"] = axis("accuracy (%)");
  figs.push_back({"Accuracy per epoch (" + name + ")",
                  paper ? "Paper Fig. 3d."
                  : gan ? "The discriminator's accuracy on real and as many generated samples."
                        : "Test and training accuracy per epoch.",
                  chart("line", labelled(epochs, acc), acc_axes)});
  if (!layer_updates.empty()) {
    json sets = json::array();
    for (std::size_t l = 0; l < layer_updates.size(); ++l) {
      sets.push_back(dataset(layer_names[l], layer_updates[l], static_cast<int>(l)));
    }
    json ax;
    ax["x"] = axis("epoch");
    ax["y"] = axis("updates", true);
    figs.push_back({"Weight or device updates per epoch",
                    paper ? "Paper Fig. 3c; log scale." : "Per weight layer; log scale.",
                    chart("line", labelled(epochs, sets), ax)});
  }
  gan_figures(dir, doc, epochs, figs);
  bpc_figures(doc, epochs, figs);
  conductance_figures(doc, epochs, figs);
  if (doc.contains("drift_inference")) {
    json pts = json::array();
    for (const auto& d : doc["drift_inference"]) {
      pts.push_back(xy(d["after_s"], 100.0 * d["test_accuracy"].get<double>()));
    }
    json ds = dataset("test accuracy", pts, 0);
    ds["showLine"] = true;
    json ax;
    ax["x"] = axis("time after training (s)", true);
    ax["y"] = axis("accuracy (%)");
    figs.push_back({"Inference after drift", "Paper Fig. 3e: test accuracy re-read after training.",
                    chart("scatter", points_only(json::array({ds})), ax)});
  }
  const auto csv = read_csv(dir + "/synapses.csv");
  if (csv.size() > 1) {
    json sets = json::array();
    const std::size_t step = std::max<std::size_t>(1, (csv.size() - 1) / 2000);  // <= 2,000 points
    for (std::size_t col = 2; col < csv[0].size(); ++col) {
      json pts = json::array();
      for (std::size_t r = 1; r < csv.size(); r += step) {
        if (csv[r].size() > col) pts.push_back(xy(std::stod(csv[r][0]), std::stod(csv[r][col])));
      }
      json ds = dataset(csv[0][col], pts, static_cast<int>((col - 2) / 2));
      ds["showLine"] = true;
      ds["pointRadius"] = 0;
      if (col % 2 == 1) ds["borderDash"] = json::array({4, 3});
      sets.push_back(ds);
    }
    json ax;
    ax["x"] = axis("training image");
    ax["y"] = axis("conductance (uS)");
    figs.push_back({"Conductance evolution of traced synapses",
                    "Paper Fig. 3b: Gp (solid) and Gn (dashed) of layer-2 synapses, noisy reads.",
                    chart("scatter", points_only(sets), ax)});
  }
  if (!doc["epochs"].empty() && doc["epochs"][0].contains("stages")) {
    json sets = json::array();
    int c = 0;
    for (const char* st : {"forward", "backward", "update"}) {
      json e = json::array();
      for (const auto& ep : doc["epochs"]) e.push_back(ep["stages"][st]["energy_nj"]);
      sets.push_back(dataset(st, e, c++));
    }
    json ax;
    ax["x"] = axis("epoch");
    ax["y"] = axis("nJ per image", true);
    figs.push_back({"Energy per image and stage over training", "Platform run: ledger per epoch.",
                    chart("line", labelled(epochs, sets), ax)});
  }
}

void characterize_figures(const std::string& dir, std::vector<figure>& figs) {
  const auto csv = read_csv(dir + "/characterization.csv");
  json pulses = json::array(), mean = json::array(), lo = json::array(), hi = json::array(),
       model = json::array();
  for (std::size_t r = 1; r < csv.size(); ++r) {
    const double m = std::stod(csv[r][1]), sd = std::stod(csv[r][2]);
    pulses.push_back(std::stoi(csv[r][0]));
    mean.push_back(m);
    lo.push_back(m - sd);
    hi.push_back(m + sd);
    model.push_back(std::stod(csv[r][5]));
  }
  json sd_lo = dataset("mean - std", lo, 0), sd_hi = dataset("mean + std", hi, 0);
  sd_lo["borderDash"] = json::array({4, 3});
  sd_hi["borderDash"] = json::array({4, 3});
  json ax;
  ax["x"] = axis("SET pulses");
  ax["y"] = axis("G (uS)");
  figs.push_back({"Conductance after SET pulses", "Paper Fig. 2a: mean and standard deviation.",
                  chart("line",
                        labelled(pulses, json::array({dataset("mean", mean, 0), sd_lo, sd_hi,
                                                      dataset("noise-free path", model, 1)})),
                        ax)});
  const auto hist = read_csv(dir + "/distribution.csv");
  json bins = json::array(), counts = json::array();
  for (std::size_t r = 1; r < hist.size(); ++r) {
    bins.push_back(hist[r][0]);
    counts.push_back(std::stoul(hist[r][2]));
  }
  json hx;
  hx["x"] = axis("G bin start (uS)");
  hx["y"] = axis("devices");
  figs.push_back({"Conductance distribution", "Paper Fig. 2b: after the histogram pulse.",
                  chart("bar", labelled(bins, json::array({dataset("devices", counts, 0)})), hx)});
}

// Accuracy and energy against the first varying parameter; parameters that
// co-vary with it (one value per x) are folded into x, the others give one
// series per combination.
void sweep_parameter_figures(const json& doc, const std::string& acc, const std::string& en,
                             std::vector<figure>& figs) {
  const auto& rows = doc["rows"];
  if (rows.empty()) return;
  std::vector<std::string> varying;
  for (auto it = rows[0]["parameters"].begin(); it != rows[0]["parameters"].end(); ++it) {
    for (const auto& r : rows) {
      if (r["parameters"][it.key()] != it.value()) {
        varying.push_back(it.key());
        break;
      }
    }
  }
  if (varying.empty()) return;
  const std::string x = varying.front();
  auto determined_by_x = [&](const std::string& k) {
    std::map<std::string, json> seen;
    for (const auto& r : rows) {
      const std::string xv = r["parameters"][x].dump();
      const auto f = seen.find(xv);
      if (f == seen.end())
        seen[xv] = r["parameters"][k];
      else if (f->second != r["parameters"][k])
        return false;
    }
    return true;
  };
  std::vector<std::string> series_keys;
  for (std::size_t i = 1; i < varying.size(); ++i) {
    if (!determined_by_x(varying[i])) series_keys.push_back(varying[i]);
  }
  // Keys that co-vary with each other within the series keys give one label;
  // a sweep over several seeds draws one line per seed.
  const bool several_seeds = doc.contains("seeds") && doc["seeds"].size() > 1;
  std::map<std::string, std::pair<json, json>> series;  // label -> (acc points, energy points)
  std::vector<std::string> order;
  for (const auto& r : rows) {
    const auto& m = r["metrics"];
    if (!m.contains(acc) || !m[acc].is_number()) continue;
    std::string label;
    for (const auto& k : series_keys) {
      label += (label.empty() ? "" : ", ") + k.substr(k.rfind('.') + 1) + "=" +
               r["parameters"][k].dump();
    }
    if (several_seeds) label += (label.empty() ? "" : ", ") + ("seed=" + r["seed"].dump());
    if (label.empty()) label = "all points";
    if (!series.count(label)) {
      series[label] = {json::array(), json::array()};
      order.push_back(label);
    }
    series[label].first.push_back(xy(r["parameters"][x], 100.0 * m[acc].get<double>()));
    if (m.contains(en)) series[label].second.push_back(xy(r["parameters"][x], m[en]));
  }
  json acc_sets = json::array(), en_sets = json::array();
  for (std::size_t i = 0; i < order.size(); ++i) {
    json a = dataset(order[i], series[order[i]].first, static_cast<int>(i));
    json e = dataset(order[i], series[order[i]].second, static_cast<int>(i));
    a["showLine"] = e["showLine"] = true;
    acc_sets.push_back(a);
    en_sets.push_back(e);
  }
  json ax;
  ax["x"] = axis(x);
  ax["y"] = axis("test accuracy (%)");
  const std::string per_line = several_seeds
                                   ? "One line per seed and value of the other parameters."
                                   : "One line per value of the other parameters.";
  figs.push_back(
      {"Sweep: test accuracy vs " + x, per_line, chart("scatter", points_only(acc_sets), ax)});
  json ex;
  ex["x"] = axis(x);
  ex["y"] = axis(en);
  figs.push_back(
      {"Sweep: energy per image vs " + x, per_line, chart("scatter", points_only(en_sets), ex)});
}

void sweep_figures(const json& doc, std::vector<figure>& figs) {
  const std::string acc = doc["pareto_axes"]["accuracy"], en = doc["pareto_axes"]["energy"],
                    tm = doc["pareto_axes"]["time"];
  sweep_parameter_figures(doc, acc, en, figs);
  const std::vector<std::tuple<std::string, std::string, std::string>> views{
      {en, "pareto_energy_accuracy", "energy per image (nJ)"},
      {tm, "pareto_time_accuracy", "time per image (us)"}};
  for (const auto& [axis_key, front_key, label] : views) {
    json all = json::array(), front = json::array();
    for (const auto& r : doc["rows"]) {
      const auto& m = r["metrics"];
      if (!m.contains(axis_key) || !m.contains(acc) || !m[acc].is_number()) continue;
      const json p = xy(m[axis_key], 100.0 * m[acc].get<double>());
      all.push_back(p);
      if (r[front_key].get<bool>()) front.push_back(p);
    }
    std::sort(front.begin(), front.end(), [](const json& a, const json& b) {
      return a["x"].get<double>() < b["x"].get<double>();
    });
    json f = dataset("Pareto front", front, 1);
    f["showLine"] = true;
    json ax;
    ax["x"] = axis(label);
    ax["y"] = axis("test accuracy (%)");
    figs.push_back(
        {"Sweep: " + label + " vs test accuracy", "Every point and the Pareto front.",
         chart("scatter", points_only(json::array({dataset("points", all, 0), f})), ax)});
  }
}

std::string escape_html(const std::string& s) {
  std::string o;
  for (char ch : s) {
    if (ch == '<')
      o += "&lt;";
    else if (ch == '>')
      o += "&gt;";
    else if (ch == '&')
      o += "&amp;";
    else
      o += ch;
  }
  return o;
}

// "mcasim VERSION, seed S": what made the results. Not their location, so
// the same run gives the same page wherever its directory is.
std::string provenance(const json& doc) {
  std::string out = "mcasim";
  if (doc.is_object()) {
    if (doc.contains("version") && doc["version"].is_string())
      out += " " + doc["version"].get<std::string>();
    if (doc.contains("seed")) out += ", seed " + doc["seed"].dump();
  }
  return out;
}

}  // namespace

// estimate.json: the designs per stage, the MCA's energy by weight layer
// (stacked by stage), the tiles' utilisation, and DRAM energy when any.
void estimate_figures(const json& doc, std::vector<figure>& figs) {
  design_stage_figures(doc, false, "sample", figs);
  json layers = json::array();
  for (const auto& l : doc["designs"]["mca"]["layers"]) layers.push_back(l["layer"]);
  json sets = json::array();
  int c = 0;
  for (const auto& st : k_report_stages) {
    json e = json::array();
    for (const auto& l : doc["designs"]["mca"]["layers"]) e.push_back(l[st + "_nj"]);
    sets.push_back(dataset(st, e, c++));
  }
  figs.push_back(
      {"MCA energy by weight layer",
       "What each layer's work cost per stage: its tile (PWM DACs, crossbar reads, ADCs, "
       "programming), its bus transfers and chi updates; network-wide work not "
       "included.",
       chart("bar", labelled(layers, sets), stacked_scales("nJ per sample"))});
  json util = json::array(), tiles = json::array(), names = json::array();
  for (const auto& l : doc["mapping"]["layers"]) {
    names.push_back(l["layer"]);
    util.push_back(100.0 * l["utilisation"].get<double>());
    tiles.push_back(l["tiles"]);
  }
  json sc;
  sc["y"] = axis("devices used (%)");
  sc["y1"] = axis("tiles");
  sc["y1"]["position"] = "right";
  json us = json::array({dataset("utilisation (%)", util, 0), dataset("tiles", tiles, 1, "line")});
  us[1]["yAxisID"] = "y1";
  const auto& m = doc["mapping"];
  figs.push_back({"Tiles and their utilisation by weight layer",
                  "The network on " + std::to_string(m["tile_rows"].get<std::size_t>()) + " x " +
                      std::to_string(m["tile_cols"].get<std::size_t>()) +
                      " tiles: " + std::to_string(m["tiles_used"].get<std::size_t>()) + " of " +
                      std::to_string(m["tile_count"].get<std::size_t>()) + " used.",
                  chart("bar", labelled(names, us), sc)});
  // A pipelined forward stage: the first samples of the first measured batch
  // on every resource (a Gantt chart, one row per resource).
  const json& mca = doc["designs"]["mca"];
  if (mca.contains("pipeline") && mca["pipeline"].contains("forward") &&
      !mca["pipeline"]["forward"]["first_batch_schedule"].empty()) {
    const json& slots = mca["pipeline"]["forward"]["first_batch_schedule"];
    json rows = json::array();
    for (const auto& sl : slots) {
      if (std::find(rows.begin(), rows.end(), sl[1]) == rows.end()) rows.push_back(sl[1]);
    }
    json sets = json::array();
    const std::size_t shown = 4;
    for (std::size_t s = 0; s < shown; ++s) {
      json pts = json::array();
      for (const auto& sl : slots) {
        if (sl[0].get<std::size_t>() == s) pts.push_back({{"y", sl[1]}, {"x", {sl[2], sl[3]}}});
      }
      if (pts.empty()) break;
      json ds = dataset("sample " + std::to_string(s), pts, static_cast<int>(s));
      ds["grouped"] = false;
      sets.push_back(ds);
    }
    json sc;
    sc["x"] = axis("us from the start of the batch's forward stage");
    sc["y"]["type"] = "category";
    sc["y"]["labels"] = rows;
    json cfg = chart("bar", points_only(sets), sc);
    cfg["options"]["indexAxis"] = "y";
    figs.push_back({"Pipelined forward stage: the first samples of a batch",
                    "Each sample's work items on the tiles, the bus and the unit's datapath, "
                    "scheduled in sample order (platform.du_mca.pipelined); the first " +
                        std::to_string(shown) + " samples of the first measured batch.",
                    cfg});
  }
  json dram = json::array(), dlabels = json::array();
  double any = 0;
  for (const auto& d : k_report_designs) {
    dlabels.push_back(d);
    const double e = doc["designs"][d].contains("dram")
                         ? doc["designs"][d]["dram"]["energy_nj"].get<double>()
                         : 0.0;
    dram.push_back(e);
    any += e;
  }
  if (any > 0) {
    json y;
    y["y"] = axis("nJ per sample");
    figs.push_back({"DRAM energy per sample",
                    "Weights (digital designs) or chi (MCA) of the layers that do not fit in the "
                    "on-chip SRAM.",
                    chart("bar", labelled(dlabels, json::array({dataset("DRAM", dram, 3)})), y)});
  }
}

int write_report(const std::string& dir, const std::string& chartjs_path) {
  std::vector<figure> figs;
  std::string kind;
  json doc;  // the result document: its version and seed head the page
  if (const json t1 = read_json(dir + "/table1.json"); !t1.is_null()) {
    kind = "Table I";
    table1_figures(t1, figs);
    doc = t1;
  } else if (const json es = read_json(dir + "/estimate.json"); !es.is_null()) {
    kind = "estimate";
    estimate_figures(es, figs);
    doc = es;
  } else if (const json sw = read_json(dir + "/results.json"); !sw.is_null()) {
    kind = "sweep";
    sweep_figures(sw, figs);
    doc = sw;
  } else if (const json m = read_json(dir + "/metrics.json"); !m.is_null()) {
    kind = "training";
    train_figures(dir, m, figs);
    doc = m;
  } else if (fs::exists(dir + "/characterization.csv")) {
    kind = "characterization";
    characterize_figures(dir, figs);
    doc = read_json(dir + "/characterization.json");
  } else {
    throw std::invalid_argument(dir +
                                ": no table1.json, estimate.json, results.json, metrics.json or "
                                "characterization.csv to report on");
  }
  const std::string lib = slurp(chartjs_path);
  std::ostringstream html;
  html << "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>mcasim " << kind
       << " report</title>\n<style>body{font-family:sans-serif;max-width:1000px;margin:auto}"
          "figure{margin:2em 0}figcaption{color:#555}</style>\n<script>"
       << lib << "</script>\n</head><body>\n<h1>mcasim " << kind << " report</h1>\n<p>"
       << escape_html(provenance(doc)) << "</p>\n";
  json configs = json::array();
  for (std::size_t i = 0; i < figs.size(); ++i) {
    if (!figs[i].html.empty()) {
      html << "<figure><h2>" << escape_html(figs[i].title) << "</h2><div>" << figs[i].html
           << "</div><figcaption>" << escape_html(figs[i].caption) << "</figcaption></figure>\n";
      continue;
    }
    html << "<figure><h2>" << escape_html(figs[i].title) << "</h2><canvas id=\"fig"
         << configs.size() << "\" height=\"120\"></canvas><figcaption>"
         << escape_html(figs[i].caption) << "</figcaption></figure>\n";
    configs.push_back(figs[i].config);
  }
  std::string data = configs.dump();
  for (std::size_t p = 0; (p = data.find("</", p)) != std::string::npos;)
    data.replace(p, 2, "<\\/");
  html << "<p id=\"status\">rendering</p>\n<script>\nconst configs = " << data << ";\n"
       << "let drawn = 0;\n"
          "configs.forEach((c, i) => { c.options = c.options || {}; c.options.animation = false;\n"
          "  new Chart(document.getElementById('fig' + i), c); drawn++; });\n"
          "document.getElementById('status').textContent = 'rendered ' + drawn + ' of ' + "
          "configs.length + ' plots';\n</script>\n</body></html>\n";
  write_file_atomic(dir + "/report.html", html.str());
  return static_cast<int>(figs.size());
}

}  // namespace mcasim
