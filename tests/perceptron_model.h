// The perceptron of an experiment (fp64 or mca) as the engine trains it
// (workloads/network_train.h: perceptron_network, engine_config), one image
// per step, with the access the tests of its weight layers use.
#pragma once

#include <cstddef>
#include <cstdint>

#include "models/chi_memory.h"
#include "models/crossbar.h"
#include "workloads/experiment.h"
#include "workloads/model.h"
#include "workloads/network_train.h"

namespace mcasim::test {

class perceptron {
 public:
  perceptron(const experiment_config& e, uint64_t seed)
      : lr_(e.mlp.learning_rate), m_(perceptron_network(e.mlp), engine_config(e), seed) {}

  // One SGD step on image x at time now_s; true when the forward pass
  // before the update predicted `label`.
  bool train(const float* x, int label, double now_s) {
    const auto y = static_cast<uint8_t>(label);
    return m_.train_batch(x, &y, 1, lr_, now_s).correct == 1;
  }
  // True when the network predicts `label` for x (no update).
  bool predicts(const float* x, int label) {
    const auto y = static_cast<uint8_t>(label);
    return m_.evaluate(x, &y, 1).correct == 1;
  }
  crossbar& layer(std::size_t l) { return *m_.array(l); }
  const chi_memory& chi(std::size_t l) const { return *m_.chi(l); }
  model& net() { return m_; }

 private:
  double lr_;
  model m_;
};

}  // namespace mcasim::test
