// mcasim command line.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

#include "workloads/characterize.h"
#include "workloads/experiment.h"
#include "workloads/io.h"
#include "workloads/mnist.h"
#include "workloads/progress.h"
#include "workloads/trainer.h"

namespace {

std::string default_data_dir() {
  if (const char* env = std::getenv("MCASIM_DATA")) return env;
  return "data/mnist";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mcasim: transaction-level model of mixed-precision computational-memory training"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(MCASIM_VERSION));

  // characterize
  mcasim::characterize_options copt;
  auto* ch = app.add_subcommand("characterize", "PCM device characterization (paper Fig. 2a/b)");
  ch->add_option("--devices", copt.devices, "number of devices")
      ->capture_default_str()
      ->check(CLI::Range(2, 100000000));
  ch->add_option("--pulses", copt.pulses, "SET pulses per device")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  ch->add_option("--histogram-pulse", copt.histogram_pulse,
                 "pulse after which the conductance distribution is written")
      ->capture_default_str();
  ch->add_option("--seed", copt.seed, "random seed")->capture_default_str();
  ch->add_option("--out", copt.out_dir, "output directory")->required();

  // train
  std::string experiment = "mca";
  std::string data_dir = default_data_dir();
  std::size_t train_limit = 0, test_limit = 0;
  mcasim::train_options topt;
  bool quiet = false, no_train_eval = false;
  auto* tr = app.add_subcommand("train", "train the MLP on MNIST (paper Methods experiments)");
  tr->add_option("--experiment", experiment, "fp64 | mca | mca-nondiff")
      ->capture_default_str()
      ->check(CLI::IsMember(mcasim::experiment_names()));
  tr->add_option("--epochs", topt.epochs, "training epochs")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  tr->add_option("--train-limit", train_limit, "use the first N training images (0 = all)")
      ->capture_default_str();
  tr->add_option("--test-limit", test_limit, "use the first N test images (0 = all)")
      ->capture_default_str();
  tr->add_option("--seed", topt.seed, "random seed")->capture_default_str();
  tr->add_option("--data", data_dir, "directory with the four MNIST IDX files (env MCASIM_DATA)")
      ->capture_default_str();
  tr->add_option("--out", topt.out_dir, "output directory")->required();
  tr->add_option("--trace-every", topt.trace_every_images,
                 "images between samples of the traced synapses (0 = off)")
      ->capture_default_str();
  tr->add_flag("--no-train-eval", no_train_eval,
               "skip the accuracy on the whole training set after each epoch");
  tr->add_flag("--quiet", quiet, "no progress line");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  try {
    if (*ch) {
      mcasim::pcm_params pcm;
      auto doc = mcasim::run_characterization(pcm, copt);
      std::printf("characterization of %zu devices written to %s\n", copt.devices,
                  copt.out_dir.c_str());
      for (const auto& row : doc["per_pulse"]) {
        std::printf("  pulse %2d: mean %.2f uS, std %.2f uS\n", row["pulse"].get<int>(),
                    row["mean_us"].get<double>(), row["std_us"].get<double>());
      }
    } else if (*tr) {
      auto cfg = mcasim::make_experiment(experiment);
      auto data = mcasim::load_mnist(data_dir, train_limit, test_limit);
      topt.progress = !quiet && mcasim::progress::stderr_is_terminal();
      topt.eval_train = !no_train_eval;
      auto doc = mcasim::run_training(cfg, data.train, data.test, topt);
      std::printf("[%s] max test accuracy %.2f%%; results in %s\n", experiment.c_str(),
                  100.0 * doc["max_test_accuracy"].get<double>(), topt.out_dir.c_str());
    }
  } catch (const mcasim::data_error& e) {
    std::fprintf(stderr, "mcasim: data error: %s\n", e.what());
    return 1;
  } catch (const mcasim::output_error& e) {
    std::fprintf(stderr, "mcasim: output error: %s\n", e.what());
    return 1;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "mcasim: invalid argument: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mcasim: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
