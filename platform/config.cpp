#include "platform/config.h"
#include "workloads/version.h"

#include <fstream>
#include <sstream>

#include "workloads/config_json.h"
#include "workloads/io.h"

namespace mcasim {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(digital_unit_config, kind, clock_mhz,
                                                quantize_lanes, activation_lanes, derivative_lanes,
                                                error_lanes, op_latency_cycles, outer_product_lanes)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(sram_config, word_bits, banks, ports, clock_mhz,
                                                latency_cycles)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(mac_array_config, lanes_in, lanes_out, precision,
                                                clock_mhz, pipeline_cycles)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(bus_config, width_bits, clock_mhz, latency_cycles)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(cm_tile_config, clock_mhz, adcs, adc_cycles,
                                                pulse_ns, parallel_programming)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(platform_config, du_digital32, du_digital_mp,
                                                du_mca, weight_sram32, weight_sram_mp, chi_sram,
                                                mac32, mac_mp, bus, tile)

namespace {

// Values an enumerated key accepts (the JSON binding would silently map an
// unknown string to the first value).
const std::vector<std::pair<std::string, std::vector<std::string>>> k_enums = {
    {"synapse", {"differential", "single_ref"}},
    {"hidden_activation", {"sigmoid", "relu"}},
    {"loss", {"mse", "l2svm"}},
    {"machine", {"fp64", "mca", "digital"}},
    {"kind", {"fixed32", "mixed"}},
};

std::string type_name(const nlohmann::json& j) {
  if (j.is_boolean()) return "a boolean";
  if (j.is_number_integer() || j.is_number_unsigned()) return "an integer";
  if (j.is_number()) return "a number";
  if (j.is_string()) return "a string";
  if (j.is_array()) return "a list";
  if (j.is_object()) return "an object";
  return "null";
}

bool same_kind(const nlohmann::json& want, const nlohmann::json& got) {
  if (want.is_number_integer() || want.is_number_unsigned()) {
    return got.is_number_integer() || got.is_number_unsigned() ||
           (got.is_number_float() &&
            got.get<double>() == static_cast<long long>(got.get<double>()));
  }
  if (want.is_number()) return got.is_number();
  if (want.is_array()) return got.is_array();
  return want.type() == got.type();
}

void check_enum(const std::string& path, const std::string& key, const nlohmann::json& v) {
  for (const auto& [name, allowed] : k_enums) {
    if (name != key || !v.is_string()) continue;
    for (const auto& a : allowed) {
      if (a == v.get<std::string>()) return;
    }
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    throw config_error(path + " = " + v.dump() + ": allowed values: " + list);
  }
}

// Merges `patch` into `tree`, refusing keys and types the tree does not have.
void merge_strict(nlohmann::json& tree, const nlohmann::json& patch, const std::string& path) {
  if (!patch.is_object()) {
    throw config_error((path.empty() ? std::string("configuration") : path) + " = " + patch.dump() +
                       ": must be an object");
  }
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    const std::string key = it.key();
    const std::string p = path.empty() ? key : path + "." + key;
    // The technology's energy table may gain entries (new components/actions).
    const bool energy_table =
        path == "technology.energy_pj" || path.rfind("technology.energy_pj.", 0) == 0;
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
      throw config_error(p + " = " + it.value().dump() + ": must be " + type_name(target));
    }
    if (target.is_array()) {
      for (const auto& e : it.value()) {
        if (!target.empty() && !same_kind(target.front(), e)) {
          throw config_error(p + " = " + it.value().dump() + ": every element must be " +
                             type_name(target.front()));
        }
      }
    }
    check_enum(p, key, it.value());
    target = it.value();
  }
}

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw config_error(path + ": cannot open configuration file");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw config_error(path + ": not valid JSON: " + e.what());
  }
}

nlohmann::json parse_set(const std::string& s) {
  const auto eq = s.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw config_error("--set '" + s + "': expected key.path=value");
  }
  const std::string path = s.substr(0, eq), text = s.substr(eq + 1);
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error&) {
    value = text;  // a bare word: a string
  }
  nlohmann::json patch = value;
  std::size_t end = path.size();
  while (true) {
    const auto dot = path.rfind('.', end - 1);
    const std::string key = path.substr(dot == std::string::npos ? 0 : dot + 1,
                                        end - (dot == std::string::npos ? 0 : dot + 1));
    if (key.empty()) throw config_error("--set '" + s + "': empty key in '" + path + "'");
    patch = nlohmann::json{{key, patch}};
    if (dot == std::string::npos) break;
    end = dot;
  }
  return patch;
}

}  // namespace

nlohmann::json to_tree(const run_config& c) {
  nlohmann::json tree;
  tree["experiment"] = c.experiment;
  tree["platform"] = c.platform;
  tree["technology"] = c.tech.as_json();
  return tree;
}

run_config apply(const run_config& base, const overrides& o) {
  if (o.empty()) return base;
  nlohmann::json tree = to_tree(base);
  for (const auto& f : o.files) merge_strict(tree, read_json_file(f), "");
  for (const auto& s : o.sets) merge_strict(tree, parse_set(s), "");
  run_config out;
  try {
    out.experiment = tree["experiment"].get<experiment_config>();
    out.platform = tree["platform"].get<platform_config>();
    out.tech = technology::from_json_text(tree["technology"].dump(), "configuration 'technology'");
    out.experiment.validate();
    out.platform.validate();
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
  const nlohmann::json doc{{"tool", "mcasim"},
                           {"version", version()},
                           {"command", command},
                           {"seed", seed},
                           {"effective", effective}};
  write_file_atomic(dir + "/config.json", doc.dump(2) + "\n");
  write_file_atomic(dir + "/overrides.json", overrides_patch(o).dump(2) + "\n");
}

}  // namespace mcasim
