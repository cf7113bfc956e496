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
  for (const auto& [component, actions] : doc["energy_pj"].items()) {
    if (!actions.is_object()) {
      throw technology_error(origin + ": energy_pj." + component + " must be an object");
    }
    for (const auto& [action, value] : actions.items()) {
      if (!value.is_number() || !std::isfinite(value.get<double>()) || value.get<double>() < 0) {
        throw technology_error(origin + ": energy_pj." + component + "." + action + " = " +
                               value.dump() + ": must be a finite number >= 0");
      }
      t.energy_pj_[component][action] = value.get<double>();
    }
  }
  return t;
}

nlohmann::json technology::as_json() const {
  nlohmann::json j{{"name", name_}, {"energy_pj", nlohmann::json::object()}};
  for (const auto& [component, actions] : energy_pj_) {
    for (const auto& [action, pj] : actions) j["energy_pj"][component][action] = pj;
  }
  return j;
}

double technology::energy_pj(const std::string& component, const std::string& action) const {
  const auto c = energy_pj_.find(component);
  if (c != energy_pj_.end()) {
    const auto a = c->second.find(action);
    if (a != c->second.end()) return a->second;
  }
  throw technology_error(origin_ + ": no energy for action '" + action + "' of component '" +
                         component + "' (energy_pj." + component + "." + action + ")");
}

void technology::set_energy_pj(const std::string& component, const std::string& action, double pj) {
  if (!(pj >= 0) || !std::isfinite(pj)) {
    throw technology_error("energy_pj." + component + "." + action + " must be >= 0");
  }
  energy_pj_[component][action] = pj;
}

}  // namespace mcasim
