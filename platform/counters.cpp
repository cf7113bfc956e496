#include "platform/counters.h"

namespace mcasim {

std::vector<counted*> counted_modules(sc_core::sc_object& root) {
  std::vector<counted*> out;
  std::function<void(sc_core::sc_object&)> walk = [&](sc_core::sc_object& o) {
    if (auto* c = dynamic_cast<counted*>(&o)) out.push_back(c);
    for (sc_core::sc_object* child : o.get_child_objects()) walk(*child);
  };
  walk(root);
  return out;
}

std::string counted_path(const counted& c) {
  const auto* obj = dynamic_cast<const sc_core::sc_object*>(&c);
  return obj ? std::string(obj->name()) : c.component();
}

}  // namespace mcasim
