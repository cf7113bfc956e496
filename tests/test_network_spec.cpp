// workloads/network_spec.h: built-in networks with their shapes and
// parameter counts worked out by hand, the JSON round trip, and every kind
// of bad description refused with the layer and the field named.
#include "workloads/network_spec.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "test_util.h"

namespace mcasim {
namespace {

TEST(NetworkSpec, PaperPerceptronHasTheWeightsOfThePaper) {
  const network_spec n = load_network("mlp-paper");
  // 785 x 250 + 251 x 10 = 196,250 + 2,510: "The 198,760 weights in the network".
  EXPECT_EQ(n.parameters(), 198760u);
  ASSERT_EQ(n.weight_layers().size(), 2u);
  const layer_spec& h = n.layers[n.weight_layers()[0]];
  EXPECT_EQ(h.rows(), 785u);
  EXPECT_EQ(h.cols(), 250u);
  EXPECT_EQ(h.mvms(), 1u);
  EXPECT_EQ(n.classes(), 10u);
  EXPECT_EQ(n.layers.back().kind, layer_kind::mse);
  EXPECT_EQ(n.layers[1].kind, layer_kind::sigmoid);
  const network_spec t = load_network("mlp-table1");
  EXPECT_EQ(t.parameters(), 198760u);
  EXPECT_EQ(t.layers[1].kind, layer_kind::relu);
  EXPECT_EQ(t.layers.back().kind, layer_kind::l2svm);
}

TEST(NetworkSpec, CifarCnnShapesAndParameters) {
  const network_spec n = load_network("cnn-cifar10");
  // By hand: conv (d 9 + 1) m: 28*32 + 289*32 + 289*64 + 577*64 + 577*128 +
  // 1153*128 = 896 + 9,248 + 18,496 + 36,928 + 73,856 + 147,584 = 287,008;
  // dense: 2049*512 + 513*256 + 257*10 = 1,049,088 + 131,328 + 2,570.
  EXPECT_EQ(n.parameters(), 1469994u);
  const auto w = n.weight_layers();
  ASSERT_EQ(w.size(), 9u);
  const std::size_t rows[] = {28, 289, 289, 577, 577, 1153, 2049, 513, 257};
  const std::size_t cols[] = {32, 32, 64, 64, 128, 128, 512, 256, 10};
  const std::size_t mvms[] = {1024, 1024, 256, 256, 64, 64, 1, 1, 1};
  for (std::size_t k = 0; k < w.size(); ++k) {
    const layer_spec& l = n.layers[w[k]];
    EXPECT_EQ(l.rows(), rows[k]) << l.name;
    EXPECT_EQ(l.cols(), cols[k]) << l.name;
    EXPECT_EQ(l.mvms(), mvms[k]) << l.name;
  }
  std::size_t flatten = 0;
  for (const auto& l : n.layers) {
    if (l.kind == layer_kind::flatten) {
      EXPECT_EQ(l.in, (tensor_shape{128, 4, 4, false}));
      EXPECT_EQ(l.out.size(), 2048u);
      ++flatten;
    }
    if (l.kind == layer_kind::dropout) {
      EXPECT_EQ(l.rate, l.in.flat ? 0.5 : 0.25) << l.name;
    }
  }
  EXPECT_EQ(flatten, 1u);
  EXPECT_EQ(n.layers.back().kind, layer_kind::cross_entropy);
}

TEST(NetworkSpec, PtbLstmShapesAndParameters) {
  const network_spec n = load_network("lstm-ptb");
  EXPECT_TRUE(n.recurrent());
  EXPECT_FALSE(load_network("cnn-cifar10").recurrent());
  // By hand: (512 + 50 + 1) x 2048 + (512 + 512 + 1) x 2048 + 513 x 50 =
  // 1,153,024 + 2,099,200 + 25,650 (the paper: "about 3.3 M").
  EXPECT_EQ(n.parameters(), 3277874u);
  const auto w = n.weight_layers();
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(n.layers[w[0]].rows(), 563u);
  EXPECT_EQ(n.layers[w[0]].cols(), 2048u);
  EXPECT_EQ(n.layers[w[0]].mvms(), 1u);  // per step
  EXPECT_EQ(n.layers[w[1]].rows(), 1025u);
  EXPECT_EQ(n.layers[0].kind, layer_kind::one_hot);
  EXPECT_EQ(n.layers[0].out, (tensor_shape{50, 1, 1, true}));
  EXPECT_EQ(n.input, (tensor_shape{1, 1, 1, true}));
  EXPECT_EQ(n.classes(), 50u);
  EXPECT_EQ(n.layers[2].kind, layer_kind::dropout);
  EXPECT_EQ(n.layers[2].rate, 0.15);
}

TEST(NetworkSpec, JsonRoundTripAndDefaults) {
  for (const auto& name : builtin_network_names()) {
    if (describes_gan(load_description(name))) {
      const nlohmann::json j = to_json(load_gan(name));
      EXPECT_EQ(to_json(parse_gan(j, "copy")), j) << name;
      continue;
    }
    const network_spec n = load_network(name);
    const nlohmann::json j = to_json(n);
    EXPECT_EQ(to_json(parse_network(j, "copy")), j) << name;
  }
  // Unnamed layers get kind + count; kernel 3, maxpool 2, bias on by default.
  const network_spec n = parse_network(nlohmann::json::parse(R"({"input": [1, 8, 8], "layers": [
      {"kind": "conv2d", "filters": 4}, {"kind": "relu"}, {"kind": "maxpool"},
      {"kind": "flatten"}, {"kind": "dense", "units": 3, "bias": false},
      {"kind": "cross_entropy"}]})"),
                                       "test");
  EXPECT_EQ(n.layers[0].name, "conv2d1");
  EXPECT_EQ(n.layers[0].rows(), 10u);  // 1 * 3 * 3 + bias
  EXPECT_EQ(n.layers[2].out, (tensor_shape{4, 4, 4, false}));
  EXPECT_EQ(n.layers[4].rows(), 64u);  // no bias row
  EXPECT_EQ(n.parameters(), 10u * 4 + 64u * 3);
  // A file is read like a built-in.
  test::temp_dir dir;
  const std::string path = dir.file("net.json");
  std::ofstream(path) << to_json(n).dump(2);
  EXPECT_EQ(to_json(load_network(path)), to_json(n));
  // maxout: each output the largest of `pieces` inputs; kept in the JSON.
  const network_spec m = parse_network(nlohmann::json::parse(R"({"input": [12], "layers": [
      {"kind": "dense", "name": "d1", "units": 10}, {"kind": "maxout", "name": "mo", "pieces": 5},
      {"kind": "dense", "name": "d2", "units": 3}, {"kind": "cross_entropy"}]})"),
                                       "test");
  EXPECT_EQ(m.layers[1].out, (tensor_shape{2, 1, 1, true}));
  EXPECT_EQ(m.layers[2].rows(), 3u);  // 2 + bias
  EXPECT_EQ(to_json(parse_network(to_json(m), "copy")), to_json(m));
  EXPECT_EQ(to_json(m)["layers"][1]["pieces"], 5);
}

// The message of the description's rejection, or "" when it was accepted.
std::string error_of(const std::string& layers, const std::string& input = "[1, 8, 8]") {
  try {
    parse_network(nlohmann::json::parse(R"({"input": )" + input + R"(, "layers": )" + layers + "}"),
                  "net.json");
  } catch (const network_error& e) {
    return e.what();
  }
  return "";
}

TEST(NetworkSpec, BadDescriptionsNameTheLayerAndTheField) {
  const std::string tail = R"(, {"kind": "flatten"}, {"kind": "dense", "units": 2},
                               {"kind": "mse"}])";
  const struct {
    std::string layers, input, want;
  } cases[] = {
      {R"([{"kind": "convolution", "name": "c1"})" + tail, "[1, 8, 8]",
       "net.json: layer 0 'c1': unknown kind 'convolution' (kinds: dense, conv2d,"},
      {R"([{"kind": "conv2d", "name": "c1"})" + tail, "[1, 8, 8]",
       "layer 0 'c1': missing field 'filters'"},
      {R"([{"kind": "conv2d", "name": "c1", "filters": 0})" + tail, "[1, 8, 8]",
       "layer 0 'c1': field 'filters' must be in [1, 65536], got 0"},
      {R"([{"kind": "conv2d", "name": "c1", "filters": 2.5})" + tail, "[1, 8, 8]",
       "layer 0 'c1': field 'filters' must be a whole number, got 2.5"},
      {R"([{"kind": "conv2d", "name": "c1", "filters": "8"})" + tail, "[1, 8, 8]",
       "field 'filters' must be a whole number, got \"8\""},
      {R"([{"kind": "conv2d", "name": "c1", "filters": 4, "kernel": 4})" + tail, "[1, 8, 8]",
       "layer 0 'c1': field 'kernel' must be odd for 'same' padding, got 4"},
      {R"([{"kind": "conv2d", "name": "c1", "filters": 4, "units": 4})" + tail, "[1, 8, 8]",
       "layer 0 'c1': unknown field 'units' for conv2d (fields: filters, kernel, bias)"},
      {R"([{"kind": "dense", "name": "d1", "units": 4}, {"kind": "mse"}])", "[1, 8, 8]",
       "layer 0 'd1': dense needs a flat input, got [1, 8, 8]; add a flatten layer"},
      {R"([{"kind": "conv2d", "name": "c1", "filters": 4}, {"kind": "mse"}])", "[64]",
       "layer 0 'c1': conv2d needs an image input [channels, height, width], got [64]"},
      {R"([{"kind": "maxpool", "name": "p", "size": 16})" + tail, "[1, 8, 8]",
       "layer 0 'p': field 'size' 16 is larger than the input [1, 8, 8]"},
      {R"([{"kind": "dropout", "name": "dr", "rate": 1.0})" + tail, "[1, 8, 8]",
       "layer 0 'dr': field 'rate' must be a number in [0, 1), got 1.0"},
      {R"([{"kind": "maxout", "name": "mo"}, {"kind": "dense", "units": 2}, {"kind": "mse"}])",
       "[10]", "layer 0 'mo': missing field 'pieces'"},
      {R"([{"kind": "maxout", "name": "mo", "pieces": 3}, {"kind": "dense", "units": 2},
           {"kind": "mse"}])",
       "[10]", "layer 0 'mo': field 'pieces' 3 does not divide the input [10]"},
      {R"([{"kind": "maxout", "name": "mo", "pieces": 1}, {"kind": "dense", "units": 2},
           {"kind": "mse"}])",
       "[10]", "layer 0 'mo': field 'pieces' must be >= 2, got 1"},
      {R"([{"kind": "maxout", "name": "mo", "pieces": 2})" + tail, "[1, 8, 8]",
       "layer 0 'mo': maxout needs a flat input, got [1, 8, 8]"},
      {R"([{"kind": "lstm", "name": "l"}, {"kind": "dense", "units": 2}, {"kind": "mse"}])", "[10]",
       "layer 0 'l': missing field 'units'"},
      {R"([{"kind": "lstm", "name": "l", "units": 4})" + tail, "[1, 8, 8]",
       "layer 0 'l': lstm needs a flat input (one vector per step), got [1, 8, 8]"},
      {R"([{"kind": "one_hot", "name": "oh", "size": 5}, {"kind": "dense", "units": 2},
           {"kind": "mse"}])",
       "[3]", "layer 0 'oh': one_hot needs an input of one value (a symbol index), got [3]"},
      {R"([{"kind": "dense", "units": 1}, {"kind": "one_hot", "name": "oh", "size": 5},
           {"kind": "dense", "units": 2}, {"kind": "mse"}])",
       "[3]", "layer 1 'oh': one_hot encodes the network's input: it comes before every weight"},
      {R"([{"kind": "one_hot", "name": "oh", "size": 0}, {"kind": "dense", "units": 2},
           {"kind": "mse"}])",
       "[1]", "layer 0 'oh': field 'size' must be in [1, 65536], got 0"},
      {R"([{"kind": "flatten"}, {"kind": "dense", "units": 2}])", "[1, 8, 8]",
       "layer 1 'dense1': the last layer must be a loss (mse, l2svm, cross_entropy, "
       "sigmoid_cross_entropy), not dense"},
      {R"([{"kind": "flatten"}, {"kind": "mse"}, {"kind": "dense", "units": 2}, {"kind": "mse"}])",
       "[1, 8, 8]", "layer 1 'mse1': a loss must be the last layer"},
      {R"([{"kind": "flatten", "name": "f"}, {"kind": "flatten", "name": "f"}, {"kind": "dense",
           "units": 2}, {"kind": "mse"}])",
       "[1, 8, 8]", "layer 1 'f': the name is used by an earlier layer"},
      {R"([{"kind": "flatten"}, {"kind": "dense", "units": 2, "bias": 1}, {"kind": "mse"}])",
       "[1, 8, 8]", "layer 1 'dense1': field 'bias' must be true or false"},
      {R"([{"kind": "flatten"}, {"kind": "dense", "units": 1}, {"kind": "mse"}])", "[1, 8, 8]",
       "layer 2 'mse1': a loss needs at least 2 classes, got [1]"},
      {R"([{"kind": "flatten"}, {"kind": "relu"}, {"kind": "mse"}])", "[1, 8, 8]",
       "net.json: the network has no weight layer"},
      {R"([{"kind": "flatten"}, {"kind": "dense", "units": 2}, {"kind": "mse"}])", "[1, 8]",
       "net.json: input must be [n] or [channels, height, width], got [1,8]"},
      {R"([{"kind": "flatten"}, {"kind": "dense", "units": 2}, {"kind": "mse"}])", "[0]",
       "input[0] must be in [1, 1000000], got 0"},
      {R"([])", "[4]", "\"layers\" must be a non-empty array"},
      {R"([3])", "[4]", "layer 0: a layer is a JSON object, got 3"},
      {R"([{"kind": "dense", "units": 1000000}, {"kind": "dense", "units": 1000000},
           {"kind": "mse"}])",
       "[1000000]", "layer 0 'dense1': the network would have more than 4e9 parameters"},
  };
  for (const auto& c : cases) {
    const std::string msg = error_of(c.layers, c.input);
    EXPECT_NE(msg.find(c.want), std::string::npos) << "wanted: " << c.want << "\ngot: " << msg;
  }
  try {
    parse_network(nlohmann::json::parse(R"({"input": [4], "layers": [], "extra": 1})"), "n.json");
    FAIL() << "unknown key accepted";
  } catch (const network_error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown key 'extra'"), std::string::npos) << e.what();
  }
  try {
    load_network("no-such-network");
    FAIL() << "unknown name accepted";
  } catch (const network_error& e) {
    EXPECT_NE(std::string(e.what()).find("neither a built-in (mlp-paper, mlp-table1, cnn-cifar10, "
                                         "lstm-ptb, cnn-mnist, gan-mnist)"),
              std::string::npos)
        << e.what();
  }
  test::temp_dir dir;
  const std::string bad = dir.file("bad.json");
  std::ofstream(bad) << "{\"input\": [4], ";
  try {
    load_network(bad);
    FAIL() << "broken JSON accepted";
  } catch (const network_error& e) {
    EXPECT_NE(std::string(e.what()).find(bad + ": not valid JSON"), std::string::npos) << e.what();
  }
}

TEST(NetworkSpec, SummaryListsEveryLayer) {
  const std::string s = network_summary(load_network("cnn-cifar10"));
  EXPECT_NE(s.find("conv1"), std::string::npos) << s;
  EXPECT_NE(s.find("[32, 32, 32]"), std::string::npos) << s;
  EXPECT_NE(s.find("1469994 parameters in 9 weight layers"), std::string::npos) << s;
}

}  // namespace
}  // namespace mcasim
