// The paper's perceptron experiments on the engine (tests/perceptron_model.h):
// the fp64 reference (SGD step checked against finite-difference gradients)
// and the mixed-precision machine (pulses follow chi, weight-scale schedule,
// drift sync, refresh, determinism).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "models/rng.h"
#include "models/state_io.h"
#include "perceptron_model.h"
#include "test_util.h"

namespace mcasim {
namespace {

double activate(activation_kind a, double z) {
  return a == activation_kind::sigmoid ? 1.0 / (1.0 + std::exp(-z)) : std::max(z, 0.0);
}

// Loss of the two-layer perceptron computed independently of network.cpp.
double reference_loss(const mlp_config& m, const std::vector<double>& w1,
                      const std::vector<double>& w2, const std::vector<float>& x, int label) {
  const std::size_t nh = m.hidden, no = m.outputs;
  std::vector<double> a1(nh + 1, 0.0);
  for (std::size_t h = 0; h < nh; ++h) {
    double z = w1[m.inputs * nh + h];  // bias row
    for (std::size_t i = 0; i < m.inputs; ++i) z += x[i] * w1[i * nh + h];
    a1[h] = activate(m.hidden_activation, z);
  }
  a1[nh] = 1.0;
  double loss = 0.0;
  for (std::size_t o = 0; o < no; ++o) {
    double z = 0.0;
    for (std::size_t h = 0; h <= nh; ++h) z += a1[h] * w2[h * no + o];
    if (m.loss == loss_kind::mse) {
      const double t = static_cast<int>(o) == label ? 1.0 : 0.0;
      const double y = 1.0 / (1.0 + std::exp(-z));
      loss += 0.5 * (t - y) * (t - y);
    } else {
      const double t = static_cast<int>(o) == label ? 1.0 : -1.0;
      const double margin = std::max(0.0, 1.0 - t * z);
      loss += margin * margin;
    }
  }
  return loss;
}

struct gradient_case {
  activation_kind act;
  loss_kind loss;
};

class Fp64Gradient : public ::testing::TestWithParam<gradient_case> {};

TEST_P(Fp64Gradient, SgdStepIsMinusLearningRateTimesGradient) {
  experiment_config cfg = make_experiment("fp64");
  cfg.mlp.inputs = 5;
  cfg.mlp.hidden = 4;
  cfg.mlp.outputs = 3;
  cfg.mlp.hidden_activation = GetParam().act;
  cfg.mlp.loss = GetParam().loss;
  cfg.mlp.learning_rate = 0.3;
  cfg.fp_init_std = 0.5;
  test::perceptron net(cfg, 3);
  auto weights = [&](std::size_t l) {
    const std::vector<float> w = net.net().weights(l);
    return std::vector<double>(w.begin(), w.end());
  };
  const std::vector<float> x{0.2f, 0.9f, 0.0f, 0.5f, 1.0f};
  const int label = 2;
  const auto w1 = weights(0), w2 = weights(1);
  ASSERT_EQ(w1.size(), 6u * 4u);
  ASSERT_EQ(w2.size(), 5u * 3u);
  net.train(x.data(), label, 0.0);

  // Central differences, step 1e-6: error ~1e-10; the float step adds
  // ~1e-7 relative; compared at 1e-6.
  const double h = 1e-6, lr = cfg.mlp.learning_rate;
  auto check = [&](const std::vector<double>& before, const std::vector<double>& after,
                   bool first) {
    for (std::size_t k = 0; k < before.size(); ++k) {
      auto plus1 = w1, minus1 = w1, plus2 = w2, minus2 = w2;
      (first ? plus1 : plus2)[k] += h;
      (first ? minus1 : minus2)[k] -= h;
      const double grad = (reference_loss(cfg.mlp, plus1, plus2, x, label) -
                           reference_loss(cfg.mlp, minus1, minus2, x, label)) /
                          (2 * h);
      EXPECT_NEAR(after[k] - before[k], -lr * grad, 1e-6) << (first ? "w1[" : "w2[") << k << "]";
    }
  };
  check(w1, weights(0), true);
  check(w2, weights(1), false);

  // The step lowers the loss.
  EXPECT_LT(reference_loss(cfg.mlp, weights(0), weights(1), x, label),
            reference_loss(cfg.mlp, w1, w2, x, label));
}

INSTANTIATE_TEST_SUITE_P(Variants, Fp64Gradient,
                         ::testing::Values(gradient_case{activation_kind::sigmoid, loss_kind::mse},
                                           gradient_case{activation_kind::relu, loss_kind::mse},
                                           gradient_case{activation_kind::sigmoid,
                                                         loss_kind::l2svm}),
                         [](const ::testing::TestParamInfo<gradient_case>& info) {
                           return std::string(info.param.act == activation_kind::sigmoid ? "Sigmoid"
                                                                                         : "Relu") +
                                  (info.param.loss == loss_kind::mse ? "Mse" : "L2svm");
                         });

TEST(Fp64Perceptron, CountsNonZeroWeightChanges) {
  experiment_config cfg = make_experiment("fp64");
  cfg.mlp.inputs = 6;
  cfg.mlp.hidden = 5;
  cfg.mlp.outputs = 4;
  test::perceptron net(cfg, 4);
  const std::vector<float> x{0.5f, 0.0f, 1.0f, 0.25f, 0.0f, 0.75f};  // 4 non-zero + bias
  net.train(x.data(), 1, 0.0);
  const auto c = net.net().stats();
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].weight_updates, 5u * 5u);  // (4 inputs + bias) x 5 hidden
  EXPECT_EQ(c[1].weight_updates, 6u * 4u);  // (5 hidden + bias) x 4 outputs
  EXPECT_EQ(c[0].set_pulses, 0u);
}

TEST(Fp64Perceptron, SameSeedSameWeights) {
  const experiment_config cfg = make_experiment("fp64");
  test::perceptron a(cfg, 9), b(cfg, 9), c(cfg, 10);
  EXPECT_EQ(a.net().weights(0), b.net().weights(0));
  EXPECT_NE(a.net().weights(0), c.net().weights(0));
  // Initial weights ~ N(0, 0.147): 196k weights, SE of the std 2.3e-4.
  test::moments m;
  for (float w : a.net().weights(0)) m.add(w);
  EXPECT_NEAR(m.mean(), 0.0, 2e-3);
  EXPECT_NEAR(m.stddev(), 0.147, 2e-3);
}

// A small MCA configuration: 20 inputs, 8 hidden, 3 outputs.
experiment_config small_mca(const char* name = "mca") {
  experiment_config cfg = make_experiment(name);
  cfg.mlp.inputs = 20;
  cfg.mlp.hidden = 8;
  cfg.mlp.outputs = 3;
  return cfg;
}

std::vector<float> random_image(rng& r, std::size_t n) {
  std::vector<float> x(n);
  for (auto& v : x) v = r.uniform() < 0.3 ? 0.0f : static_cast<float>(r.uniform());
  return x;
}

TEST(McaPerceptron, ProgrammedCellsFollowChiPulseEvents) {
  experiment_config cfg = small_mca();
  // The small network back-propagates small deltas: a larger learning rate
  // lets layer-1 chi values reach epsilon within a few hundred images.
  cfg.mlp.learning_rate = 4.0;
  test::perceptron net(cfg, 5);
  rng r(5, 1);
  for (int i = 0; i < 400; ++i) {
    const auto x = random_image(r, cfg.mlp.inputs);
    net.train(x.data(), i % 3, 0.1 * i);
  }
  EXPECT_EQ(net.net().samples_trained(), 400u);
  const auto c = net.net().stats();
  for (std::size_t l = 0; l < 2; ++l) {
    EXPECT_GT(c[l].weight_updates, 0u) << "layer " << l;
    EXPECT_EQ(c[l].weight_updates, net.chi(l).counters().pulse_events) << "layer " << l;
    EXPECT_GE(net.layer(l).counters().set_pulses, c[l].weight_updates) << "layer " << l;
    EXPECT_EQ(c[l].nonzero_chi_updates, net.chi(l).counters().nonzero_updates);
    EXPECT_GT(c[l].nonzero_chi_updates, c[l].weight_updates) << "layer " << l;
    EXPECT_EQ(net.layer(l).counters().reset_pulses, 0u) << "differential depression uses SET on Gn";
  }
}

// Noiseless reads: the predicted class, and by value the hidden activations,
// the output error and the back-propagated error, against a double-precision
// recomputation from the crossbar weights. The values are read back through
// chi: with epsilon at its maximum nothing fires, so after one image from a
// cleared chi (the network state is reloaded before every image) chi holds
// exactly the update lr * x_i * delta_j of the ideal "mca" operands; the
// bias rows (x = 1) give lr * delta.
TEST(McaPerceptron, NoiselessForwardMatchesCrossbarWeights) {
  experiment_config cfg = small_mca();
  cfg.mca.pcm.read_noise = false;
  cfg.mca.chi.eps_p = cfg.mca.chi.eps_d = 1e6;  // never fires
  test::perceptron net(cfg, 6);
  state_writer initial;
  net.net().save(initial);
  const std::size_t ni = cfg.mlp.inputs, nh = cfg.mlp.hidden, no = cfg.mlp.outputs;
  const double lr = cfg.mlp.learning_rate;
  // Float error bounds (u = 2^-24): a float sum of n products is within
  // n u sum |terms| of the exact one; the sigmoid has slope <= 1/4 and its
  // exp and division add 3u; d = (t - s) s (1 - s) and s (1 - s) have slope
  // <= 1 in s on [0, 1]; chi = fl(fl(lr x) d) adds 2u relative, and lr is a
  // float (relative error dlr). The engine's sigmoid derivative, (g (1 - s)) s,
  // adds no more than the bounds below allow for.
  const double u = 0x1p-24;
  const double dlr = std::fabs(static_cast<float>(lr) - lr) / lr;
  const auto& w1 = net.layer(0).weights();
  const auto& w2 = net.layer(1).weights();
  rng r(6, 1);
  double max_tol = 0, max_value = 0;
  for (int n = 0; n < 50; ++n) {
    state_reader back(initial.bytes(), "initial state");
    net.net().load(back);
    const auto x = random_image(r, ni);
    const int label = n % static_cast<int>(no);
    std::vector<double> a1(nh + 1, 1.0), ea1(nh + 1, 0.0), y(no, 0.0), d2(no), ed2(no);
    for (std::size_t h = 0; h < nh; ++h) {
      double z = w1[ni * nh + h], abs_sum = std::fabs(z);
      for (std::size_t i = 0; i < ni; ++i) {
        z += x[i] * w1[i * nh + h];
        abs_sum += std::fabs(x[i] * w1[i * nh + h]);
      }
      a1[h] = activate(activation_kind::sigmoid, z);
      ea1[h] = (ni + 1) * u * abs_sum / 4 + 3 * u;
    }
    for (std::size_t o = 0; o < no; ++o) {
      double abs_sum = 0, e = 0;
      for (std::size_t h = 0; h <= nh; ++h) {
        y[o] += a1[h] * w2[h * no + o];
        abs_sum += std::fabs(a1[h] * w2[h * no + o]);
        e += ea1[h] * std::fabs(w2[h * no + o]);
      }
      const double s = activate(activation_kind::sigmoid, y[o]);
      const double t = static_cast<int>(o) == label ? 1.0 : 0.0;
      d2[o] = (t - s) * s * (1 - s);
      ed2[o] = (e + (nh + 1) * u * abs_sum) / 4 + 3 * u + 4 * u;
    }
    const int want = static_cast<int>(std::max_element(y.begin(), y.end()) - y.begin());
    EXPECT_TRUE(net.predicts(x.data(), want)) << "image " << n;
    EXPECT_EQ(net.train(x.data(), label, 0.0), want == label) << "image " << n;
    const chi_memory& c1 = net.chi(0);
    const chi_memory& c2 = net.chi(1);
    auto check = [&](float got, double want_chi, double tol, const char* what, std::size_t i,
                     std::size_t j) {
      EXPECT_NEAR(got, want_chi, tol) << what << " " << i << "," << j << " image " << n;
      max_tol = std::max(max_tol, tol);
      max_value = std::max(max_value, std::fabs(want_chi));
    };
    for (std::size_t o = 0; o < no; ++o) {
      const double tol_d = lr * ed2[o] + (2 * u + dlr) * lr * std::fabs(d2[o]);
      check(c2.chi(nh, o), lr * d2[o], tol_d, "output error (bias row)", nh, o);
      for (std::size_t h = 0; h < nh; ++h) {
        const double v = lr * a1[h] * d2[o];
        const double tol =
            lr * (a1[h] * ed2[o] + ea1[h] * std::fabs(d2[o])) + (3 * u + dlr) * std::fabs(v);
        check(c2.chi(h, o), v, tol, "hidden activation x output error", h, o);
      }
    }
    for (std::size_t h = 0; h < nh; ++h) {
      double s = 0, abs_sum = 0, e = 0;
      for (std::size_t o = 0; o < no; ++o) {
        s += w2[h * no + o] * d2[o];
        abs_sum += std::fabs(w2[h * no + o] * d2[o]);
        e += std::fabs(w2[h * no + o]) * ed2[o];
      }
      const double g = a1[h] * (1 - a1[h]);
      const double d1 = s * g;
      const double ed1 = (e + no * u * abs_sum) * g + std::fabs(s) * ea1[h] + 2 * u * std::fabs(d1);
      for (std::size_t i = 0; i <= ni; ++i) {
        const double xi = i < ni ? x[i] : 1.0;
        const double v = lr * xi * d1;
        check(c1.chi(i, h), v, lr * xi * ed1 + (3 * u + dlr) * std::fabs(v),
              "input x back-propagated error", i, h);
      }
    }
  }
  // The bounds are tight enough to mean something: the largest is below
  // 1e-4 of the largest value guarded (a swapped sign or device changes
  // values by 100 %).
  EXPECT_LT(max_tol, 1e-4 * max_value);
}

TEST(McaPerceptron, NonDifferentialWeightScaleFollowsSchedule) {
  test::perceptron net(small_mca("mca-nondiff"), 7);
  const double span = 8.0 - 0.1;
  const double expected[] = {0.7, 0.85, 1.0, 1.0};  // the last value holds
  for (int epoch = 1; epoch <= 4; ++epoch) {
    net.net().begin_epoch(epoch);
    const double per_us = 2.0 * expected[epoch - 1] / span;
    for (std::size_t l = 0; l < 2; ++l) {
      EXPECT_NEAR(net.layer(l).weight_per_us(), per_us, 1e-12) << "epoch " << epoch;
      EXPECT_NEAR(net.chi(l).config().eps_p, 0.77 * per_us, 1e-12) << "epoch " << epoch;
      EXPECT_NEAR(net.chi(l).config().eps_d, 8.0 * per_us, 1e-12) << "epoch " << epoch;
    }
  }
}

TEST(McaPerceptron, DriftIsResynchronisedEveryNImages) {
  experiment_config cfg = small_mca();
  cfg.mca.drift_sync_images = 10;
  test::perceptron net(cfg, 8);
  rng r(8, 1);
  for (int i = 0; i < 10; ++i) {
    const auto x = random_image(r, cfg.mlp.inputs);
    net.train(x.data(), 0, 1.0 * i);
  }
  EXPECT_EQ(net.layer(0).synced_at_s(), 0.0);
  const auto x = random_image(r, cfg.mlp.inputs);
  net.train(x.data(), 0, 10.0);
  EXPECT_EQ(net.layer(0).synced_at_s(), 10.0);
  EXPECT_EQ(net.layer(1).synced_at_s(), 10.0);
}

TEST(McaPerceptron, AgeToLowersWeightsByDrift) {
  test::perceptron net(small_mca(), 9);
  const std::vector<float> w0 = net.layer(0).weights();
  const double t = 1000.0 * 38.6;
  net.net().age_to(t);
  const double factor = std::pow(1000.0, -0.04);
  for (std::size_t k = 0; k < w0.size(); ++k) {
    ASSERT_NEAR(net.layer(0).weights()[k], w0[k] * factor, 1e-5 * std::abs(w0[k]) + 1e-7);
  }
}

TEST(McaPerceptron, RefreshRunsEveryNImages) {
  experiment_config cfg = small_mca();
  cfg.mca.refresh_every_images = 5;
  test::perceptron net(cfg, 10);
  // Saturate a few layer-2 pairs so the refresh has work to do.
  crossbar& l2 = net.layer(1);
  for (std::size_t k = 0; k < 6; ++k) {
    l2.positive().program_to(k, 12.0, 0.0);
    l2.negative().program_to(k, 11.0, 0.0);
  }
  l2.sync(0.0);
  rng r(10, 1);
  for (int i = 0; i < 4; ++i) {
    const auto x = random_image(r, cfg.mlp.inputs);
    net.train(x.data(), 1, 0.1 * i);
  }
  EXPECT_EQ(net.layer(1).counters().refreshed_cells, 0u);
  const auto x = random_image(r, cfg.mlp.inputs);
  net.train(x.data(), 1, 0.4);  // the fifth image: refresh after its update
  const device_counters& c = net.layer(1).counters();
  EXPECT_GE(c.refreshed_cells, 6u);
  EXPECT_EQ(c.refresh_reset_pulses, 2 * c.refreshed_cells);
}

TEST(McaPerceptron, SameSeedSameTraining) {
  const experiment_config cfg = small_mca();
  test::perceptron a(cfg, 11), b(cfg, 11), c(cfg, 12);
  rng r(11, 1);
  for (int i = 0; i < 30; ++i) {
    const auto x = random_image(r, cfg.mlp.inputs);
    const bool pa = a.train(x.data(), i % 3, 0.1 * i);
    const bool pb = b.train(x.data(), i % 3, 0.1 * i);
    c.train(x.data(), i % 3, 0.1 * i);
    ASSERT_EQ(pa, pb) << "image " << i;
  }
  for (std::size_t l = 0; l < 2; ++l) {
    EXPECT_EQ(a.layer(l).weights(), b.layer(l).weights()) << "layer " << l;
    EXPECT_EQ(a.chi(l).values(), b.chi(l).values()) << "layer " << l;
    EXPECT_NE(a.layer(l).weights(), c.layer(l).weights()) << "layer " << l;
  }
}

}  // namespace
}  // namespace mcasim
