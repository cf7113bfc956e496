// Training a GAN (workloads/network_spec.h, gan_spec) through the one
// training loop (workloads/trainer.h): every mini-batch of n real samples
// is one step of each network, in alternation (Goodfellow et al. 2014, k =
// 1):
//
//   discriminator: n real samples (label 1) and n generated from fresh
//     noise (label 0) in one batch of 2n, its mean sigmoid cross-entropy
//     (the half sum of the real and generated means), SGD step;
//   generator: n samples from fresh noise through the discriminator
//     (dropout active, no update of it) with label 1, i.e. the
//     non-saturating loss -log D(G(z)); the error at the discriminator's
//     input goes back through the generator, SGD step.
//
// Both networks' weight layers are in the run's numerics (mca: on PCM),
// or each in its own (training.layers.NAME.numerics).
// Noise is uniform in [-1, 1]. Per epoch, besides the loop's metrics (its
// accuracies and losses are the discriminator's, over real and generated
// samples): generator_loss, discriminator_loss, frechet_distance (when a
// classifier is given: features of the first fd_samples test images and of
// as many generated ones), a picture grid samples/epoch_NNN.png (the same
// noise every epoch), and `discriminator_wins` when the discriminator tells
// the test images from generated ones (test accuracy >= 99 %) and the
// generator's loss exceeds ln 100 (D gives its samples under 1 %): the
// divergence of Fig. 4i, a result, not an error. metrics.json then holds
// `diverged_at_epoch` and `min_frechet_distance`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "workloads/datasets.h"
#include "workloads/network_spec.h"
#include "workloads/numerics.h"
#include "workloads/trainable.h"
#include "workloads/trainer.h"

namespace mcasim {

struct gan_options {
  std::string fd_classifier;       // a trained classifier (network.bin); empty: no FD
  std::size_t fd_samples = 10000;  // test images (and generated samples) of the FD
  std::size_t grid = 100;          // samples in the picture of every epoch (10 per row)
};

// The two networks as one trainable machine: train_batch(x, labels
// (ignored), n, ...) is one discriminator step and one generator step on n
// real samples; evaluate() is the discriminator's on n real samples and n
// generated. `test` gives the Frechet distance's real samples and the
// pictures' height and width; as many images of `train` give the distance's
// floor (real images against real images, under fd_classifier).
std::unique_ptr<trainable> make_gan_machine(const gan_spec& gan, const network_run_config& cfg,
                                            uint64_t seed, const dataset& train,
                                            const dataset& test, const gan_options& g);

// Throws std::invalid_argument when data set `name`'s samples do not fit
// the discriminator's input.
void check_gan_input(const gan_spec& gan, const dataset& ds, const std::string& name);

// A run's verdict from its epochs' discriminator_wins (the discriminator
// classifies >= 99 % of the test images and generated samples right and the
// generator's loss is above ln 100): discriminator_won_epochs lists them; the
// run diverged (D loss towards 0, G loss growing) when the discriminator won
// every epoch from some epoch to the last, and diverged_at_epoch is the
// first of those.
void gan_verdict(nlohmann::json& doc);

// Throws std::invalid_argument when the data do not fit the discriminator.
// A loss that becomes NaN or infinite ends the run as diverged, not with an
// error: status "diverged", diverged_at_epoch and the loop's message in
// "divergence".
nlohmann::json run_gan_training(const gan_spec& gan, const network_run_config& cfg,
                                const split_dataset& data, const gan_options& g,
                                const train_options& opt);

}  // namespace mcasim
