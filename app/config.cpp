#include "app/config.h"
#include "util/version.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "util/io.h"
#include "util/library_env.h"
#include "workloads/config_json.h"

namespace mcasim {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(digital_unit_config, kind, clock_mhz,
                                                quantize_lanes, activation_lanes, derivative_lanes,
                                                error_lanes, op_latency_cycles, outer_product_lanes,
                                                partial_sum_lanes, pipelined)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(sram_config, word_bits, banks, ports, clock_mhz,
                                                latency_cycles, capacity_kib)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(dram_config, bandwidth_gbps, latency_ns)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(mac_array_config, lanes_in, lanes_out, precision,
                                                clock_mhz, pipeline_cycles)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(bus_config, width_bits, clock_mhz, latency_cycles)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(pwm_dac_config, converters, cycles_per_level)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(adc_bank_config, converters, columns_per_adc,
                                                cycles_per_conversion)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(crossbar_array_config, pulse_ns,
                                                parallel_programming)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(cm_tile_config, clock_mhz, pwm, array, adc)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(tile_array_config, rows, cols, count)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(platform_config, du_digital32, du_digital_mp,
                                                du_mca, weight_sram32, weight_sram_mp, chi_sram,
                                                mac32, mac_mp, bus, tile, tiles, dram,
                                                activation_buffer_kib, activation_sram)

namespace {

// Values an enumerated key accepts (the JSON binding would silently map an
// unknown string to the first value).
const std::vector<std::pair<std::string, std::vector<std::string>>> k_enums = {
    {"synapse", {"differential", "single_ref"}},
    {"hidden_activation", {"sigmoid", "relu"}},
    {"loss", {"mse", "l2svm"}},
    {"machine", {"fp64", "mca", "digital"}},
    {"kind", {"fixed32", "mixed"}},
    {"numerics", {"fp32", "mca", "digital-mp"}},
    {"conv_update", {"mean", "sum"}},
};

// A value as it appears in messages: JSON, at most 80 characters.
std::string shown(const nlohmann::json& j) {
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

std::string type_name(const nlohmann::json& j) {
  if (j.is_boolean()) return "a boolean";
  if (j.is_number_integer() || j.is_number_unsigned()) return "an integer";
  if (j.is_number()) return "a number";
  if (j.is_string()) return "a string";
  if (j.is_array()) return "a list";
  if (j.is_object()) return "an object";
  return "null";
}

// A whole number written with a fraction or exponent (2.0, 1e3) is an integer.
bool is_whole(const nlohmann::json& v) {
  if (!v.is_number_float()) return false;
  const double d = v.get<double>();
  return std::isfinite(d) && d == std::trunc(d);
}

// "nan", "-Infinity", ...: a number JSON cannot hold, given as a bare word.
bool names_a_non_finite(const nlohmann::json& v) {
  if (!v.is_string()) return false;
  std::string w = v.get<std::string>();
  if (!w.empty() && (w[0] == '+' || w[0] == '-')) w.erase(0, 1);
  for (char& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return w == "nan" || w == "inf" || w == "infinity";
}

bool same_kind(const nlohmann::json& want, const nlohmann::json& got) {
  if (want.is_number_integer() || want.is_number_unsigned()) {
    return got.is_number_integer() || got.is_number_unsigned() || is_whole(got);
  }
  if (want.is_number()) return got.is_number();
  if (want.is_array()) return got.is_array();
  return want.type() == got.type();
}

void check_enum(const std::string& path, const std::string& key, const nlohmann::json& v) {
  // A weight layer's numerics may also be empty: the run's.
  if (key == "numerics" && path.rfind("training.layers.", 0) == 0 && v.is_string() &&
      v.get<std::string>().empty()) {
    return;
  }
  for (const auto& [name, allowed] : k_enums) {
    if (name != key || !v.is_string()) continue;
    for (const auto& a : allowed) {
      if (a == v.get<std::string>()) return;
    }
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    throw config_error(path + " = " + shown(v) + ": allowed values: " + list);
  }
}

// Merges `patch` into `tree`, refusing keys and types the tree does not have.
void merge_strict(nlohmann::json& tree, const nlohmann::json& patch, const std::string& path) {
  if (!patch.is_object()) {
    throw config_error((path.empty() ? std::string("configuration") : path) + " = " + shown(patch) +
                       ": must be an object");
  }
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    const std::string& key = it.key();
    const std::string p = path.empty() ? key : path + "." + key;
    // The technology's energy, area and scaling tables may gain entries
    // (new components, actions, units, rules).
    const auto in_table = [&path](const std::string& table) {
      return path == table || path.rfind(table + ".", 0) == 0;
    };
    const bool energy_table = in_table("technology.energy_pj") || in_table("technology.area_um2") ||
                              in_table("technology.energy_scaling");
    // Per-layer numerics are keyed by the network's layer names: an entry
    // is made on first use, and its numerics is a key even when empty (the
    // run's; the JSON form writes it only when set).
    if (path == "training.layers") {
      nlohmann::json& layer = tree[key];
      if (layer.is_null()) layer = layer_numerics{};
      if (layer.is_object() && !layer.contains("numerics")) layer["numerics"] = "";
      merge_strict(layer, it.value(), p);
      continue;
    }
    if (!tree.contains(key)) {
      if (energy_table) {
        tree[key] = it.value();
        continue;
      }
      std::string known;
      for (auto k = tree.begin(); k != tree.end(); ++k)
        known += (known.empty() ? "" : ", ") + k.key();
      throw config_error("unknown key '" + p + "' (known keys here: " + known + ")");
    }
    nlohmann::json& target = tree[key];
    if (target.is_object()) {
      merge_strict(target, it.value(), p);
      continue;
    }
    if (!same_kind(target, it.value())) {
      throw config_error(p + " = " + shown(it.value()) + ": must be " + type_name(target) +
                         (target.is_number() && names_a_non_finite(it.value())
                              ? " (JSON has no NaN or Infinity; every number must be finite)"
                              : ""));
    }
    if (target.is_array()) {
      for (const auto& e : it.value()) {
        if (!target.empty() && !same_kind(target.front(), e)) {
          throw config_error(p + " = " + shown(it.value()) + ": every element must be " +
                             type_name(target.front()));
        }
      }
    }
    check_enum(p, key, it.value());
    if ((target.is_number_integer() || target.is_number_unsigned()) && is_whole(it.value())) {
      // An integer key given as 2.0 or 1e3: stored as an integer when it can be one.
      const double d = it.value().get<double>();
      if (!(d > -9.2e18 && d < 9.2e18)) {
        throw config_error(p + " = " + shown(it.value()) + ": out of range for an integer");
      }
      target = static_cast<int64_t>(d);
      continue;
    }
    target = it.value();
  }
}

// Deeper JSON is refused while parsing: the tree is 5 levels deep, and
// nesting without bound would only exhaust the stack later.
constexpr int k_max_depth = 64;

// Parses JSON; throws config_error naming `origin`. A parse error is passed
// on as is when `syntax_errors` is false (a --set value that is a bare word).
template <typename Input>
nlohmann::json parse_json(const std::string& origin, Input&& input, bool syntax_errors = true) {
  const auto limit_depth = [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth > k_max_depth) {
      throw config_error(origin + ": nested deeper than " + std::to_string(k_max_depth) +
                         " levels");
    }
    return true;
  };
  try {
    return nlohmann::json::parse(std::forward<Input>(input), limit_depth);
  } catch (const nlohmann::json::parse_error& e) {
    if (!syntax_errors) throw;
    throw config_error(origin + ": not valid JSON: " + e.what());
  } catch (const nlohmann::json::out_of_range& e) {  // a number beyond a double's range
    throw config_error(origin + ": unusable number: " + e.what());
  }
}

nlohmann::json read_json_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw config_error(path + ": is a directory, not a configuration file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config_error(path + ": cannot open configuration file");
  return parse_json(path, in);
}

// "a.b.c=value" as {"a": {"b": {"c": value}}}; the value is JSON or else a string.
nlohmann::json parse_set(const std::string& s) {
  std::string quoted = shown(nlohmann::json(s));  // "..." with invalid UTF-8 replaced
  const std::string arg = "--set '" + quoted.substr(1, quoted.size() - 2) + "'";
  try {
    (void)nlohmann::json(s).dump();  // the tree and every message are UTF-8
  } catch (const nlohmann::json::type_error&) {
    throw config_error(arg + ": not valid UTF-8");
  }
  const auto eq = s.find('=');
  if (eq == std::string::npos || eq == 0) throw config_error(arg + ": expected key.path=value");
  const std::string path = s.substr(0, eq), text = s.substr(eq + 1);
  std::vector<std::string> keys;
  for (std::size_t start = 0;;) {
    const auto dot = path.find('.', start);
    keys.push_back(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (keys.back().empty()) throw config_error(arg + ": empty key in '" + path + "'");
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  nlohmann::json patch;
  try {
    patch = parse_json(arg, text, false);
  } catch (const nlohmann::json::parse_error&) {
    patch = text;  // a bare word: a string
  }
  for (auto k = keys.rbegin(); k != keys.rend(); ++k)
    patch = nlohmann::json{{*k, std::move(patch)}};
  return patch;
}

// JSON equality, except that a signed and an unsigned integer are equal only
// with the same sign (nlohmann::json finds -1 equal to 2^64 - 1).
bool same_value(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_number_integer() && b.is_number_integer() &&
      a.is_number_unsigned() != b.is_number_unsigned()) {
    const nlohmann::json& s = a.is_number_unsigned() ? b : a;
    const nlohmann::json& u = a.is_number_unsigned() ? a : b;
    return s.get<int64_t>() >= 0 && static_cast<uint64_t>(s.get<int64_t>()) == u.get<uint64_t>();
  }
  return a == b;
}

// Compares the merged tree with the structs read back from it: where they
// differ, the C++ type could not hold the value (-1 for a count, 1e10 for an
// int), and the run would have used another number than the one given.
void check_read_back(const nlohmann::json& given, const nlohmann::json& read,
                     const std::string& path) {
  if (given.is_object() && read.is_object()) {
    for (auto it = given.begin(); it != given.end(); ++it) {
      if (read.contains(it.key()))
        check_read_back(it.value(), read[it.key()], path + "." + it.key());
    }
    return;
  }
  if (same_value(given, read)) return;
  if (given.is_number_integer() && given.get<int64_t>() < 0 && read.is_number_unsigned()) {
    throw config_error(path + " = " + shown(given) + ": must be >= 0");
  }
  throw config_error(path + " = " + shown(given) +
                     ": out of range for this parameter (it reads as " + shown(read) + ")");
}

// The largest network a configuration may ask for: a mistyped size fails
// here with a message instead of in an allocation of terabytes.
constexpr double k_max_synapses = 1e8;

void check_network_size(const mlp_config& m) {
  const double synapses = (static_cast<double>(m.inputs) + 1) * static_cast<double>(m.hidden) +
                          (static_cast<double>(m.hidden) + 1) * static_cast<double>(m.outputs);
  if (synapses > k_max_synapses) {
    char count[32];
    std::snprintf(count, sizeof count, "%.3g", synapses);
    throw config_error("experiment.mlp: " + std::to_string(m.inputs) + " inputs, " +
                       std::to_string(m.hidden) + " hidden and " + std::to_string(m.outputs) +
                       " outputs make " + count + " synapses; at most 1e+08 are allowed");
  }
}

}  // namespace

nlohmann::json to_tree(const run_config& c) {
  nlohmann::json tree;
  tree["experiment"] = c.experiment;
  tree["training"] = c.training;
  tree["platform"] = c.platform;
  tree["technology"] = c.tech.as_json();
  return tree;
}

run_config apply(const run_config& base, const overrides& o) {
  if (o.empty()) return base;
  nlohmann::json tree = to_tree(base);
  for (const auto& f : o.files) {
    const nlohmann::json patch = read_json_file(f);
    try {
      merge_strict(tree, patch, "");
    } catch (const config_error& e) {
      throw config_error(f + ": " + e.what());  // which file holds the key
    }
  }
  for (const auto& s : o.sets) merge_strict(tree, parse_set(s), "");
  run_config out;
  try {
    out.experiment = tree["experiment"].get<experiment_config>();
    out.training = tree["training"].get<network_run_config>();
    out.platform = tree["platform"].get<platform_config>();
    out.tech = technology::from_json_text(tree["technology"].dump(), "configuration 'technology'");
    const nlohmann::json read = to_tree(out);
    check_read_back(tree["experiment"], read["experiment"], "experiment");
    check_read_back(tree["training"], read["training"], "training");
    check_read_back(tree["platform"], read["platform"], "platform");
    out.experiment.validate();
    out.training.validate();
    out.platform.validate();
    check_network_size(out.experiment.mlp);
  } catch (const std::invalid_argument& e) {
    throw config_error(std::string("invalid configuration: ") + e.what());
  } catch (const technology_error& e) {
    throw config_error(e.what());
  } catch (const nlohmann::json::exception& e) {
    throw config_error(std::string("invalid configuration: ") + e.what());
  }
  return out;
}

nlohmann::json overrides_patch(const overrides& o) {
  nlohmann::json patch = nlohmann::json::object();
  for (const auto& f : o.files) patch.merge_patch(read_json_file(f));
  for (const auto& s : o.sets) patch.merge_patch(parse_set(s));
  return patch;
}

void write_run_files(const std::string& dir, const std::string& command, uint64_t seed,
                     const nlohmann::json& effective, const overrides& o) {
  ensure_directory(dir);
  // The numeric libraries' load-time settings: how the OpenMP threads waited
  // (util/library_env.h) and which kernels OpenBLAS was told to run (when
  // unset, it picks them for the processor; float rounding differs between
  // kernels).
  auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr ? nlohmann::json(v) : nlohmann::json(nullptr);
  };
  const nlohmann::json doc{{"tool", "mcasim"},
                           {"version", version()},
                           {"command", command},
                           {"seed", seed},
                           {"environment",
                            {{"OMP_WAIT_POLICY", env("OMP_WAIT_POLICY")},
                             {"OPENBLAS_CORETYPE", env("OPENBLAS_CORETYPE")}}},
                           {"effective", effective}};
  write_file_atomic(dir + "/config.json", doc.dump(2) + "\n");
  write_file_atomic(dir + "/overrides.json", overrides_patch(o).dump(2) + "\n");
}

}  // namespace mcasim
