#include "app/sweep.h"
#include "util/version.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "util/io.h"
#include "util/progress.h"
#include "workloads/trainer.h"

namespace mcasim {
namespace {

namespace fs = std::filesystem;

// Limits: a sweep never holds more points, nor a list more values.
constexpr std::size_t k_max_points = 100000;
// JSON nested deeper is refused while parsing (it would exhaust the stack).
constexpr int k_max_depth = 64;

// A value as it appears in messages: JSON, at most 80 characters.
std::string shown(const nlohmann::json& j) {
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

// How many values a list or {"range": [start, stop, step]} holds, counted
// before anything is expanded.
std::size_t count_values(const std::string& where, const nlohmann::json& v) {
  if (v.is_array()) {
    if (v.empty()) throw sweep_error(where + ": empty list of values");
    return v.size();
  }
  if (v.is_object() && v.contains("range")) {
    const auto& r = v["range"];
    if (v.size() != 1 || !r.is_array() || r.size() != 3 || !r[0].is_number() || !r[1].is_number() ||
        !r[2].is_number() || !(r[2].get<double>() > 0)) {
      throw sweep_error(where + " = " + shown(v) +
                        ": expected {\"range\": [start, stop, step]} with step > 0");
    }
    const double a = r[0].get<double>(), b = r[1].get<double>(), s = r[2].get<double>();
    const bool ints =
        r[0].is_number_integer() && r[1].is_number_integer() && r[2].is_number_integer();
    if (ints && !(std::fabs(a) <= 9007199254740992.0 && std::fabs(b) <= 9007199254740992.0 &&
                  s <= 9007199254740992.0)) {
      throw sweep_error(where + ".range = " + shown(r) +
                        ": integer bounds and step must be within +-2^53");
    }
    const double steps = (b - a) / s + 1e-9;  // stop included, within rounding
    if (!(steps >= 0)) throw sweep_error(where + ".range = " + shown(r) + ": the range is empty");
    if (!(steps < static_cast<double>(k_max_points))) {
      throw sweep_error(where + ".range = " + shown(r) + ": more than 100,000 values");
    }
    return static_cast<std::size_t>(steps) + 1;
  }
  throw sweep_error(where + " = " + shown(v) +
                    ": expected a list of values or {\"range\": [start, stop, step]}");
}

// The values of a list or a range (count_values first).
std::vector<nlohmann::json> expand_values(const std::string& where, const nlohmann::json& v) {
  const std::size_t n = count_values(where, v);
  if (v.is_array()) return std::vector<nlohmann::json>(v.begin(), v.end());
  const auto& r = v["range"];
  const double a = r[0].get<double>(), s = r[2].get<double>();
  const bool ints =
      r[0].is_number_integer() && r[1].is_number_integer() && r[2].is_number_integer();
  std::vector<nlohmann::json> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double x = a + static_cast<double>(i) * s;
    if (ints)
      out.emplace_back(static_cast<long long>(std::llround(x)));
    else
      out.emplace_back(x);
  }
  return out;
}

// A point's key must be a key.path for --set: non-empty parts, no '='.
void check_key_path(const std::string& where, const std::string& key) {
  bool ok = !key.empty() && key.find('=') == std::string::npos && key.front() != '.' &&
            key.back() != '.' && key.find("..") == std::string::npos;
  if (!ok)
    throw sweep_error(where + ": '" + key + "' is not a key.path (e.g. experiment.mlp.hidden)");
}

std::string to_set_value(const nlohmann::json& v) {
  return v.dump();
}

// The JSON of a file (`what`: "sweep spec" or "configuration file"); every
// failure a sweep_error naming the file.
nlohmann::json read_json(const std::string& path, const char* what) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    throw sweep_error(path + ": is a directory, not a " + std::string(what));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw sweep_error(path + ": cannot open " + std::string(what));
  try {
    return nlohmann::json::parse(in, [&](int depth, nlohmann::json::parse_event_t,
                                         nlohmann::json&) {
      if (depth > k_max_depth) {
        throw sweep_error(path + ": nested deeper than " + std::to_string(k_max_depth) + " levels");
      }
      return true;
    });
  } catch (const nlohmann::json::parse_error& e) {
    throw sweep_error(path + ": not valid JSON: " + e.what());
  } catch (const nlohmann::json::exception& e) {  // e.g. a number beyond a double's range
    throw sweep_error(path + ": unusable JSON: " + e.what());
  }
}

// "base": a configuration patch, a configuration file (a path relative to
// the spec's folder) or a list of them, merged in order (later ones win).
nlohmann::json load_base(const std::string& path, const nlohmann::json& base) {
  const nlohmann::json parts = base.is_array() ? base : nlohmann::json::array({base});
  nlohmann::json merged = nlohmann::json::object();
  for (std::size_t k = 0; k < parts.size(); ++k) {
    const nlohmann::json& part = parts[k];
    const std::string where =
        path + ": base" + (base.is_array() ? "[" + std::to_string(k) + "]" : "");
    if (part.is_string()) {
      const std::string file =
          (fs::path(path).parent_path() / part.get<std::string>()).lexically_normal().string();
      const nlohmann::json cfg = read_json(file, "configuration file");
      if (!cfg.is_object()) throw sweep_error(where + ": " + file + " is not a JSON object");
      merged.merge_patch(cfg);
    } else if (part.is_object()) {
      merged.merge_patch(part);
    } else {
      throw sweep_error(where +
                        " must be an object (a configuration patch), a file name or a list "
                        "of them");
    }
  }
  return merged;
}

// "seed": one integer >= 0, a list of them or a range; no seed twice.
std::vector<uint64_t> load_seeds(const std::string& path, const nlohmann::json& j) {
  if (j.is_number_unsigned()) return {j.get<uint64_t>()};
  const std::string where = path + ": seed";
  if (!j.is_array() && !j.is_object()) {
    throw sweep_error(where + " = " + shown(j) +
                      ": expected an integer >= 0, a list of them or {\"range\": [start, stop, "
                      "step]}");
  }
  std::vector<uint64_t> seeds;
  for (const auto& v : expand_values(where, j)) {
    // A range's values are signed integers.
    const bool ok = v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
    if (!ok) throw sweep_error(where + ": " + shown(v) + " is not an integer >= 0");
    const auto seed =
        v.is_number_unsigned() ? v.get<uint64_t>() : static_cast<uint64_t>(v.get<int64_t>());
    if (std::find(seeds.begin(), seeds.end(), seed) != seeds.end()) {
      throw sweep_error(where + ": seed " + std::to_string(seed) + " appears twice");
    }
    seeds.push_back(seed);
  }
  return seeds;
}

}  // namespace

sweep_spec load_sweep_spec(const std::string& path) {
  const nlohmann::json j = read_json(path, "sweep spec");
  if (!j.is_object()) throw sweep_error(path + ": the spec must be a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    static const char* known[] = {"command", "args", "base", "grid", "zip", "seed"};
    if (std::find(std::begin(known), std::end(known), it.key()) == std::end(known)) {
      throw sweep_error(path + ": unknown key '" + it.key() +
                        "' (known: command, args, base, grid, zip, seed)");
    }
  }
  sweep_spec s;
  if (j.contains("command")) {
    if (!j["command"].is_string() ||
        (j["command"] != "table1" && j["command"] != "train" && j["command"] != "estimate")) {
      throw sweep_error(path + ": command = " + shown(j["command"]) +
                        ": allowed: table1, train, estimate");
    }
    s.command = j["command"].get<std::string>();
  } else {
    s.command = "table1";
  }
  if (j.contains("args")) {
    if (!j["args"].is_array()) throw sweep_error(path + ": args must be a list of strings");
    for (const auto& a : j["args"]) {
      if (!a.is_string()) throw sweep_error(path + ": args must be a list of strings");
      const std::string arg = a.get<std::string>();
      for (const char* own : {"--out", "--seed", "--config"}) {
        if (arg == own || arg.rfind(std::string(own) + "=", 0) == 0) {
          throw sweep_error(path + ": args must not contain " + own +
                            " (the sweep sets it per point)");
        }
      }
      s.args.push_back(arg);
    }
  }
  if (j.contains("base")) s.base = load_base(path, j["base"]);
  if (j.contains("seed")) s.seeds = load_seeds(path, j["seed"]);
  // grid: cartesian product; zip: rows. Counted first, so an enormous sweep
  // is refused before any point exists.
  for (const char* part : {"grid", "zip"}) {
    if (j.contains(part) && !j[part].is_object()) {
      throw sweep_error(path + ": " + part + " must be an object");
    }
  }
  const nlohmann::json no_lists = nlohmann::json::object();
  const nlohmann::json& grid_spec = j.contains("grid") ? j["grid"] : no_lists;
  const nlohmann::json& zip_spec = j.contains("zip") ? j["zip"] : no_lists;
  std::size_t zip_rows = 1;
  std::string zip_first;
  for (auto it = zip_spec.begin(); it != zip_spec.end(); ++it) {
    const std::size_t n = count_values(path + ": zip." + it.key(), it.value());
    if (zip_first.empty()) {
      zip_first = it.key();
      zip_rows = n;
    } else if (n != zip_rows) {
      throw sweep_error(path + ": zip lists differ in length (" + zip_first + " has " +
                        std::to_string(zip_rows) + ", " + it.key() + " has " + std::to_string(n) +
                        ")");
    }
  }
  double points = static_cast<double>(zip_rows) * static_cast<double>(s.seeds.size());
  for (auto it = grid_spec.begin(); it != grid_spec.end(); ++it) {
    points *= static_cast<double>(count_values(path + ": grid." + it.key(), it.value()));
  }
  if (points > static_cast<double>(k_max_points)) {
    char count[32];
    std::snprintf(count, sizeof count, "%.3g", points);
    throw sweep_error(path + ": grid and zip make " + std::string(count) +
                      " points; at most 100,000 are allowed");
  }
  std::vector<std::pair<std::string, std::vector<nlohmann::json>>> grid, zip;
  for (auto it = grid_spec.begin(); it != grid_spec.end(); ++it) {
    const std::string where = path + ": grid." + it.key();
    auto vals = expand_values(where, it.value());
    for (const auto& v : vals) {
      if (!v.is_object()) {
        check_key_path(path + ": grid", it.key());
        continue;
      }
      for (auto k = v.begin(); k != v.end(); ++k) check_key_path(where, k.key());
    }
    grid.emplace_back(it.key(), std::move(vals));
  }
  for (auto it = zip_spec.begin(); it != zip_spec.end(); ++it) {
    check_key_path(path + ": zip", it.key());
    zip.emplace_back(it.key(), expand_values(path + ": zip." + it.key(), it.value()));
  }
  const std::size_t total = static_cast<std::size_t>(points);
  const std::size_t per_seed = total / s.seeds.size();
  for (std::size_t n = 0; n < total; ++n) {
    sweep_point p;
    char id[32];
    std::snprintf(id, sizeof id, "p%05zu", n);
    p.id = id;
    p.values = nlohmann::json::object();
    p.seed = s.seeds[n / per_seed];
    std::size_t rest = n % per_seed;
    for (auto g = grid.rbegin(); g != grid.rend(); ++g) {
      const nlohmann::json& v = g->second[rest % g->second.size()];
      if (v.is_object()) {  // one grid step that sets several keys together
        for (auto it = v.begin(); it != v.end(); ++it) p.values[it.key()] = it.value();
      } else {
        p.values[g->first] = v;
      }
      rest /= g->second.size();
    }
    for (const auto& [k, v] : zip) p.values[k] = v[rest];
    s.points.push_back(std::move(p));
  }
  return s;
}

int run_sweep(const sweep_spec& spec, const sweep_options& opt) {
  ensure_directory(opt.out_dir + "/points");
  const std::string base_file = opt.out_dir + "/base.json";
  write_file_atomic(base_file, spec.base.dump(2) + "\n");
  nlohmann::json manifest = nlohmann::json::array();
  for (const auto& p : spec.points) manifest.push_back({{"id", p.id}, {"values", p.values}});
  write_file_atomic(opt.out_dir + "/points.json", manifest.dump(2) + "\n");

  std::vector<const sweep_point*> todo;
  std::size_t mine = 0;
  for (std::size_t i = 0; i < spec.points.size(); ++i) {
    if (static_cast<int>(i % opt.stride) != opt.offset) continue;
    ++mine;
    const auto& p = spec.points[i];
    if (fs::exists(opt.out_dir + "/points/" + p.id + "/done")) continue;
    if (i < opt.known_done.size() && opt.known_done[i]) continue;
    todo.push_back(&p);
  }
  std::printf("[sweep]%s %zu points here, %zu done before, %zu to run, %d at a time\n",
              opt.stride > 1 ? (" rank " + std::to_string(opt.offset)).c_str() : "", mine,
              mine - todo.size(), todo.size(), opt.jobs);
  std::fflush(stdout);
  std::map<pid_t, const sweep_point*> running;
  std::size_t next = 0, finished = 0;
  int failed = 0;
  const auto t0 = std::chrono::steady_clock::now();
  const bool terminal = progress::stderr_is_terminal();
  progress bar("sweep points", todo.size(), opt.progress && terminal);
  auto launch = [&](const sweep_point& p) {
    const std::string dir = opt.out_dir + "/points/" + p.id;
    // A training point stopped in flight continues from its checkpoint; any
    // other point starts again from scratch.
    const bool resume = spec.command == "train" && fs::exists(checkpoint_path(dir));
    std::vector<std::string> args{opt.exe, spec.command, "--quiet"};
    if (resume) {
      args.insert(args.end(), {"--resume", dir});
    } else {
      std::error_code ec;
      fs::remove_all(dir, ec);
      ensure_directory(dir);
      // "{point}" in an argument stands for the point's directory.
      for (std::string a : spec.args) {
        for (std::size_t at; (at = a.find("{point}")) != std::string::npos;) a.replace(at, 7, dir);
        args.push_back(a);
      }
      args.insert(args.end(),
                  {"--config", base_file, "--seed", std::to_string(p.seed), "--out", dir});
      for (auto it = p.values.begin(); it != p.values.end(); ++it) {
        args.insert(args.end(), {"--set", it.key() + "=" + to_set_value(it.value())});
      }
    }
    // Everything the child needs is prepared before fork(): it only redirects
    // its output and execs.
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log = dir + "/log.txt";
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | (resume ? O_APPEND : O_TRUNC), 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
      }
      execv(opt.exe.c_str(), argv.data());
      _exit(127);
    }
    running[pid] = &p;
  };
  while (next < todo.size() || !running.empty()) {
    while (next < todo.size() && static_cast<int>(running.size()) < opt.jobs) launch(*todo[next++]);
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) break;
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    const sweep_point& p = *it->second;
    running.erase(it);
    ++finished;
    const std::string dir = opt.out_dir + "/points/" + p.id;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      write_file_atomic(dir + "/done", "ok\n");
    } else {
      ++failed;
      std::fprintf(stderr, "[sweep] point %s failed (%s %d); its log: %s/log.txt\n", p.id.c_str(),
                   WIFEXITED(status) ? "exit" : "signal",
                   WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), dir.c_str());
    }
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double eta = finished ? el / finished * (todo.size() - finished) : 0.0;
    if (!opt.progress) continue;
    if (terminal) {
      bar.update(finished, "(" + std::to_string(running.size()) + " running, " +
                               std::to_string(failed) + " failed)");
      continue;
    }
    std::printf("[sweep] %zu/%zu points finished (%zu running, %d failed), elapsed %s, ETA %s\n",
                finished, todo.size(), running.size(), failed, format_duration(el).c_str(),
                format_duration(eta).c_str());
    std::fflush(stdout);
  }
  return failed;
}

namespace {

// Pareto front: minimise x, maximise y.
std::vector<bool> pareto(const std::vector<double>& x, const std::vector<double>& y) {
  std::vector<bool> front(x.size(), false);
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i]) || std::isnan(y[i])) continue;
    bool dominated = false;
    for (std::size_t j = 0; j < x.size() && !dominated; ++j) {
      if (j == i || std::isnan(x[j]) || std::isnan(y[j])) continue;
      dominated = x[j] <= x[i] && y[j] >= y[i] && (x[j] < x[i] || y[j] > y[i]);
    }
    front[i] = !dominated;
  }
  return front;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) return nullptr;
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error&) {
    return nullptr;
  }
}

// Every numeric metric over the seeds of each parameter set (the rows in
// the order of their first seed): how many seeds gave it, mean, sample
// standard deviation (0 for one seed), minimum and maximum.
nlohmann::json summarise_seeds(const nlohmann::json& rows, const std::vector<std::string>& cols) {
  std::vector<std::string> keys;
  std::map<std::string, std::vector<const nlohmann::json*>> groups;
  for (const auto& r : rows) {
    const std::string k = r["parameters"].dump();
    if (!groups.count(k)) keys.push_back(k);
    groups[k].push_back(&r);
  }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& k : keys) {
    const auto& group = groups[k];
    nlohmann::json seeds = nlohmann::json::array(), done = nlohmann::json::array();
    for (const auto* r : group) {
      seeds.push_back((*r)["seed"]);
      if ((*r)["status"] == "done") done.push_back((*r)["seed"]);
    }
    nlohmann::json metrics = nlohmann::json::object();
    for (const auto& c : cols) {
      std::vector<double> v;
      for (const auto* r : group) {
        const auto& m = (*r)["metrics"];
        if (m.contains(c) && m[c].is_number()) v.push_back(m[c].get<double>());
      }
      if (v.empty()) continue;
      double mean = 0.0;
      for (const double x : v) mean += x;
      mean /= static_cast<double>(v.size());
      double ss = 0.0;
      for (const double x : v) ss += (x - mean) * (x - mean);
      const double sd = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0.0;
      metrics[c] = {{"n", v.size()},
                    {"mean", mean},
                    {"sd", sd},
                    {"min", *std::min_element(v.begin(), v.end())},
                    {"max", *std::max_element(v.begin(), v.end())}};
    }
    out.push_back({{"parameters", group.front()->at("parameters")},
                   {"seeds", seeds},
                   {"seeds_done", done},
                   {"metrics", metrics}});
  }
  return out;
}

// The summary as CSV: the parameters, the seeds done, then n, mean and sd
// of every metric.
std::string summary_csv(const nlohmann::json& summary, const std::vector<std::string>& params,
                        const std::vector<std::string>& cols) {
  std::ostringstream csv;
  for (const auto& c : params) csv << c << ',';
  csv << "seeds_done";
  for (const auto& c : cols) csv << ',' << c << ".n," << c << ".mean," << c << ".sd";
  csv << '\n';
  for (const auto& g : summary) {
    for (const auto& c : params) csv << g["parameters"][c].dump() << ',';
    csv << g["seeds_done"].size();
    for (const auto& c : cols) {
      if (g["metrics"].contains(c)) {
        const auto& m = g["metrics"][c];
        csv << ',' << m["n"].dump() << ',' << m["mean"].dump() << ',' << m["sd"].dump();
      } else {
        csv << ",0,,";
      }
    }
    csv << '\n';
  }
  return csv.str();
}

}  // namespace

nlohmann::json collect_sweep(const sweep_spec& spec, const std::string& out_dir) {
  nlohmann::json rows = nlohmann::json::array();
  std::vector<std::string> metric_cols;
  for (const auto& p : spec.points) {
    const std::string dir = out_dir + "/points/" + p.id;
    nlohmann::json row{{"point", p.id}, {"seed", p.seed}, {"parameters", p.values}};
    nlohmann::json m = nlohmann::json::object();
    const bool done = fs::exists(dir + "/done");
    row["status"] = done ? "done" : (fs::exists(dir) ? "failed or unfinished" : "not run");
    // table1 and estimate: per design and stage (and accuracy, DRAM, mapping).
    auto per_design = [&m](const nlohmann::json& doc, const char* accuracy) {
      for (auto it = doc["designs"].begin(); it != doc["designs"].end(); ++it) {
        const std::string& d = it.key();
        const auto& dj = it.value();
        m[d + "." + accuracy] = dj[accuracy];
        m[d + ".throughput_images_per_s"] = dj["throughput_images_per_s"];
        for (const char* st : {"forward", "backward", "update", "total"}) {
          m[d + "." + st + ".energy_nj"] = dj["stages"][st]["energy_nj"];
          m[d + "." + st + ".time_us"] = dj["stages"][st]["time_us"];
        }
        if (dj.contains("dram")) m[d + ".dram.energy_nj"] = dj["dram"]["energy_nj"];
      }
      m["mca.nonzero_chi_updates_per_image"] =
          doc["designs"]["mca"]["statistics"]["nonzero_chi_updates_per_image"];
    };
    if (done && spec.command == "table1") {
      const auto doc = read_json(dir + "/table1.json");
      if (!doc.is_null()) per_design(doc, "test_accuracy");
    } else if (done && spec.command == "estimate") {
      const auto doc = read_json(dir + "/estimate.json");
      if (!doc.is_null()) {
        per_design(doc, "train_accuracy_measured_window");
        m["mapping.tiles_used"] = doc["mapping"]["tiles_used"];
        m["mapping.utilisation"] = doc["mapping"]["utilisation"];
      }
    } else if (done) {
      const auto doc = read_json(dir + "/metrics.json");
      if (!doc.is_null()) {
        // What the run measured; a run that diverged (a GAN's result) may
        // have no epoch, and says so.
        for (const char* k :
             {"max_test_accuracy", "min_valid_bpc", "min_frechet_distance", "diverged_at_epoch"}) {
          if (doc.contains(k)) m[k] = doc[k];
        }
        if (doc.value("status", std::string("complete")) != "complete")
          m["run_status"] = doc["status"];
        // Where the last epoch ended (e.g. whether a run left a plateau).
        if (doc.contains("epochs") && !doc["epochs"].empty()) {
          for (const char* k : {"test_accuracy", "test_loss"}) {
            if (doc["epochs"].back().contains(k))
              m[std::string("final_") + k] = doc["epochs"].back()[k];
          }
        }
        if (doc.contains("epochs") && !doc["epochs"].empty() &&
            doc["epochs"].back().contains("stages")) {
          for (const char* st : {"forward", "backward", "update", "total"}) {
            m[std::string(st) + ".energy_nj"] = doc["epochs"].back()["stages"][st]["energy_nj"];
            m[std::string(st) + ".time_us"] = doc["epochs"].back()["stages"][st]["time_us"];
          }
        }
      }
    }
    row["metrics"] = m;
    for (auto it = m.begin(); it != m.end(); ++it) {
      if (std::find(metric_cols.begin(), metric_cols.end(), it.key()) == metric_cols.end()) {
        metric_cols.push_back(it.key());
      }
    }
    rows.push_back(row);
  }
  // Pareto fronts over the MCA (table1, estimate: its accuracy on the
  // measured training samples) or the trained design (train).
  const bool designs = spec.command == "table1" || spec.command == "estimate";
  const std::string acc = spec.command == "table1"     ? "mca.test_accuracy"
                          : spec.command == "estimate" ? "mca.train_accuracy_measured_window"
                                                       : "max_test_accuracy";
  const std::string en = designs ? "mca.total.energy_nj" : "total.energy_nj";
  const std::string tm = designs ? "mca.total.time_us" : "total.time_us";
  auto col = [&](const std::string& k) {
    std::vector<double> v;
    for (const auto& r : rows) {
      v.push_back(r["metrics"].contains(k) && r["metrics"][k].is_number()
                      ? r["metrics"][k].get<double>()
                      : NAN);
    }
    return v;
  };
  const auto fe = pareto(col(en), col(acc)), ft = pareto(col(tm), col(acc));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    rows[i]["pareto_energy_accuracy"] = static_cast<bool>(fe[i]);
    rows[i]["pareto_time_accuracy"] = static_cast<bool>(ft[i]);
  }
  nlohmann::json doc{
      {"tool", "mcasim"},    {"version", version()},
      {"command", "sweep"},  {"point_command", spec.command},
      {"seeds", spec.seeds}, {"pareto_axes", {{"accuracy", acc}, {"energy", en}, {"time", tm}}},
      {"rows", rows}};
  std::ostringstream csv;
  std::vector<std::string> param_cols;
  if (!spec.points.empty()) {
    for (auto it = spec.points.front().values.begin(); it != spec.points.front().values.end();
         ++it) {
      param_cols.push_back(it.key());
    }
  }
  csv << "point,status,seed";
  for (const auto& c : param_cols) csv << ',' << c;
  for (const auto& c : metric_cols) csv << ',' << c;
  csv << ",pareto_energy_accuracy,pareto_time_accuracy\n";
  for (const auto& r : rows) {
    csv << r["point"].get<std::string>() << ',' << r["status"].get<std::string>() << ','
        << r["seed"].get<uint64_t>();
    for (const auto& c : param_cols) csv << ',' << r["parameters"][c].dump();
    for (const auto& c : metric_cols) {
      csv << ',';
      if (r["metrics"].contains(c) && !r["metrics"][c].is_null()) csv << r["metrics"][c].dump();
    }
    csv << ',' << (r["pareto_energy_accuracy"].get<bool>() ? 1 : 0) << ','
        << (r["pareto_time_accuracy"].get<bool>() ? 1 : 0) << '\n';
  }
  if (spec.seeds.size() > 1) {
    doc["summary"] = summarise_seeds(rows, metric_cols);
    write_file_atomic(out_dir + "/results_summary.csv",
                      summary_csv(doc["summary"], param_cols, metric_cols));
  }
  write_file_atomic(out_dir + "/results.csv", csv.str());
  write_file_atomic(out_dir + "/results.json", doc.dump(2) + "\n");
  return doc;
}

}  // namespace mcasim
