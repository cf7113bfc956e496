#include "workloads/network_spec.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace mcasim {

namespace {

struct kind_info {
  layer_kind kind;
  const char* name;
  std::vector<const char*> fields;  // besides kind and name
};

const std::vector<kind_info>& kinds() {
  static const std::vector<kind_info> k{
      {layer_kind::dense, "dense", {"units", "bias"}},
      {layer_kind::conv2d, "conv2d", {"filters", "kernel", "bias"}},
      {layer_kind::maxpool, "maxpool", {"size"}},
      {layer_kind::dropout, "dropout", {"rate"}},
      {layer_kind::flatten, "flatten", {}},
      {layer_kind::maxout, "maxout", {"pieces"}},
      {layer_kind::one_hot, "one_hot", {"size"}},
      {layer_kind::lstm, "lstm", {"units", "bias"}},
      {layer_kind::sigmoid, "sigmoid", {}},
      {layer_kind::relu, "relu", {}},
      {layer_kind::tanh, "tanh", {}},
      {layer_kind::mse, "mse", {}},
      {layer_kind::l2svm, "l2svm", {}},
      {layer_kind::cross_entropy, "cross_entropy", {}},
      {layer_kind::sigmoid_cross_entropy, "sigmoid_cross_entropy", {}},
  };
  return k;
}

const kind_info& info(layer_kind k) {
  for (const auto& i : kinds()) {
    if (i.kind == k) return i;
  }
  throw std::logic_error("layer kind without a name");
}

std::string kind_list() {
  std::string s;
  for (const auto& i : kinds()) s += std::string(s.empty() ? "" : ", ") + i.name;
  return s;
}

// Limits that keep a description's memory finite (a 1e6-wide dense layer of
// 1e6 inputs is already 4 TB of weights; the product is checked too).
constexpr std::size_t k_max_dim = 1000000;
constexpr std::size_t k_max_kernel = 31;
constexpr double k_max_parameters = 4e9;

class checker {
 public:
  explicit checker(std::string source) : source_(std::move(source)) {}
  [[noreturn]] void fail(const std::string& msg) const {
    throw network_error(source_ + ": " + msg);
  }
  [[noreturn]] void fail_layer(std::size_t i, const std::string& name,
                               const std::string& msg) const {
    fail("layer " + std::to_string(i) + (name.empty() ? "" : " '" + name + "'") + ": " + msg);
  }
  std::size_t positive(const nlohmann::json& v, const std::string& where, std::size_t max) const {
    if (!v.is_number_integer() && !(v.is_number_float() && std::isfinite(v.get<double>()) &&
                                    v.get<double>() == std::floor(v.get<double>()))) {
      fail(where + " must be a whole number, got " + v.dump());
    }
    const double d = v.get<double>();
    if (d < 1 || d > static_cast<double>(max)) {
      fail(where + " must be in [1, " + std::to_string(max) + "], got " + v.dump());
    }
    return static_cast<std::size_t>(d);
  }
  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

}  // namespace

const char* layer_kind_name(layer_kind k) {
  return info(k).name;
}

bool is_weight_layer(layer_kind k) {
  return k == layer_kind::dense || k == layer_kind::conv2d || k == layer_kind::lstm;
}

bool is_loss(layer_kind k) {
  return k == layer_kind::mse || k == layer_kind::l2svm || k == layer_kind::cross_entropy ||
         k == layer_kind::sigmoid_cross_entropy;
}

std::string tensor_shape::str() const {
  if (flat) return "[" + std::to_string(c) + "]";
  return "[" + std::to_string(c) + ", " + std::to_string(h) + ", " + std::to_string(w) + "]";
}

std::size_t layer_spec::rows() const {
  if (kind == layer_kind::dense) return in.size() + (bias ? 1 : 0);
  if (kind == layer_kind::conv2d) return in.c * kernel * kernel + (bias ? 1 : 0);
  if (kind == layer_kind::lstm) return units + in.size() + (bias ? 1 : 0);
  return 0;
}

std::size_t layer_spec::cols() const {
  if (kind == layer_kind::dense) return units;
  if (kind == layer_kind::conv2d) return filters;
  if (kind == layer_kind::lstm) return 4 * units;
  return 0;
}

std::size_t layer_spec::mvms() const {
  if (kind == layer_kind::dense || kind == layer_kind::lstm) return 1;
  if (kind == layer_kind::conv2d) return out.h * out.w;
  return 0;
}

std::size_t network_spec::parameters() const {
  std::size_t n = 0;
  for (const auto& l : layers) n += l.parameters();
  return n;
}

bool network_spec::recurrent() const {
  return std::any_of(layers.begin(), layers.end(),
                     [](const layer_spec& l) { return l.kind == layer_kind::lstm; });
}

std::vector<std::size_t> network_spec::weight_layers() const {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (is_weight_layer(layers[i].kind)) out.push_back(i);
  }
  return out;
}

network_spec parse_network(const nlohmann::json& j, const std::string& source, bool generator) {
  const checker ck(source);
  if (!j.is_object()) ck.fail("a network is a JSON object with \"input\" and \"layers\"");
  for (const auto& [key, v] : j.items()) {
    if (key != "name" && key != "input" && key != "layers") {
      ck.fail("unknown key '" + key + "' (a network has name, input, layers)");
    }
  }
  network_spec n;
  if (j.contains("name")) {
    if (!j["name"].is_string()) ck.fail("name must be a string");
    n.name = j["name"].get<std::string>();
  }
  if (!j.contains("input")) ck.fail("missing \"input\": [n] or [channels, height, width]");
  const auto& in = j["input"];
  if (!in.is_array() || (in.size() != 1 && in.size() != 3)) {
    ck.fail("input must be [n] or [channels, height, width], got " + in.dump());
  }
  n.input.c = ck.positive(in[0], "input[0]", k_max_dim);
  if (in.size() == 3) {
    n.input.flat = false;
    n.input.h = ck.positive(in[1], "input[1]", k_max_dim);
    n.input.w = ck.positive(in[2], "input[2]", k_max_dim);
    if (static_cast<double>(n.input.c) * n.input.h * n.input.w > k_max_dim * 100.0) {
      ck.fail("input " + n.input.str() + " has more than 1e8 values");
    }
  }
  if (!j.contains("layers") || !j["layers"].is_array() || j["layers"].empty()) {
    ck.fail("\"layers\" must be a non-empty array of layer objects");
  }

  std::set<std::string> names;
  std::map<std::string, int> per_kind;
  tensor_shape cur = n.input;
  double params = 0;
  const auto& layers = j["layers"];
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const auto& lj = layers[i];
    std::string name;
    if (lj.is_object() && lj.contains("name")) {
      if (!lj["name"].is_string() || lj["name"].get<std::string>().empty()) {
        ck.fail_layer(i, "", "field 'name' must be a non-empty string, got " + lj["name"].dump());
      }
      name = lj["name"].get<std::string>();
    }
    if (!lj.is_object()) ck.fail_layer(i, name, "a layer is a JSON object, got " + lj.dump());
    if (!lj.contains("kind") || !lj["kind"].is_string()) {
      ck.fail_layer(i, name, "field 'kind' missing or not a string (kinds: " + kind_list() + ")");
    }
    const std::string kind = lj["kind"].get<std::string>();
    const kind_info* ki = nullptr;
    for (const auto& k : kinds()) {
      if (kind == k.name) ki = &k;
    }
    if (ki == nullptr) {
      ck.fail_layer(i, name, "unknown kind '" + kind + "' (kinds: " + kind_list() + ")");
    }
    if (name.empty()) name = kind + std::to_string(++per_kind[kind]);
    if (!names.insert(name).second) ck.fail_layer(i, name, "the name is used by an earlier layer");
    for (const auto& item : lj.items()) {
      const std::string& key = item.key();
      if (key == "kind" || key == "name") continue;
      if (std::find_if(ki->fields.begin(), ki->fields.end(),
                       [&](const char* f) { return key == f; }) == ki->fields.end()) {
        std::string allowed;
        for (const char* f : ki->fields) allowed += std::string(allowed.empty() ? "" : ", ") + f;
        ck.fail_layer(i, name,
                      "unknown field '" + key + "' for " + kind +
                          (allowed.empty() ? " (it has none)" : " (fields: " + allowed + ")"));
      }
    }
    auto where = [&](const char* field) {
      return "layer " + std::to_string(i) + " '" + name + "': field '" + field + "'";
    };
    auto required = [&](const char* field) -> const nlohmann::json& {
      if (!lj.contains(field)) ck.fail_layer(i, name, std::string("missing field '") + field + "'");
      return lj[field];
    };
    layer_spec l;
    l.kind = ki->kind;
    l.name = name;
    l.in = cur;
    if (lj.contains("bias")) {
      if (!lj["bias"].is_boolean()) ck.fail(where("bias") + " must be true or false");
      l.bias = lj["bias"].get<bool>();
    }
    if (generator && is_loss(l.kind)) {
      ck.fail_layer(i, name,
                    "a generator has no loss of its own (its loss is the discriminator's)");
    }
    if (!generator && i + 1 == layers.size() && !is_loss(l.kind)) {
      ck.fail_layer(
          i, name,
          "the last layer must be a loss (mse, l2svm, cross_entropy, sigmoid_cross_entropy), not " +
              kind);
    }
    if (i + 1 < layers.size() && is_loss(l.kind)) {
      ck.fail_layer(i, name, "a loss must be the last layer");
    }
    switch (l.kind) {
      case layer_kind::dense:
        l.units = ck.positive(required("units"), where("units"), k_max_dim);
        if (!cur.flat) {
          ck.fail_layer(i, name,
                        "dense needs a flat input, got " + cur.str() + "; add a flatten layer");
        }
        l.out = {l.units, 1, 1, true};
        break;
      case layer_kind::conv2d:
        l.filters = ck.positive(required("filters"), where("filters"), 65536);
        if (lj.contains("kernel"))
          l.kernel = ck.positive(lj["kernel"], where("kernel"), k_max_kernel);
        if (l.kernel % 2 == 0) {
          ck.fail(where("kernel") + " must be odd for 'same' padding, got " +
                  std::to_string(l.kernel));
        }
        if (cur.flat) {
          ck.fail_layer(i, name,
                        "conv2d needs an image input [channels, height, width], got " + cur.str());
        }
        l.out = {l.filters, cur.h, cur.w, false};
        break;
      case layer_kind::maxpool:
        if (lj.contains("size")) l.size = ck.positive(lj["size"], where("size"), 1024);
        if (cur.flat) {
          ck.fail_layer(i, name,
                        "maxpool needs an image input [channels, height, width], got " + cur.str());
        }
        if (cur.h < l.size || cur.w < l.size) {
          ck.fail(where("size") + " " + std::to_string(l.size) + " is larger than the input " +
                  cur.str());
        }
        l.out = {cur.c, cur.h / l.size, cur.w / l.size, false};
        break;
      case layer_kind::dropout: {
        const auto& r = required("rate");
        if (!r.is_number() || !(r.get<double>() >= 0.0 && r.get<double>() < 1.0)) {
          ck.fail(where("rate") + " must be a number in [0, 1), got " + r.dump());
        }
        l.rate = r.get<double>();
        l.out = cur;
        break;
      }
      case layer_kind::flatten:
        l.out = {cur.size(), 1, 1, true};
        break;
      case layer_kind::maxout:
        // Output k is the largest of inputs [k pieces, (k + 1) pieces).
        l.pieces = ck.positive(required("pieces"), where("pieces"), 1024);
        if (l.pieces < 2)
          ck.fail(where("pieces") + " must be >= 2, got " + std::to_string(l.pieces));
        if (!cur.flat) {
          ck.fail_layer(i, name, "maxout needs a flat input, got " + cur.str());
        }
        if (cur.c % l.pieces != 0) {
          ck.fail(where("pieces") + " " + std::to_string(l.pieces) + " does not divide the input " +
                  cur.str());
        }
        l.out = {cur.c / l.pieces, 1, 1, true};
        break;
      case layer_kind::one_hot:
        // A symbol index per step (or sample) in, a vector of `size` out.
        l.size = ck.positive(required("size"), where("size"), 65536);
        if (!(cur.flat && cur.c == 1)) {
          ck.fail_layer(i, name,
                        "one_hot needs an input of one value (a symbol index), got " + cur.str());
        }
        if (!n.weight_layers().empty()) {
          ck.fail_layer(i, name,
                        "one_hot encodes the network's input: it comes before every "
                        "weight layer");
        }
        l.out = {l.size, 1, 1, true};
        break;
      case layer_kind::lstm:
        l.units = ck.positive(required("units"), where("units"), k_max_dim);
        if (!cur.flat) {
          ck.fail_layer(i, name, "lstm needs a flat input (one vector per step), got " + cur.str());
        }
        l.out = {l.units, 1, 1, true};
        break;
      case layer_kind::mse:
      case layer_kind::l2svm:
      case layer_kind::cross_entropy:
        if (!cur.flat) {
          ck.fail_layer(
              i, name,
              std::string(kind) + " needs a flat input (one value per class), got " + cur.str());
        }
        if (cur.c < 2) ck.fail_layer(i, name, "a loss needs at least 2 classes, got " + cur.str());
        l.out = cur;
        break;
      case layer_kind::sigmoid_cross_entropy:
        if (!(cur.flat && cur.c == 1)) {
          ck.fail_layer(
              i, name,
              "sigmoid_cross_entropy needs one output (the logit of class 1), got " + cur.str());
        }
        l.out = cur;
        break;
      default:  // activations
        l.out = cur;
        break;
    }
    params += static_cast<double>(l.rows()) * static_cast<double>(l.cols());
    if (params > k_max_parameters) {
      ck.fail_layer(i, name, "the network would have more than 4e9 parameters");
    }
    cur = l.out;
    n.layers.push_back(l);
  }
  if (n.weight_layers().empty()) {
    ck.fail("the network has no weight layer (dense, conv2d or lstm)");
  }
  return n;
}

nlohmann::json to_json(const network_spec& n) {
  nlohmann::json j;
  j["name"] = n.name;
  j["input"] = n.input.flat ? nlohmann::json::array({n.input.c})
                            : nlohmann::json::array({n.input.c, n.input.h, n.input.w});
  j["layers"] = nlohmann::json::array();
  for (const auto& l : n.layers) {
    nlohmann::json lj{{"kind", layer_kind_name(l.kind)}, {"name", l.name}};
    switch (l.kind) {
      case layer_kind::dense:
        lj["units"] = l.units;
        lj["bias"] = l.bias;
        break;
      case layer_kind::conv2d:
        lj["filters"] = l.filters;
        lj["kernel"] = l.kernel;
        lj["bias"] = l.bias;
        break;
      case layer_kind::maxpool:
      case layer_kind::one_hot:
        lj["size"] = l.size;
        break;
      case layer_kind::lstm:
        lj["units"] = l.units;
        lj["bias"] = l.bias;
        break;
      case layer_kind::dropout:
        lj["rate"] = l.rate;
        break;
      case layer_kind::maxout:
        lj["pieces"] = l.pieces;
        break;
      default:
        break;
    }
    j["layers"].push_back(lj);
  }
  return j;
}

namespace {

nlohmann::json builtin_json(const std::string& name) {
  using nlohmann::json;
  if (name == "mlp-paper" || name == "mlp-table1") {
    const bool paper = name == "mlp-paper";
    const char* act = paper ? "sigmoid" : "relu";
    json layers = json::array({{{"kind", "dense"}, {"name", "hidden"}, {"units", 250}},
                               {{"kind", act}, {"name", std::string("hidden_") + act}},
                               {{"kind", "dense"}, {"name", "output"}, {"units", 10}}});
    if (paper) {
      layers.push_back({{"kind", "sigmoid"}, {"name", "output_sigmoid"}});
      layers.push_back({{"kind", "mse"}, {"name", "loss"}});
    } else {
      layers.push_back({{"kind", "l2svm"}, {"name", "loss"}});
    }
    return {{"name", name}, {"input", {784}}, {"layers", layers}};
  }
  if (name == "cnn-cifar10") {
    json layers = json::array();
    int conv = 0;
    for (int block = 1; block <= 3; ++block) {
      const int filters = 16 << block;  // 32, 64, 128
      for (int k = 0; k < 2; ++k) {
        const std::string c = "conv" + std::to_string(++conv);
        layers.push_back({{"kind", "conv2d"}, {"name", c}, {"filters", filters}, {"kernel", 3}});
        layers.push_back({{"kind", "relu"}, {"name", c + "_relu"}});
      }
      layers.push_back(
          {{"kind", "maxpool"}, {"name", "pool" + std::to_string(block)}, {"size", 2}});
      layers.push_back({{"kind", "dropout"},
                        {"name", "pool" + std::to_string(block) + "_drop"},
                        {"rate", 0.25}});
    }
    layers.push_back({{"kind", "flatten"}, {"name", "flatten"}});
    int fc = 0;
    for (int units : {512, 256}) {
      const std::string f = "fc" + std::to_string(++fc);
      layers.push_back({{"kind", "dense"}, {"name", f}, {"units", units}});
      layers.push_back({{"kind", "relu"}, {"name", f + "_relu"}});
      layers.push_back({{"kind", "dropout"}, {"name", f + "_drop"}, {"rate", 0.5}});
    }
    layers.push_back({{"kind", "dense"}, {"name", "fc3"}, {"units", 10}});
    layers.push_back({{"kind", "cross_entropy"}, {"name", "loss"}});
    return {{"name", name}, {"input", {3, 32, 32}}, {"layers", layers}};
  }
  if (name == "lstm-ptb") {
    // Paper Fig. 4d: one-hot characters, 2 x LSTM 512 with dropout on their
    // outputs (0.15, Fig. 4e), a dense layer to the 50 characters, softmax.
    json layers = json::array({{{"kind", "one_hot"}, {"name", "chars"}, {"size", 50}}});
    for (int k = 1; k <= 2; ++k) {
      const std::string l = "lstm" + std::to_string(k);
      layers.push_back({{"kind", "lstm"}, {"name", l}, {"units", 512}});
      layers.push_back({{"kind", "dropout"}, {"name", l + "_drop"}, {"rate", 0.15}});
    }
    layers.push_back({{"kind", "dense"}, {"name", "output"}, {"units", 50}});
    layers.push_back({{"kind", "cross_entropy"}, {"name", "loss"}});
    return {{"name", name}, {"input", {1}}, {"layers", layers}};
  }
  if (name == "cnn-mnist") {
    // A small classifier of 28 x 28 digits; its 128 fc1 features (after
    // the ReLU) are what the Frechet distance of a GAN compares.
    json layers = json::array();
    for (int block = 1; block <= 2; ++block) {
      const std::string c = "conv" + std::to_string(block);
      layers.push_back({{"kind", "conv2d"}, {"name", c}, {"filters", 16 << block}, {"kernel", 3}});
      layers.push_back({{"kind", "relu"}, {"name", c + "_relu"}});
      layers.push_back(
          {{"kind", "maxpool"}, {"name", "pool" + std::to_string(block)}, {"size", 2}});
    }
    layers.push_back({{"kind", "flatten"}, {"name", "flatten"}});
    layers.push_back({{"kind", "dense"}, {"name", "fc1"}, {"units", 128}});
    layers.push_back({{"kind", "relu"}, {"name", "fc1_relu"}});
    layers.push_back({{"kind", "dropout"}, {"name", "fc1_drop"}, {"rate", 0.25}});
    layers.push_back({{"kind", "dense"}, {"name", "fc2"}, {"units", 10}});
    layers.push_back({{"kind", "cross_entropy"}, {"name", "loss"}});
    return {{"name", name}, {"input", {1, 28, 28}}, {"layers", layers}};
  }
  if (name == "gan-mnist") {
    // Goodfellow et al. 2014's MNIST GAN, the paper's reading (Fig. 4g):
    // about 3.7 M parameters.
    json g = json::array();
    for (int k = 1; k <= 2; ++k) {
      const std::string h = "g_hidden" + std::to_string(k);
      g.push_back({{"kind", "dense"}, {"name", h}, {"units", 1200}});
      g.push_back({{"kind", "relu"}, {"name", h + "_relu"}});
    }
    g.push_back({{"kind", "dense"}, {"name", "g_out"}, {"units", 784}});
    g.push_back({{"kind", "sigmoid"}, {"name", "g_out_sigmoid"}});
    json d = json::array();
    const double drop[] = {0.2, 0.3};
    for (int k = 1; k <= 2; ++k) {
      const std::string h = "d_hidden" + std::to_string(k);
      d.push_back({{"kind", "dense"}, {"name", h}, {"units", 1200}});
      d.push_back({{"kind", "maxout"}, {"name", h + "_maxout"}, {"pieces", 5}});
      d.push_back({{"kind", "dropout"}, {"name", h + "_drop"}, {"rate", drop[k - 1]}});
    }
    d.push_back({{"kind", "dense"}, {"name", "d_out"}, {"units", 1}});
    d.push_back({{"kind", "sigmoid_cross_entropy"}, {"name", "loss"}});
    return {{"name", name},
            {"noise", 100},
            {"generator", {{"name", "generator"}, {"input", {100}}, {"layers", g}}},
            {"discriminator", {{"name", "discriminator"}, {"input", {784}}, {"layers", d}}}};
  }
  return nullptr;
}

}  // namespace

std::vector<std::string> builtin_network_names() {
  return {"mlp-paper", "mlp-table1", "cnn-cifar10", "lstm-ptb", "cnn-mnist", "gan-mnist"};
}

network_spec hardware_layers(const gan_spec& g) {
  network_spec n;
  n.name = g.name;
  n.input = g.discriminator.input;
  n.layers = g.generator.layers;
  n.layers.insert(n.layers.end(), g.discriminator.layers.begin(), g.discriminator.layers.end());
  return n;
}

bool describes_gan(const nlohmann::json& j) {
  return j.is_object() && j.contains("generator");
}

gan_spec parse_gan(const nlohmann::json& j, const std::string& source) {
  const checker ck(source);
  for (const auto& [key, v] : j.items()) {
    if (key != "name" && key != "noise" && key != "generator" && key != "discriminator") {
      ck.fail("unknown key '" + key + "' (a GAN has name, noise, generator, discriminator)");
    }
  }
  gan_spec g;
  if (j.contains("name")) {
    if (!j["name"].is_string()) ck.fail("name must be a string");
    g.name = j["name"].get<std::string>();
  }
  if (!j.contains("noise")) ck.fail("missing \"noise\": the generator's input values");
  g.noise = ck.positive(j["noise"], "noise", k_max_dim);
  if (!j.contains("discriminator")) ck.fail("missing \"discriminator\"");
  g.generator = parse_network(j["generator"], source + ": generator", true);
  g.discriminator = parse_network(j["discriminator"], source + ": discriminator");
  const tensor_shape& gi = g.generator.input;
  if (!(gi.flat && gi.c == g.noise)) {
    ck.fail("generator: input " + gi.str() + " must be [noise] = [" + std::to_string(g.noise) +
            "]");
  }
  if (g.discriminator.layers.back().kind != layer_kind::sigmoid_cross_entropy) {
    ck.fail(
        "discriminator: the last layer must be sigmoid_cross_entropy (real or generated), "
        "not " +
        std::string(layer_kind_name(g.discriminator.layers.back().kind)));
  }
  if (g.generator.recurrent() || g.discriminator.recurrent()) {
    ck.fail("the generator and discriminator are feed-forward (no lstm layer)");
  }
  const tensor_shape& out = g.generator.output();
  const tensor_shape& din = g.discriminator.input;
  if (out.size() != din.size() || (!din.flat && !(out == din))) {
    ck.fail("generator: its output " + out.str() + " does not fit the discriminator's input " +
            din.str());
  }
  return g;
}

nlohmann::json to_json(const gan_spec& g) {
  return {{"name", g.name},
          {"noise", g.noise},
          {"generator", to_json(g.generator)},
          {"discriminator", to_json(g.discriminator)}};
}

nlohmann::json load_description(const std::string& name_or_file) {
  nlohmann::json b = builtin_json(name_or_file);
  if (!b.is_null()) return b;
  std::ifstream f(name_or_file);
  if (!f) {
    std::string names;
    for (const auto& s : builtin_network_names()) names += (names.empty() ? "" : ", ") + s;
    throw network_error("network '" + name_or_file + "' is neither a built-in (" + names +
                        ") nor a readable file");
  }
  std::stringstream ss;
  ss << f.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::exception& e) {
    throw network_error(name_or_file + ": not valid JSON: " + e.what());
  }
  return j;
}

namespace {

std::string description_source(const std::string& name_or_file) {
  return builtin_json(name_or_file).is_null() ? name_or_file : "built-in " + name_or_file;
}

}  // namespace

network_spec load_network(const std::string& name_or_file) {
  const nlohmann::json j = load_description(name_or_file);
  if (describes_gan(j)) {
    throw network_error(description_source(name_or_file) +
                        ": a GAN (generator and discriminator), not one network; "
                        "`mcasim train --network` trains it, `mcasim network show` prints it");
  }
  return parse_network(j, description_source(name_or_file));
}

gan_spec load_gan(const std::string& name_or_file) {
  const nlohmann::json j = load_description(name_or_file);
  if (!describes_gan(j)) {
    throw network_error(description_source(name_or_file) +
                        ": not a GAN (a GAN has \"generator\" and \"discriminator\")");
  }
  return parse_gan(j, description_source(name_or_file));
}

std::string network_summary(const network_spec& n) {
  std::ostringstream s;
  char line[160];
  std::snprintf(line, sizeof line, "%-4s %-16s %-14s %-16s %12s %10s\n", "#", "name", "kind",
                "output", "parameters", "MVMs");
  s << line;
  for (std::size_t i = 0; i < n.layers.size(); ++i) {
    const auto& l = n.layers[i];
    const bool w = is_weight_layer(l.kind);
    std::snprintf(line, sizeof line, "%-4zu %-16s %-14s %-16s %12s %10s\n", i, l.name.c_str(),
                  layer_kind_name(l.kind), l.out.str().c_str(),
                  w ? std::to_string(l.parameters()).c_str() : "",
                  w ? std::to_string(l.mvms()).c_str() : "");
    s << line;
  }
  s << "input " << n.input.str() << ", " << n.parameters() << " parameters in "
    << n.weight_layers().size() << " weight layers\n";
  return s.str();
}

}  // namespace mcasim
