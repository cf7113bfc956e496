#include "workloads/trained_network.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "models/state_io.h"
#include "util/io.h"

namespace mcasim {

namespace {

constexpr char k_magic[8] = {'M', 'C', 'A', 'S', 'I', 'M', 'N', 'W'};
constexpr uint32_t k_format = 1;

}  // namespace

void write_trained_network(const std::string& path, const model& m, const nlohmann::json& meta) {
  nlohmann::json j = meta;
  j["network"] = to_json(m.spec());
  j["generator"] = !m.spec().has_loss();
  const std::size_t layers = m.spec().weight_layers().size();
  atomic_file file(path);
  state_writer w([&file](const char* p, std::size_t len) { file.write(p, len); });
  w.put(k_magic);
  w.put(k_format);
  w.put(j.dump());
  w.put<uint64_t>(layers);
  for (std::size_t k = 0; k < layers; ++k) {
    const layer_spec& l = m.spec().layers[m.spec().weight_layers()[k]];
    w.put<uint64_t>(l.rows());
    w.put<uint64_t>(l.cols());
    w.put(m.weights(k));
  }
  w.put_checksum();
  w.flush();
  file.commit();
}

trained_network read_trained_network(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw state_error(path + ": cannot open (" + std::strerror(errno) +
                      "); `mcasim train --network ... --out DIR` writes DIR/network.bin");
  }
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  state_reader r(bytes, path);
  char magic[8];
  r.get(magic, "magic");
  if (std::memcmp(magic, k_magic, sizeof magic) != 0) r.fail("not an mcasim trained network");
  uint32_t format = 0;
  r.get(format, "format");
  if (format != k_format) {
    r.fail("trained-network format " + std::to_string(format) + ", this build reads " +
           std::to_string(k_format));
  }
  r.verify_checksum();
  trained_network t;
  t.path = path;
  std::string text;
  r.get(text, "metadata");
  t.meta = nlohmann::json::parse(text, nullptr, false);
  if (!t.meta.is_object() || !t.meta.contains("network")) r.fail("metadata without a network");
  try {
    t.net = parse_network(t.meta["network"], path, t.meta.value("generator", false));
  } catch (const network_error& e) {
    r.fail(e.what());
  }
  uint64_t layers = 0;
  r.get(layers, "weight layer count");
  const auto idx = t.net.weight_layers();
  if (layers != idx.size()) {
    r.fail(std::to_string(layers) + " weight layers for a network of " +
           std::to_string(idx.size()));
  }
  for (std::size_t k = 0; k < idx.size(); ++k) {
    const layer_spec& l = t.net.layers[idx[k]];
    uint64_t rows = 0, cols = 0;
    r.get(rows, "rows");
    r.get(cols, "cols");
    if (rows != l.rows() || cols != l.cols()) {
      r.fail("weight layer '" + l.name + "' is " + std::to_string(rows) + " x " +
             std::to_string(cols) + ", the network says " + std::to_string(l.rows()) + " x " +
             std::to_string(l.cols()));
    }
    std::vector<float> w(static_cast<std::size_t>(rows * cols));
    r.get(w, "weights");
    t.weights.push_back(std::move(w));
  }
  if (!r.done()) r.fail("trailing bytes after the weights");
  return t;
}

std::string weights_summary(const trained_network& t) {
  std::ostringstream s;
  s << t.path << ": network " << t.net.name;
  for (const char* key : {"numerics", "seed"}) {
    if (t.meta.contains(key)) s << ", " << key << " " << t.meta[key].dump();
  }
  if (t.meta.contains("test_accuracy")) {
    s << ", test accuracy " << t.meta["test_accuracy"].get<double>() * 100.0 << " %";
  }
  s << "\n";
  char line[200];
  std::snprintf(line, sizeof line, "%-16s %13s %10s %10s %10s %10s %11s %10s\n", "layer",
                "rows x cols", "|w| p50", "p90", "p99", "max", "mean", "std");
  s << line;
  const auto idx = t.net.weight_layers();
  for (std::size_t k = 0; k < idx.size(); ++k) {
    const std::vector<float>& w = t.weights[k];
    const layer_spec& l = t.net.layers[idx[k]];
    std::vector<float> a(w.size());
    double sum = 0.0, sum2 = 0.0;
    for (std::size_t i = 0; i < w.size(); ++i) {
      a[i] = std::fabs(w[i]);
      sum += w[i];
      sum2 += static_cast<double>(w[i]) * w[i];
    }
    std::sort(a.begin(), a.end());
    const double n = static_cast<double>(w.size());
    // The nearest rank below: a[floor(p (n - 1))].
    auto q = [&a](double p) {
      return a[static_cast<std::size_t>(p * static_cast<double>(a.size() - 1))];
    };
    const double mean = sum / n;
    const std::string shape = std::to_string(l.rows()) + " x " + std::to_string(l.cols());
    std::snprintf(line, sizeof line, "%-16s %13s %10.4g %10.4g %10.4g %10.4g %11.4g %10.4g\n",
                  l.name.c_str(), shape.c_str(), q(0.5), q(0.9), q(0.99), a.back(), mean,
                  std::sqrt(std::max(0.0, sum2 / n - mean * mean)));
    s << line;
  }
  return s.str();
}

feature_extractor::feature_extractor(const trained_network& t, int threads) : net_(t.net) {
  network_run_config cfg;
  cfg.numerics = numerics_kind::fp32;
  cfg.threads = threads;
  m_ = std::make_unique<model>(net_, cfg, 1);
  for (std::size_t k = 0; k < t.weights.size(); ++k) m_->set_weights(k, t.weights[k]);
  const auto idx = net_.weight_layers();
  layers_ = idx.back();
  if (layers_ == 0) {
    throw state_error(t.path + ": network '" + net_.name +
                      "' has a single layer; its features need a layer before the last "
                      "weight layer");
  }
  dim_ = net_.layers[layers_].in.size();
  info_ = {{"path", t.path},
           {"network", net_.name},
           {"feature_layer", net_.layers[layers_ - 1].name},
           {"features", dim_},
           {"numerics", t.meta.value("numerics", std::string("?"))},
           {"test_accuracy", t.meta.value("test_accuracy", -1.0)}};
}

feature_extractor::~feature_extractor() = default;

std::vector<float> feature_extractor::features(const float* x, std::size_t n) {
  return m_->outputs(x, n, layers_);
}

}  // namespace mcasim
