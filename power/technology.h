// Technology table: energy per action, keyed by component and action, read
// from a JSON file (power/tech_14lpp.json). A missing entry is an error,
// never a silent zero.
#pragma once

#include <map>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace mcasim {

class technology_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class technology {
 public:
  // Throws technology_error naming the file and the offending key.
  static technology load(const std::string& path);
  static technology from_json_text(const std::string& text, const std::string& origin);

  const std::string& name() const { return name_; }
  // {"name": ..., "energy_pj": {component: {action: pJ}}, "area_um2": ...,
  // "energy_scaling": ...}: the file's format.
  nlohmann::json as_json() const;
  // `size`: the module's size for the component's energy scaling (an SRAM:
  // KiB per bank; 0: none). With an "energy_scaling": {component:
  // {"reference": R, "exponent": x}} entry, a module larger than R costs
  // (size / R)^x times the table's energy per action; up to R, the table's.
  double energy_pj(const std::string& component, const std::string& action,
                   double size = 0.0) const;
  // Silicon area of one unit of a component (um^2), from the optional
  // "area_um2": {component: {unit: um^2}} object; throws naming the key
  // when a module declares a unit the table lacks.
  double area_um2(const std::string& component, const std::string& unit) const;
  // Replaces one entry (exploration: change one per-action energy).
  void set_energy_pj(const std::string& component, const std::string& action, double pj);

 private:
  std::string name_, origin_;
  std::map<std::string, std::map<std::string, double>> energy_pj_, area_um2_, scaling_;
};

}  // namespace mcasim
