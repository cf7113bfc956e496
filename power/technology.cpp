#include "power/technology.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace mcasim {

technology technology::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw technology_error(path + ": cannot open technology file");
  std::stringstream ss;
  ss << in.rdbuf();
  return from_json_text(ss.str(), path);
}

technology technology::from_json_text(const std::string& text, const std::string& origin) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw technology_error(origin + ": not valid JSON: " + e.what());
  }
  technology t;
  t.origin_ = origin;
  if (!doc.is_object() || !doc.contains("energy_pj") || !doc["energy_pj"].is_object()) {
    throw technology_error(origin + ": missing object 'energy_pj'");
  }
  t.name_ = doc.value("name", origin);
  // {component: {key: value >= 0}} tables: energy per action, area per unit.
  auto table = [&](const char* section, std::map<std::string, std::map<std::string, double>>& to) {
    if (!doc.contains(section)) return;
    if (!doc[section].is_object())
      throw technology_error(origin + ": " + section + " must be an object");
    for (const auto& [component, entries] : doc[section].items()) {
      if (!entries.is_object()) {
        throw technology_error(origin + ": " + section + "." + component + " must be an object");
      }
      for (const auto& [key, value] : entries.items()) {
        if (!value.is_number() || !std::isfinite(value.get<double>()) || value.get<double>() < 0) {
          throw technology_error(origin + ": " + section + "." + component + "." + key + " = " +
                                 value.dump() + ": must be a finite number >= 0");
        }
        to[component][key] = value.get<double>();
      }
    }
  };
  table("energy_pj", t.energy_pj_);
  table("area_um2", t.area_um2_);
  table("energy_scaling", t.scaling_);
  for (const auto& [component, rule] : t.scaling_) {
    const std::string key = origin + ": energy_scaling." + component;
    for (const auto& [k, v] : rule) {
      if (k != "reference" && k != "exponent") {
        throw technology_error(key + "." + k + ": unknown key (reference, exponent)");
      }
    }
    if (rule.count("reference") == 0 || !(rule.at("reference") > 0)) {
      throw technology_error(key + ".reference must be a number > 0");
    }
    if (rule.count("exponent") == 0) throw technology_error(key + ".exponent is missing");
  }
  return t;
}

nlohmann::json technology::as_json() const {
  nlohmann::json j{{"name", name_}, {"energy_pj", nlohmann::json::object()}};
  for (const auto& [component, actions] : energy_pj_) {
    for (const auto& [action, pj] : actions) j["energy_pj"][component][action] = pj;
  }
  for (const auto& [component, units] : area_um2_) {
    for (const auto& [unit, um2] : units) j["area_um2"][component][unit] = um2;
  }
  for (const auto& [component, rule] : scaling_) {
    for (const auto& [k, v] : rule) j["energy_scaling"][component][k] = v;
  }
  return j;
}

double technology::energy_pj(const std::string& component, const std::string& action,
                             double size) const {
  const auto c = energy_pj_.find(component);
  if (c != energy_pj_.end()) {
    const auto a = c->second.find(action);
    if (a != c->second.end()) {
      const auto r = scaling_.find(component);
      if (r == scaling_.end() || size <= r->second.at("reference")) return a->second;
      return a->second * std::pow(size / r->second.at("reference"), r->second.at("exponent"));
    }
  }
  throw technology_error(origin_ + ": no energy for action '" + action + "' of component '" +
                         component + "' (energy_pj." + component + "." + action + ")");
}

double technology::area_um2(const std::string& component, const std::string& unit) const {
  const auto c = area_um2_.find(component);
  if (c != area_um2_.end()) {
    const auto u = c->second.find(unit);
    if (u != c->second.end()) return u->second;
  }
  throw technology_error(origin_ + ": no area for unit '" + unit + "' of component '" + component +
                         "' (area_um2." + component + "." + unit + ")");
}

void technology::set_energy_pj(const std::string& component, const std::string& action, double pj) {
  if (!(pj >= 0) || !std::isfinite(pj)) {
    throw technology_error("energy_pj." + component + "." + action + " must be >= 0");
  }
  energy_pj_[component][action] = pj;
}

}  // namespace mcasim
