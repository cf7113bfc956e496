// Networks as data: an ordered list of layers with their shapes, read from
// JSON (a file, or a built-in name), checked before any work. Weight layers
// (dense, conv2d) hold the matrices that live on crossbars under MCA
// numerics; every other layer runs in the digital unit.
//
//   {"name": "mlp-paper", "input": [784],
//    "layers": [{"kind": "dense", "name": "hidden", "units": 250},
//               {"kind": "sigmoid"}, ...,
//               {"kind": "mse"}]}
//
// Shapes: "input" is [n] (a flat vector; any data set with n values per
// sample) or [channels, height, width]. dense needs a flat input, conv2d and
// maxpool an image; flatten turns an image into a vector. conv2d is k x k
// (k odd), stride 1, zero "same" padding; its kernels are unrolled into a
// (channels k^2 + bias) x filters matrix, one MVM per output pixel (im2col).
// maxpool has a size x size window and stride size. Bias, when on, is one
// more input row of the weight matrix (the paper's extra input fixed at 1).
// The last layer, and only it, is a loss: mse (on whatever precedes it),
// l2svm (targets +-1 on linear outputs), cross_entropy (softmax included)
// or sigmoid_cross_entropy (one output, the logistic sigmoid included;
// labels 0 and 1). A GAN's generator has no loss of its own: its loss is
// its discriminator's.
//
// Sequences: a network with an lstm layer is recurrent. Its samples are
// sequences of steps (training.bptt of them); every layer but the lstm sees
// each step as a vector of its own (dropout on the non-recurrent connections
// only), the loss has one label per step. one_hot turns a step's value (a
// symbol index, input [1]) into a vector of `size` with a single 1.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mcasim {

// A bad description; the message names the source, the layer (index and
// name) and the field.
class network_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

enum class layer_kind {
  dense,
  conv2d,
  maxpool,
  dropout,
  flatten,
  maxout,
  one_hot,
  lstm,
  sigmoid,
  relu,
  tanh,
  mse,
  l2svm,
  cross_entropy,
  sigmoid_cross_entropy,
};

const char* layer_kind_name(layer_kind k);
bool is_weight_layer(layer_kind k);
bool is_loss(layer_kind k);

// Shape of the values between layers: a vector of c (h = w = 1, flat) or an
// image of c channels x h x w.
struct tensor_shape {
  std::size_t c = 0, h = 1, w = 1;
  bool flat = true;
  std::size_t size() const { return c * h * w; }
  std::string str() const;  // "[784]" or "[3, 32, 32]"
  bool operator==(const tensor_shape& o) const {
    return c == o.c && h == o.h && w == o.w && flat == o.flat;
  }
};

struct layer_spec {
  layer_kind kind = layer_kind::dense;
  std::string name;
  std::size_t units = 0;    // dense; lstm: hidden units n
  std::size_t filters = 0;  // conv2d
  std::size_t kernel = 3;   // conv2d (odd)
  std::size_t size = 2;     // maxpool window and stride; one_hot: the vector's length
  std::size_t pieces = 0;   // maxout: each output is the largest of this many inputs
  double rate = 0.0;        // dropout probability of dropping, [0, 1)
  bool bias = true;         // dense, conv2d, lstm
  // Derived when the network is checked.
  tensor_shape in, out;
  // Weight layers: the matrix on the crossbar, rows = inputs (+ bias),
  // cols = outputs; mvms = MVMs per sample, or per step of a sequence (conv:
  // out.h * out.w patches). An lstm layer of n units on m inputs holds the
  // four gates (i, f, g, o) of the step in one (n + m + bias) x 4n matrix:
  // rows h(t-1), then x(t), then the bias.
  std::size_t rows() const;
  std::size_t cols() const;
  std::size_t mvms() const;
  std::size_t parameters() const { return is_weight_layer(kind) ? rows() * cols() : 0; }
};

struct network_spec {
  std::string name;
  tensor_shape input;
  std::vector<layer_spec> layers;  // the last one is the loss
  // Classes of the labels (sigmoid_cross_entropy: 2 on its one output).
  std::size_t classes() const {
    return layers.back().kind == layer_kind::sigmoid_cross_entropy ? 2 : layers.back().in.size();
  }
  // The last layer is a loss (every network but a GAN's generator).
  bool has_loss() const { return is_loss(layers.back().kind); }
  // What the network puts out: the input of its loss, or its last layer's output.
  const tensor_shape& output() const { return has_loss() ? layers.back().in : layers.back().out; }
  // Has an lstm layer: samples are sequences of steps.
  bool recurrent() const;
  // Steps per sample: `bptt` (training.bptt) for a recurrent network, else 1.
  std::size_t steps(std::size_t bptt) const { return recurrent() ? bptt : 1; }
  std::size_t parameters() const;
  // Indices into `layers` of the weight layers, in order.
  std::vector<std::size_t> weight_layers() const;
};

// Checks a description and derives every shape; `source` names it in
// messages (a file path or "built-in NAME"). A generator (`generator`) has
// no loss layer; every other network ends with one. Throws network_error.
network_spec parse_network(const nlohmann::json& j, const std::string& source,
                           bool generator = false);
// The JSON a file would hold (parse_network(to_json(n)) gives n back).
nlohmann::json to_json(const network_spec& n);

// A generative adversarial network: a generator from `noise` values
// (uniform in [-1, 1]) to samples, and a discriminator from samples to one
// output whose loss is sigmoid_cross_entropy (1: real, 0: generated).
//
//   {"name": "gan-mnist", "noise": 100,
//    "generator": {"input": [100], "layers": [...]},
//    "discriminator": {"input": [784], "layers": [..., {"kind": "sigmoid_cross_entropy"}]}}
struct gan_spec {
  std::string name;
  std::size_t noise = 0;
  network_spec generator, discriminator;
  std::size_t parameters() const { return generator.parameters() + discriminator.parameters(); }
};
// The GAN's weight layers as one list for the hardware (its mapping onto
// tiles, its memories): the generator's layers, then the discriminator's;
// input: the discriminator's (the data set's samples). Not a chain.
network_spec hardware_layers(const gan_spec& g);
// A description with a "generator" is a GAN.
bool describes_gan(const nlohmann::json& j);
gan_spec parse_gan(const nlohmann::json& j, const std::string& source);
nlohmann::json to_json(const gan_spec& g);

// Built-ins: mlp-paper (784-250-10 sigmoid, MSE; paper Methods), mlp-table1
// (784-250-10 ReLU, L2-SVM; Table I), cnn-cifar10 (paper Fig. 4a), lstm-ptb
// (paper Fig. 4d: one-hot 50 characters, 2 x LSTM 512, dense 50, softmax),
// cnn-mnist (a small MNIST classifier, the Frechet distance's features) and
// the GAN gan-mnist (paper Fig. 4g: noise 100, generator 1200-1200 ReLU ->
// 784 sigmoid; discriminator maxout 240x5 - 240x5 with dropout 0.2 / 0.3 ->
// 1 sigmoid).
std::vector<std::string> builtin_network_names();
// The JSON of a built-in name, or else of a JSON file; throws network_error
// naming both possibilities when neither fits.
nlohmann::json load_description(const std::string& name_or_file);
// load_description, checked as one network (a GAN is refused) or a GAN.
network_spec load_network(const std::string& name_or_file);
gan_spec load_gan(const std::string& name_or_file);

// A table of the layers: index, name, kind, output shape, parameters.
std::string network_summary(const network_spec& n);

}  // namespace mcasim
