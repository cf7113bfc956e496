// The network engine (workloads/model.h) against plain libtorch.
//
//  - BM_cnn_libtorch: one training step (forward, cross entropy, autograd
//    backward, torch::optim::SGD lr 0.01 momentum 0.9) of the cnn-cifar10
//    architecture written with plain torch::nn modules (Conv2d 3x3 padding 1,
//    ReLU, MaxPool2d 2, Dropout 0.25 / 0.5, Linear 2048-512-256-10), 2 threads.
//  - BM_cnn_engine/<numerics>: one model::train_batch of the built-in
//    cnn-cifar10 network in fp32, digital_mp or mca numerics (batch 51,
//    learning rate 0.01, momentum 0.9, conv_update "sum", 2 threads).
//    Every CNN iteration is a batch of 51 random 3x32x32 images (pixels
//    U(0, 1), labels 0..9, fixed seed); items/s = images per wall-clock second.
//  - BM_mlp_engine/<numerics>: one training image (batch 1, learning rate 0.4,
//    1 thread) of the built-in mlp-paper perceptron (784-250-10 sigmoid, MSE)
//    through the same engine in fp32 or mca numerics, on real MNIST (the first
//    10,000 training images, cycled), next to the hand-written machines of
//    bench_train (BM_train/fp64, BM_train/mca) and bench_platform.
//
//  - BM_lstm_libtorch: one training step of the lstm-ptb architecture in plain
//    torch::nn modules (one-hot 50 characters, LSTM 2 x 512 with dropout 0.15
//    between the layers and after the second, Linear 512-50, cross entropy,
//    gradient norm clipped to 5, SGD lr 1), 2 threads.
//  - BM_lstm_engine/<numerics>: one model::train_batch of the built-in
//    lstm-ptb (training.bptt 100, clip_norm 5, plain SGD lr 1, 2 threads).
//    Every LSTM iteration is a batch of 32 sequences of 100 random symbols
//    (fixed seed); items/s = characters per wall-clock second.
//  - BM_gan_libtorch: one iteration of gan-mnist in plain torch::nn modules
//    (a discriminator step on 100 real and 100 generated images, a generator
//    step through the discriminator; SGD lr 0.1, momentum 0.5), 2 threads.
//  - BM_gan_engine/<numerics>: the same iteration of the built-in gan-mnist
//    through the engine (make_gan_machine); items/s = real images per
//    wall-clock second (an epoch of the paper's run is 50,000).
//
// Times are wall clock (UseRealTime): libtorch runs on 2 threads.
//
//   build/bench_network --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "models/rng.h"
#include "tests/bench/bench_data.h"
#include "util/library_env.h"
#include "workloads/gan.h"
#include "workloads/model.h"
#include "workloads/network_spec.h"
#include "workloads/numerics.h"

namespace {

constexpr std::size_t k_batch = mcasim_bench::k_cnn_batch;
constexpr int k_threads = mcasim_bench::k_cnn_threads;
constexpr uint64_t k_seed = mcasim_bench::k_cnn_seed;

// cnn-cifar10 in plain torch::nn modules.
struct plain_cnn : torch::nn::Module {
  plain_cnn() {
    int64_t in = 3;
    for (int block = 0; block < 3; ++block) {
      const int64_t f = int64_t{32} << block;  // 32, 64, 128
      for (int k = 0; k < 2; ++k) {
        convs.push_back(
            register_module("conv" + std::to_string(convs.size() + 1),
                            torch::nn::Conv2d(torch::nn::Conv2dOptions(in, f, 3).padding(1))));
        in = f;
      }
    }
    fc1 = register_module("fc1", torch::nn::Linear(2048, 512));
    fc2 = register_module("fc2", torch::nn::Linear(512, 256));
    fc3 = register_module("fc3", torch::nn::Linear(256, 10));
  }
  torch::Tensor forward(torch::Tensor x) {
    for (std::size_t c = 0; c < convs.size(); c += 2) {
      x = torch::relu(convs[c]->forward(x));
      x = torch::relu(convs[c + 1]->forward(x));
      x = torch::max_pool2d(x, 2);
      x = torch::dropout(x, 0.25, is_training());
    }
    x = x.flatten(1);
    x = torch::dropout(torch::relu(fc1->forward(x)), 0.5, is_training());
    x = torch::dropout(torch::relu(fc2->forward(x)), 0.5, is_training());
    return fc3->forward(x);
  }
  std::vector<torch::nn::Conv2d> convs;
  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, fc3{nullptr};
};

void BM_cnn_libtorch(benchmark::State& state) {
  at::set_num_threads(k_threads);
  torch::manual_seed(k_seed);
  const mcasim::dataset& b = mcasim_bench::cnn_batch();
  const torch::Tensor x = torch::from_blob(const_cast<float*>(b.images.data()),
                                           {static_cast<int64_t>(k_batch), 3, 32, 32})
                              .clone();
  const torch::Tensor y = torch::from_blob(const_cast<uint8_t*>(b.labels.data()),
                                           {static_cast<int64_t>(k_batch)}, torch::kUInt8)
                              .to(torch::kLong);
  plain_cnn net;
  net.train();
  torch::optim::SGD opt(net.parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  for (auto _ : state) {
    opt.zero_grad();
    const torch::Tensor loss = torch::nn::functional::cross_entropy(net.forward(x), y);
    loss.backward();
    opt.step();
    benchmark::DoNotOptimize(loss.item<float>());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * k_batch));
}

// Iterations of model::train_batch of network `name` on the same n samples
// (x, y); `items` per iteration.
void time_engine(benchmark::State& state, const char* name, const mcasim::network_run_config& cfg,
                 const float* x, const uint8_t* y, std::size_t n, std::size_t items) {
  mcasim::model m(mcasim::load_network(name), cfg, k_seed);
  at::set_num_threads(k_threads);
  for (auto _ : state) {
    const double now_s = static_cast<double>(m.samples_trained()) * cfg.image_period_s;
    benchmark::DoNotOptimize(m.train_batch(x, y, n, cfg.learning_rate, now_s));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * items));
}

// `variance`: mca_numerics::read_variance of the mca cases.
void BM_cnn_engine(benchmark::State& state, mcasim::numerics_kind numerics,
                   const char* variance = "bf16") {
  const mcasim::dataset& b = mcasim_bench::cnn_batch();
  mcasim::network_run_config cfg = mcasim_bench::cnn_config(numerics);
  cfg.mca.read_variance = variance;
  time_engine(state, "cnn-cifar10", cfg, b.images.data(), b.labels.data(), k_batch, k_batch);
}

constexpr std::size_t k_lstm_sequences = 32, k_lstm_steps = 100, k_chars = 50;

// The LSTM batch: symbol indices [sequences, steps] and the next symbols.
struct lstm_batch {
  std::vector<float> x;
  std::vector<uint8_t> y;
};
const lstm_batch& random_text() {
  static const lstm_batch b = [] {
    lstm_batch t;
    mcasim::rng r(k_seed, 11);
    for (std::size_t k = 0; k < k_lstm_sequences * k_lstm_steps; ++k) {
      t.x.push_back(static_cast<float>(r.below(k_chars)));
      t.y.push_back(static_cast<uint8_t>(r.below(k_chars)));
    }
    return t;
  }();
  return b;
}

mcasim::network_run_config lstm_config(mcasim::numerics_kind numerics) {
  mcasim::network_run_config cfg;
  cfg.numerics = numerics;
  cfg.batch = k_lstm_sequences;
  cfg.bptt = k_lstm_steps;
  cfg.learning_rate = 1.0;
  cfg.clip_norm = 5.0;
  cfg.threads = k_threads;
  return cfg;
}

struct plain_lstm : torch::nn::Module {
  plain_lstm() {
    lstm = register_module(
        "lstm",
        torch::nn::LSTM(
            torch::nn::LSTMOptions(k_chars, 512).num_layers(2).dropout(0.15).batch_first(true)));
    out = register_module("out", torch::nn::Linear(512, k_chars));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    const torch::Tensor h = std::get<0>(lstm->forward(x));
    return out->forward(torch::dropout(h, 0.15, is_training()));
  }
  torch::nn::LSTM lstm{nullptr};
  torch::nn::Linear out{nullptr};
};

void BM_lstm_libtorch(benchmark::State& state) {
  at::set_num_threads(k_threads);
  torch::manual_seed(k_seed);
  const lstm_batch& b = random_text();
  const auto n = static_cast<int64_t>(k_lstm_sequences), t = static_cast<int64_t>(k_lstm_steps);
  const torch::Tensor idx =
      torch::from_blob(const_cast<float*>(b.x.data()), {n, t}).to(torch::kLong);
  const torch::Tensor x = torch::one_hot(idx, k_chars).to(torch::kFloat);
  const torch::Tensor y =
      torch::from_blob(const_cast<uint8_t*>(b.y.data()), {n * t}, torch::kUInt8).to(torch::kLong);
  plain_lstm net;
  net.train();
  torch::optim::SGD opt(net.parameters(), torch::optim::SGDOptions(1.0));
  for (auto _ : state) {
    opt.zero_grad();
    const torch::Tensor loss =
        torch::nn::functional::cross_entropy(net.forward(x).reshape({n * t, -1}), y);
    loss.backward();
    torch::nn::utils::clip_grad_norm_(net.parameters(), 5.0);
    opt.step();
    benchmark::DoNotOptimize(loss.item<float>());
  }
  state.SetItemsProcessed(
      static_cast<int64_t>(state.iterations() * k_lstm_sequences * k_lstm_steps));
}

void BM_lstm_engine(benchmark::State& state, mcasim::numerics_kind numerics,
                    const char* variance = "bf16") {
  const lstm_batch& b = random_text();
  mcasim::network_run_config cfg = lstm_config(numerics);
  cfg.mca.read_variance = variance;
  time_engine(state, "lstm-ptb", cfg, b.x.data(), b.y.data(), k_lstm_sequences,
              k_lstm_sequences * k_lstm_steps);
}

// ---- gan-mnist ----------------------------------------------------------------

constexpr std::size_t k_gan_batch = 100, k_noise = 100, k_pixels = 784;

// 100 random "images" (fixed seed): the speed does not depend on the pixels.
const std::vector<float>& random_images() {
  static const std::vector<float> x = [] {
    mcasim::rng r(k_seed, 2);
    std::vector<float> v(k_gan_batch * k_pixels);
    for (float& p : v) p = static_cast<float>(r.uniform());
    return v;
  }();
  return x;
}

// gan-mnist in plain torch::nn modules: the same layers, a discriminator
// step on 100 real and 100 generated images and a generator step through
// the discriminator, SGD lr 0.1 momentum 0.5 for both.
struct plain_generator : torch::nn::Module {
  plain_generator() {
    l1 = register_module("l1", torch::nn::Linear(k_noise, 1200));
    l2 = register_module("l2", torch::nn::Linear(1200, 1200));
    l3 = register_module("l3", torch::nn::Linear(1200, k_pixels));
  }
  torch::Tensor forward(const torch::Tensor& z) {
    return torch::sigmoid(l3->forward(torch::relu(l2->forward(torch::relu(l1->forward(z))))));
  }
  torch::nn::Linear l1{nullptr}, l2{nullptr}, l3{nullptr};
};
struct plain_discriminator : torch::nn::Module {
  plain_discriminator() {
    l1 = register_module("l1", torch::nn::Linear(k_pixels, 1200));
    l2 = register_module("l2", torch::nn::Linear(240, 1200));
    l3 = register_module("l3", torch::nn::Linear(240, 1));
  }
  static torch::Tensor maxout(const torch::Tensor& x) {
    return std::get<0>(x.reshape({x.size(0), -1, 5}).max(2));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor h = torch::dropout(maxout(l1->forward(x)), 0.2, is_training());
    h = torch::dropout(maxout(l2->forward(h)), 0.3, is_training());
    return l3->forward(h);  // the logit
  }
  torch::nn::Linear l1{nullptr}, l2{nullptr}, l3{nullptr};
};

void BM_gan_libtorch(benchmark::State& state) {
  at::set_num_threads(k_threads);
  torch::manual_seed(k_seed);
  const auto n = static_cast<int64_t>(k_gan_batch);
  const torch::Tensor real =
      torch::from_blob(const_cast<float*>(random_images().data()), {n, int64_t{k_pixels}});
  plain_generator g;
  plain_discriminator d;
  g.train();
  d.train();
  torch::optim::SGD og(g.parameters(), torch::optim::SGDOptions(0.1).momentum(0.5));
  torch::optim::SGD od(d.parameters(), torch::optim::SGDOptions(0.1).momentum(0.5));
  const torch::Tensor labels = torch::cat({torch::ones({n, 1}), torch::zeros({n, 1})});
  for (auto _ : state) {
    od.zero_grad();
    const torch::Tensor fake = g.forward(torch::rand({n, int64_t{k_noise}}) * 2 - 1).detach();
    torch::binary_cross_entropy_with_logits(d.forward(torch::cat({real, fake})), labels).backward();
    od.step();
    og.zero_grad();
    const torch::Tensor out = d.forward(g.forward(torch::rand({n, int64_t{k_noise}}) * 2 - 1));
    torch::binary_cross_entropy_with_logits(out, torch::ones({n, 1})).backward();
    og.step();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * k_gan_batch));
}

// The built-in gan-mnist through the engine (configs/gan-mnist.json's
// hyper-parameters): one discriminator and one generator step per batch.
void BM_gan_engine(benchmark::State& state, mcasim::numerics_kind numerics,
                   const char* variance = "bf16") {
  mcasim::network_run_config cfg;
  cfg.numerics = numerics;
  cfg.mca.read_variance = variance;
  cfg.batch = k_gan_batch;
  cfg.learning_rate = 0.1;
  cfg.momentum = 0.5;
  cfg.threads = k_threads;
  mcasim::dataset test;
  test.pixels = k_pixels;
  test.height = test.width = 28;
  test.images = random_images();
  test.labels.assign(k_gan_batch, 0);
  const auto machine = mcasim::make_gan_machine(mcasim::load_gan("gan-mnist"), cfg, k_seed, test,
                                                test, mcasim::gan_options{});
  at::set_num_threads(k_threads);
  uint64_t done = 0;
  for (auto _ : state) {
    const double now_s = static_cast<double>(done) * cfg.image_period_s;
    benchmark::DoNotOptimize(
        machine->train_batch(test.images.data(), nullptr, k_gan_batch, 0.1, now_s));
    done += k_gan_batch;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * k_gan_batch));
}

void BM_mlp_engine(benchmark::State& state, mcasim::numerics_kind numerics) {
  const mcasim::mnist* data = mcasim_bench::require_mnist(state);
  if (!data) return;
  const mcasim::dataset& ds = data->train;
  mcasim::network_run_config cfg;
  cfg.numerics = numerics;
  cfg.batch = 1;
  cfg.learning_rate = 0.4;
  cfg.threads = 1;
  mcasim::model m(mcasim::load_network("mlp-paper"), cfg, k_seed);
  at::set_num_threads(1);
  std::size_t i = 0;
  for (auto _ : state) {
    const double now_s = static_cast<double>(m.samples_trained()) * cfg.image_period_s;
    benchmark::DoNotOptimize(
        m.train_batch(ds.image(i), &ds.labels[i], 1, cfg.learning_rate, now_s));
    if (++i == ds.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

BENCHMARK(BM_cnn_libtorch)->Unit(benchmark::kMillisecond)->MinTime(3.0)->UseRealTime();
BENCHMARK_CAPTURE(BM_cnn_engine, fp32, mcasim::numerics_kind::fp32)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3.0)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_cnn_engine, digital_mp, mcasim::numerics_kind::digital_mp)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3.0)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_cnn_engine, mca, mcasim::numerics_kind::mca)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(5.0)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_cnn_engine, mca_fp32_variance, mcasim::numerics_kind::mca, "fp32")
    ->Unit(benchmark::kMillisecond)
    ->MinTime(5.0)
    ->UseRealTime();
BENCHMARK(BM_lstm_libtorch)->Unit(benchmark::kMillisecond)->MinTime(5.0)->UseRealTime();
BENCHMARK_CAPTURE(BM_lstm_engine, fp32, mcasim::numerics_kind::fp32)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(5.0)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_lstm_engine, mca, mcasim::numerics_kind::mca)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(5.0)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_lstm_engine, mca_fp32_variance, mcasim::numerics_kind::mca, "fp32")
    ->Unit(benchmark::kMillisecond)
    ->MinTime(5.0)
    ->UseRealTime();
BENCHMARK(BM_gan_libtorch)->Unit(benchmark::kMillisecond)->MinTime(3.0)->UseRealTime();
BENCHMARK_CAPTURE(BM_gan_engine, fp32, mcasim::numerics_kind::fp32)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3.0)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_gan_engine, mca, mcasim::numerics_kind::mca)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(5.0)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_gan_engine, mca_fp32_variance, mcasim::numerics_kind::mca, "fp32")
    ->Unit(benchmark::kMillisecond)
    ->MinTime(5.0)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_mlp_engine, fp32, mcasim::numerics_kind::fp32)
    ->Unit(benchmark::kMicrosecond)
    ->MinTime(2.0)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_mlp_engine, mca, mcasim::numerics_kind::mca)
    ->Unit(benchmark::kMicrosecond)
    ->MinTime(2.0)
    ->UseRealTime();

}  // namespace

// With the OpenMP wait policy of `mcasim train` (util/library_env.h), so the
// figures are those of training runs.
int main(int argc, char** argv) {
  mcasim::restart_with_sleeping_threads(argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
