// mcasim command line.
#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <tuple>

#include <CLI/CLI.hpp>
#include <systemc>

#include "app/config.h"
#include "app/platform_train.h"
#include "app/report.h"
#include "app/sweep.h"
#include "traces/timeline.h"
#include "util/version.h"
#ifdef MCASIM_HAVE_MPI
#include "app/sweep_mpi.h"
#endif
#include "app/estimate.h"
#include "app/table1.h"
#include "platform/mapping.h"
#include "power/technology.h"

#include "models/state_io.h"
#include "util/io.h"
#include "util/library_env.h"
#include "util/progress.h"
#include "workloads/characterize.h"
#include "workloads/config_json.h"
#include "workloads/datasets.h"
#include "workloads/experiment.h"
#include "workloads/gan.h"
#include "workloads/mnist.h"
#include "workloads/network_spec.h"
#include "workloads/network_train.h"
#include "workloads/trained_network.h"
#include "workloads/trainer.h"

namespace {

std::string default_data_dir() {
  if (const char* env = std::getenv("MCASIM_DATA")) return env;
  return "data/mnist";
}

// SIGINT/SIGTERM during training: the first asks the training loop to stop
// before the next image and checkpoint; a second one ends the process at once.
volatile std::sig_atomic_t g_stop = 0;

extern "C" void on_stop_signal(int sig) {
  if (g_stop != 0) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
  g_stop = sig;
}

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace

int sc_main(int argc, char** argv) {
  CLI::App app{"mcasim: transaction-level model of mixed-precision computational-memory training"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(mcasim::version()));

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

  // Configuration tree, on every command: --config FILE, --set key.path=value.
  std::string tech_path = std::string(MCASIM_SOURCE_DIR) + "/power/tech_14lpp.json";
  mcasim::overrides over;
  auto add_config = [&](CLI::App* cmd) {
    cmd->add_option("--config", over.files,
                    "JSON file merged into the configuration tree (repeatable; see "
                    "`mcasim config dump`)");
    cmd->add_option("--set", over.sets,
                    "one value of the configuration tree: key.path=value "
                    "(repeatable, applied after --config)");
    cmd->add_option("--tech", tech_path, "technology file (energy per action)")
        ->capture_default_str();
  };
  add_config(ch);

  // train
  std::string experiment = "mca";
  std::string data_dir = default_data_dir();
  std::size_t train_limit = 0, test_limit = 0;
  mcasim::train_options topt;
  bool quiet = false, no_train_eval = false;
  auto* tr = app.add_subcommand(
      "train",
      "train a network (--network) or the paper's MLP experiments (--experiment, --design)");
  std::string design;
  auto* exp_opt = tr->add_option("--experiment", experiment,
                                 "functional model: fp64 | mca | mca-nondiff | table1-digital32 | "
                                 "table1-digital-mp | table1-mca")
                      ->capture_default_str()
                      ->check(CLI::IsMember(mcasim::experiment_names()));
  auto* design_opt =
      tr->add_option("--design", design,
                     "train through the SystemC platform of a Table I design, with energy and "
                     "time per stage: digital32 | digital-mp | mca")
          ->check(CLI::IsMember({"digital32", "digital-mp", "mca"}))
          ->excludes(exp_opt);
  // Any network (configuration tree branch `training`; flags override it).
  std::string network_name, numerics_flag, dataset_name = "mnist";
  std::size_t batch_flag = 0;
  double lr_flag = 0, momentum_flag = 0, decay_flag = 0;
  int threads_flag = 0;
  bool train_eval = false;
  auto* net_opt =
      tr->add_option(
            "--network", network_name,
            "train a network: a built-in (mlp-paper | mlp-table1 | cnn-cifar10 | lstm-ptb | "
            "cnn-mnist | gan-mnist) or a JSON file (`mcasim network show NAME` prints one)")
          ->excludes(exp_opt)
          ->excludes(design_opt);
  tr->add_option("--numerics", numerics_flag, "weight layers in fp32 | mca | digital-mp")
      ->check(CLI::IsMember({"fp32", "mca", "digital-mp"}))
      ->needs(net_opt);
  tr->add_option("--dataset", dataset_name,
                 "mnist | fashion-mnist | cifar10 | ptb-char (with --network)")
      ->check(CLI::IsMember(mcasim::dataset_names()))
      ->capture_default_str()
      ->needs(net_opt);
  tr->add_option("--batch", batch_flag, "mini-batch size (training.batch)")
      ->check(CLI::Range(1, 100000))
      ->needs(net_opt);
  tr->add_option("--learning-rate", lr_flag, "learning rate of epoch 1 (training.learning_rate)")
      ->check(CLI::PositiveNumber)
      ->needs(net_opt);
  tr->add_option("--momentum", momentum_flag, "SGD momentum in [0, 1) (training.momentum)")
      ->check(CLI::Range(0.0, 0.999999))
      ->needs(net_opt);
  tr->add_option("--weight-decay", decay_flag, "L2 weight decay (training.weight_decay)")
      ->check(CLI::NonNegativeNumber)
      ->needs(net_opt);
  tr->add_option("--threads", threads_flag,
                 "tensor library threads (training.threads; results depend on it)")
      ->check(CLI::Range(1, 256))
      ->needs(net_opt);
  mcasim::gan_options gopt;
  tr->add_option("--fd-classifier", gopt.fd_classifier,
                 "a GAN's Frechet distance: the trained classifier whose features it compares "
                 "(DIR/network.bin of `mcasim train --network cnn-mnist`)")
      ->needs(net_opt);
  tr->add_option("--fd-samples", gopt.fd_samples,
                 "a GAN's Frechet distance: test images and generated samples compared")
      ->capture_default_str()
      ->check(CLI::Range(2, 1000000))
      ->needs(net_opt);
  tr->add_flag("--train-eval", train_eval,
               "with --network: evaluate the whole training set after each epoch (else the "
               "running accuracy of the epoch is reported)")
      ->needs(net_opt);
  add_config(tr);
  std::string trace_timeline, trace_vcd, trace_images = "0:1";
  auto add_traces = [&](CLI::App* cmd) {
    cmd->add_option("--trace-timeline", trace_timeline,
                    "write the transactions as Chrome/Perfetto trace-event JSON (platform runs)");
    cmd->add_option("--trace-vcd", trace_vcd,
                    "write module activity as VCD via sc_trace (GTKWave; platform runs)");
    cmd->add_option("--trace-images", trace_images,
                    "images traced, A:B = A to B-1 (training images counted from 0)")
        ->capture_default_str();
  };
  add_traces(tr);
  auto* epochs_opt = tr->add_option("--epochs", topt.epochs, "training epochs")
                         ->capture_default_str()
                         ->check(CLI::Range(1, 100000));
  tr->add_option("--train-limit", train_limit, "use the first N training images (0 = all)")
      ->capture_default_str();
  tr->add_option("--test-limit", test_limit, "use the first N test images (0 = all)")
      ->capture_default_str();
  tr->add_option("--seed", topt.seed, "random seed")->capture_default_str();
  tr->add_option("--data", data_dir, "directory with the four MNIST IDX files (env MCASIM_DATA)")
      ->capture_default_str();
  tr->add_option("--out", topt.out_dir, "output directory (required unless --resume)");
  std::string resume_dir;
  tr->add_option("--resume", resume_dir,
                 "continue the run in DIR from DIR/checkpoint.bin (written after every epoch "
                 "and on SIGINT/SIGTERM) with its configuration, seed and data; --epochs may "
                 "extend it, --data point to the same data moved elsewhere");
  tr->add_option("--trace-every", topt.trace_every_images,
                 "images between samples of the traced synapses (0 = off)")
      ->capture_default_str();
  tr->add_flag("--no-train-eval", no_train_eval,
               "skip the accuracy on the whole training set after each epoch");
  tr->add_flag("--quiet", quiet, "no progress line");

  // table1
  mcasim::table1_options t1;
  std::string t1_data = default_data_dir();
  bool t1_quiet = false;
  auto* tb =
      app.add_subcommand("table1",
                         "reproduce Table I: the Table I workload through the 32-bit, digital "
                         "mixed-precision and MCA platforms");
  tb->add_option("--images", t1.images, "measured training images (averaged)")
      ->capture_default_str()
      ->check(CLI::Range(1, 60000));
  tb->add_option("--warmup", t1.warmup, "training images before the measured window")
      ->capture_default_str()
      ->check(CLI::Range(0, 59999));
  tb->add_option("--test-images", t1.test_images, "test images evaluated after training (0 = all)")
      ->capture_default_str();
  tb->add_option("--hidden", t1.hidden, "hidden neurons")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  tb->add_option("--learning-rate", t1.learning_rate, "learning rate (0 = the workload's)")
      ->capture_default_str();
  tb->add_option("--seed", t1.seed, "random seed")->capture_default_str();
  tb->add_option("--data", t1_data, "directory with the four MNIST IDX files")
      ->capture_default_str();
  add_config(tb);
  add_traces(tb);
  tb->add_option("--out", t1.out_dir, "output directory")->required();
  tb->add_flag("--quiet", t1_quiet, "no progress line");

  // estimate
  mcasim::estimate_options est;
  std::string est_network, est_dataset = "mnist", est_data;
  std::size_t est_batch = 0;
  int est_threads = 0;
  bool est_quiet = false;
  auto* es = app.add_subcommand(
      "estimate",
      "energy and time per training sample of any network on the three designs (32-bit "
      "digital, digital mixed precision, MCA), through their platforms");
  es->add_option("--network", est_network,
                 "a built-in (mlp-paper | mlp-table1 | cnn-cifar10 | cnn-mnist | lstm-ptb | "
                 "gan-mnist) or a JSON file")
      ->required();
  es->add_option("--dataset", est_dataset,
                 "mnist | fashion-mnist | cifar10 | ptb-char (a sample: a sequence of "
                 "training.bptt characters)")
      ->check(CLI::IsMember(mcasim::dataset_names()))
      ->capture_default_str();
  es->add_option("--data", est_data, "data set directory (default: the data set's own)");
  es->add_option("--images", est.images, "measured training samples (averaged)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000000));
  es->add_option("--warmup", est.warmup, "training samples before the measured window")
      ->capture_default_str();
  es->add_option("--batch", est_batch, "mini-batch size (training.batch)")
      ->check(CLI::Range(1, 100000));
  es->add_option("--threads", est_threads, "tensor library threads (training.threads)")
      ->check(CLI::Range(1, 256));
  es->add_option("--seed", est.seed, "random seed")->capture_default_str();
  add_config(es);
  add_traces(es);
  es->add_option("--out", est.out_dir, "output directory")->required();
  es->add_flag("--quiet", est_quiet, "no progress line");

  // sweep
  std::string sweep_spec_path;
  mcasim::sweep_options sw;
  bool sw_quiet = false;
  auto* swc = app.add_subcommand(
      "sweep", "run a parameter sweep (SPEC: JSON; see docs/exploration.md), resumable");
  swc->add_option("spec", sweep_spec_path, "sweep specification (JSON)")->required();
  swc->add_option("--out", sw.out_dir, "output directory")->required();
  swc->add_option("--jobs", sw.jobs, "points run at the same time")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  swc->add_flag("--quiet", sw_quiet, "no progress lines");
  add_config(swc);  // merged into the spec's base configuration of every point

  // report
  std::string report_dir;
  std::string chartjs = std::string(MCASIM_SOURCE_DIR) + "/third_party/chartjs/chart.umd.js";
  auto* rp = app.add_subcommand("report", "an HTML page with plots of a result directory");
  rp->add_option("dir", report_dir, "result directory (train, table1, characterize, sweep)")
      ->required();
  rp->add_option("--chartjs", chartjs, "Chart.js UMD build (scripts/setup.sh fetches it)")
      ->capture_default_str();

  // config dump
  auto* cf = app.add_subcommand("config", "the configuration tree");
  auto* dump = cf->add_subcommand("dump", "print the effective configuration tree (JSON)");
  cf->require_subcommand(1);
  std::string dump_experiment = "mca", dump_design;
  auto* dump_exp =
      dump->add_option("--experiment", dump_experiment, "experiment whose tree to print")
          ->capture_default_str()
          ->check(CLI::IsMember(mcasim::experiment_names()));
  dump->add_option("--design", dump_design, "print the tree of a Table I design instead")
      ->check(CLI::IsMember({"digital32", "digital-mp", "mca"}))
      ->excludes(dump_exp);
  add_config(dump);

  // network show
  auto* nw = app.add_subcommand("network", "network descriptions");
  nw->require_subcommand(1);
  auto* show = nw->add_subcommand(
      "show", "print a network (built-in name or file) as the JSON a file would hold");
  std::string show_name;
  bool show_summary = false;
  show->add_option("name", show_name, "mlp-paper | mlp-table1 | cnn-cifar10 | lstm-ptb | FILE")
      ->required();
  show->add_flag("--summary", show_summary,
                 "a table of the layers (shapes, parameters, MVMs per sample) instead");
  auto* map = nw->add_subcommand(
      "map", "the network's weight layers on the MCA's tiles (platform.tiles: rows, cols, count)");
  std::string map_name;
  map->add_option("name", map_name, "mlp-paper | mlp-table1 | cnn-cifar10 | lstm-ptb | FILE")
      ->required();
  add_config(map);
  auto* wts =
      nw->add_subcommand("weights",
                         "the weights of a trained network file (DIR/network.bin, generator.bin, "
                         "discriminator.bin): per weight layer |w| quantiles, mean and spread");
  std::string wts_file;
  wts->add_option("file", wts_file, "a trained network file")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  // The effective configuration of a run from an experiment preset.
  auto effective = [&](const std::string& preset) {
    mcasim::run_config base{mcasim::make_experiment(preset),
                            mcasim::platform_config(),
                            mcasim::technology::load(tech_path),
                            {}};
    return mcasim::apply(base, over);
  };

  // A functional training run that SIGINT/SIGTERM stop with a checkpoint;
  // returns the exit code.
  auto train_functional = [](const mcasim::experiment_config& cfg, const mcasim::mnist& data,
                             mcasim::train_options opt) {
    opt.stop = [] { return g_stop != 0; };
    install_stop_handlers();
    const auto doc = mcasim::run_training(cfg, data.train, data.test, opt);
    if (doc.value("status", std::string()) == "interrupted") return 128 + static_cast<int>(g_stop);
    std::printf("[%s] max test accuracy %.2f%%; results in %s\n", cfg.name.c_str(),
                100.0 * doc["max_test_accuracy"].get<double>(), opt.out_dir.c_str());
    return 0;
  };

  // A network training run, stopped by SIGINT/SIGTERM with a checkpoint.
  auto train_network = [](const mcasim::network_spec& net, const mcasim::network_run_config& cfg,
                          const mcasim::split_dataset& data, mcasim::train_options opt) {
    opt.stop = [] { return g_stop != 0; };
    install_stop_handlers();
    const auto doc = mcasim::run_network_training(net, cfg, data, opt);
    if (doc.value("status", std::string()) == "interrupted") return 128 + static_cast<int>(g_stop);
    if (doc.contains("min_valid_bpc")) {
      std::printf("[%s] lowest validation bpc %.4f; results in %s\n", net.name.c_str(),
                  doc["min_valid_bpc"].get<double>(), opt.out_dir.c_str());
    } else {
      std::printf("[%s] max test accuracy %.2f%%; results in %s\n", net.name.c_str(),
                  100.0 * doc["max_test_accuracy"].get<double>(), opt.out_dir.c_str());
    }
    return 0;
  };
  // A GAN's training, stopped by SIGINT/SIGTERM with a checkpoint.
  auto train_gan = [](const mcasim::gan_spec& gan, const mcasim::network_run_config& cfg,
                      const mcasim::split_dataset& data, const mcasim::gan_options& g,
                      mcasim::train_options opt) {
    opt.stop = [] { return g_stop != 0; };
    install_stop_handlers();
    const auto doc = mcasim::run_gan_training(gan, cfg, data, g, opt);
    if (doc.value("status", std::string()) == "interrupted") return 128 + static_cast<int>(g_stop);
    if (doc.contains("min_frechet_distance")) {
      std::printf("[%s] lowest Frechet distance %.3f", gan.name.c_str(),
                  doc["min_frechet_distance"].get<double>());
      const nlohmann::json& c = doc["fd_classifier"];
      if (c.contains("real_training_images_fd")) {
        std::printf(" (real training images: %.3f)", c["real_training_images_fd"].get<double>());
      }
    } else if (doc.value("fd_classifier", nlohmann::json()).is_null()) {
      std::printf("[%s] trained (no --fd-classifier: no Frechet distance)", gan.name.c_str());
    } else {
      std::printf("[%s] no epoch completed", gan.name.c_str());
    }
    if (doc.contains("divergence")) {
      std::printf("; diverged in epoch %d: %s", doc["diverged_at_epoch"].get<int>(),
                  doc["divergence"].get<std::string>().c_str());
    } else if (doc.contains("diverged_at_epoch")) {
      std::printf("; diverged from epoch %d on (the discriminator wins to the end)",
                  doc["diverged_at_epoch"].get<int>());
    } else if (!doc["discriminator_won_epochs"].empty()) {
      std::printf("; the discriminator won %zu epoch(s) and the generator recovered",
                  doc["discriminator_won_epochs"].size());
    }
    std::printf("; results in %s\n", opt.out_dir.c_str());
    return 0;
  };
  // A recurrent network's text comes as sequences of training.bptt steps.
  auto load_data = [](const nlohmann::json& src, const mcasim::network_spec& net,
                      const mcasim::network_run_config& cfg) {
    return mcasim::load_dataset(src.value("dataset", std::string("mnist")),
                                src.value("data", std::string()),
                                src.value("train_limit", std::size_t{0}),
                                src.value("test_limit", std::size_t{0}), net.steps(cfg.bptt));
  };

  try {
    if (*show) {
      const auto desc = mcasim::load_description(show_name);
      if (mcasim::describes_gan(desc)) {
        const auto gan = mcasim::load_gan(show_name);
        if (show_summary) {
          std::printf("GAN %s: noise %zu\n\ngenerator\n%s\ndiscriminator\n%s", gan.name.c_str(),
                      gan.noise, mcasim::network_summary(gan.generator).c_str(),
                      mcasim::network_summary(gan.discriminator).c_str());
        } else {
          std::printf("%s\n", mcasim::to_json(gan).dump(2).c_str());
        }
        return 0;
      }
      const auto net = mcasim::load_network(show_name);
      if (show_summary) {
        std::fputs(mcasim::network_summary(net).c_str(), stdout);
      } else {
        std::printf("%s\n", mcasim::to_json(net).dump(2).c_str());
      }
    } else if (*map) {
      const auto net = mcasim::load_network(map_name);
      const auto rc = effective("mca");
      std::fputs(mcasim::mapping_summary(
                     net, mcasim::map_network(net, rc.platform.tiles, net.steps(rc.training.bptt)))
                     .c_str(),
                 stdout);
    } else if (*wts) {
      std::fputs(mcasim::weights_summary(mcasim::read_trained_network(wts_file)).c_str(), stdout);
    } else if (*rp) {
      const int n = mcasim::write_report(report_dir, chartjs);
      std::printf("%d plots written to %s/report.html\n", n, report_dir.c_str());
    } else if (*swc) {
      auto spec = mcasim::load_sweep_spec(sweep_spec_path);
      spec.base.merge_patch(mcasim::overrides_patch(over));
      spec.args.insert(spec.args.end(), {"--tech", tech_path});
      char exe[4096];
      const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
      sw.exe = n > 0 ? std::string(exe, static_cast<std::size_t>(n)) : std::string(argv[0]);
      sw.progress = !sw_quiet;
      int failed = 0;
      bool root = true;
#ifdef MCASIM_HAVE_MPI
      if (mcasim::launched_by_mpirun()) {
        failed = mcasim::run_sweep_mpi(spec, sw, &argc, &argv, &root);
      } else
#endif
      {
        failed = mcasim::run_sweep(spec, sw);
        mcasim::collect_sweep(spec, sw.out_dir);
      }
      if (!root) return 0;
      std::printf("[sweep] %zu points; results in %s/results.csv and results.json\n",
                  spec.points.size(), sw.out_dir.c_str());
      if (failed > 0) {
        std::fprintf(stderr, "mcasim: %d sweep point(s) failed; re-run the same command to retry\n",
                     failed);
        return 1;
      }
    } else if (*dump) {
      const auto rc = effective(dump_design.empty() ? dump_experiment : "table1-" + dump_design);
      std::printf("%s\n", mcasim::to_tree(rc).dump(2).c_str());
    } else if (*ch) {
      const auto rc = effective("mca");
      auto doc = mcasim::run_characterization(rc.experiment.mca.pcm, copt);
      mcasim::write_run_files(copt.out_dir, "characterize", copt.seed, mcasim::to_tree(rc), over);
      std::printf("characterization of %zu devices written to %s\n", copt.devices,
                  copt.out_dir.c_str());
      for (const auto& row : doc["per_pulse"]) {
        std::printf("  pulse %2d: mean %.2f uS, std %.2f uS\n", row["pulse"].get<int>(),
                    row["mean_us"].get<double>(), row["std_us"].get<double>());
      }
    } else if (*tr && !resume_dir.empty()) {
      for (const char* name :
           {"--experiment",   "--design",       "--config",        "--set",
            "--tech",         "--seed",         "--train-limit",   "--test-limit",
            "--out",          "--trace-every",  "--no-train-eval", "--trace-timeline",
            "--trace-vcd",    "--trace-images", "--network",       "--numerics",
            "--dataset",      "--batch",        "--learning-rate", "--momentum",
            "--weight-decay", "--threads",      "--train-eval",    "--fd-classifier",
            "--fd-samples"}) {
        if (tr->count(name) > 0) {
          throw std::invalid_argument(std::string("--resume takes the configuration, seed and "
                                                  "data of the run in its directory; drop ") +
                                      name);
        }
      }
      const auto run = mcasim::read_checkpoint_run(resume_dir);
      auto ropt = mcasim::resume_options(run, resume_dir);
      if (epochs_opt->count() > 0) ropt.epochs = topt.epochs;
      ropt.progress = !quiet;
      if (run.contains("gan")) {
        const std::string ck = mcasim::checkpoint_path(resume_dir);
        mcasim::network_run_config cfg;
        mcasim::gan_options g;
        try {
          cfg = run.at("training").get<mcasim::network_run_config>();
          g.fd_classifier = run.at("fd_classifier").get<std::string>();
          g.fd_samples = run.at("fd_samples").get<std::size_t>();
          g.grid = run.at("grid").get<std::size_t>();
        } catch (const nlohmann::json::exception& e) {
          throw mcasim::state_error(ck + ": unreadable GAN run description: " + e.what());
        }
        const auto gan = mcasim::parse_gan(run["gan"], ck);
        nlohmann::json src = ropt.source;
        if (tr->count("--data") > 0) src["data"] = data_dir;
        return train_gan(gan, cfg, load_data(src, gan.discriminator, cfg), g, ropt);
      }
      if (run.contains("network")) {
        mcasim::network_run_config cfg;
        const std::string ck = mcasim::checkpoint_path(resume_dir);
        const auto net = mcasim::parse_network(run["network"], ck);
        try {
          cfg = run.at("training").get<mcasim::network_run_config>();
          if (run.contains("tiles")) {
            cfg.mca.tile_rows = run["tiles"].at("rows").get<std::size_t>();
            cfg.mca.tile_cols = run["tiles"].at("cols").get<std::size_t>();
          }
        } catch (const nlohmann::json::exception& e) {
          throw mcasim::state_error(ck + ": unreadable training configuration: " + e.what());
        }
        nlohmann::json src = ropt.source;
        if (tr->count("--data") > 0) src["data"] = data_dir;
        return train_network(net, cfg, load_data(src, net, cfg), ropt);
      }
      mcasim::experiment_config cfg;
      try {
        cfg = run.at("experiment").get<mcasim::experiment_config>();
      } catch (const nlohmann::json::exception& e) {
        throw mcasim::state_error(mcasim::checkpoint_path(resume_dir) +
                                  ": unreadable configuration: " + e.what());
      }
      const auto& src = ropt.source;
      const std::string dir =
          tr->count("--data") > 0 ? data_dir : src.value("data", default_data_dir());
      const auto data = mcasim::load_mnist(dir, src.value("train_limit", std::size_t{0}),
                                           src.value("test_limit", std::size_t{0}));
      return train_functional(cfg, data, ropt);
    } else if (*tr && topt.out_dir.empty()) {
      throw std::invalid_argument("train needs --out DIR (or --resume DIR)");
    } else if (*tr && design.empty() && (!trace_timeline.empty() || !trace_vcd.empty())) {
      throw std::invalid_argument(
          "--trace-timeline and --trace-vcd need the platform: train --design ...");
    } else if (*tr && !network_name.empty()) {
      auto rc = effective("mca");
      mcasim::network_run_config& cfg = rc.training;
      if (!numerics_flag.empty()) cfg.numerics = mcasim::parse_numerics(numerics_flag);
      if (batch_flag > 0) cfg.batch = batch_flag;
      if (tr->count("--learning-rate") > 0) cfg.learning_rate = lr_flag;
      if (tr->count("--momentum") > 0) cfg.momentum = momentum_flag;
      if (tr->count("--weight-decay") > 0) cfg.weight_decay = decay_flag;
      if (threads_flag > 0) cfg.threads = threads_flag;
      cfg.validate();
      const nlohmann::json src{{"dataset", dataset_name},
                               {"data", tr->count("--data") > 0 ? data_dir : std::string()},
                               {"train_limit", train_limit},
                               {"test_limit", test_limit}};
      if (mcasim::describes_gan(mcasim::load_description(network_name))) {
        const auto gan = mcasim::load_gan(network_name);
        const auto data = load_data(src, gan.discriminator, cfg);
        mcasim::write_run_files(topt.out_dir, "train", topt.seed, mcasim::to_tree(rc), over);
        topt.progress = !quiet;
        topt.eval_train = train_eval;
        topt.traced_synapses = 0;
        topt.drift_times_s.clear();
        topt.source = src;
        return train_gan(gan, mcasim::on_tiles(cfg, rc.platform.tiles), data, gopt, topt);
      }
      if (tr->count("--fd-classifier") + tr->count("--fd-samples") > 0) {
        throw std::invalid_argument("--fd-classifier and --fd-samples are for a GAN (gan-mnist)");
      }
      const auto net = mcasim::load_network(network_name);
      const auto data = load_data(src, net, cfg);
      mcasim::check_input(net, cfg, data.train, dataset_name);
      mcasim::write_run_files(topt.out_dir, "train", topt.seed, mcasim::to_tree(rc), over);
      topt.progress = !quiet;
      topt.eval_train = train_eval;
      topt.traced_synapses = 0;
      topt.drift_times_s.clear();
      topt.source = src;
      // The mca layers compute on the hardware's tiles (platform.tiles).
      return train_network(net, mcasim::on_tiles(cfg, rc.platform.tiles), data, topt);
    } else if (*es) {
      auto rc = effective("mca");
      mcasim::network_run_config& cfg = rc.training;
      if (est_batch > 0) cfg.batch = est_batch;
      if (est_threads > 0) cfg.threads = est_threads;
      cfg.validate();
      // A network, or a GAN: its generator's and discriminator's layers on
      // the hardware, a sample a real image of the discriminator's.
      const mcasim::platform_workload work =
          mcasim::describes_gan(mcasim::load_description(est_network))
              ? mcasim::platform_workload(mcasim::load_gan(est_network))
              : mcasim::platform_workload(mcasim::load_network(est_network));
      const mcasim::network_spec& net = work.layers;
      const auto data = mcasim::load_dataset(est_dataset, est_data, est.warmup + est.images, 1,
                                             net.steps(cfg.bptt));
      if (work.gan) {
        mcasim::check_gan_input(*work.gan, data.train, est_dataset);
      } else {
        mcasim::check_input(net, cfg, data.train, est_dataset);
      }
      est.traces.timeline = trace_timeline;
      est.traces.vcd = trace_vcd;
      std::tie(est.traces.first, est.traces.last) = mcasim::parse_image_range(trace_images);
      est.progress = !est_quiet;
      const auto doc = mcasim::run_estimate(work, cfg, data.train, rc.tech, rc.platform, est,
                                            mcasim::to_tree(rc), over);
      std::fputs(mcasim::estimate_markdown(doc).c_str(), stdout);
      std::printf("\nresults in %s/estimate.json and estimate.md\n", est.out_dir.c_str());
    } else if (*tb) {
      t1.traces.timeline = trace_timeline;
      t1.traces.vcd = trace_vcd;
      std::tie(t1.traces.first, t1.traces.last) = mcasim::parse_image_range(trace_images);
      const auto rc = effective("table1-mca");  // platform and technology; experiments per design
      const auto data = mcasim::load_mnist(t1_data, 0, 0);
      t1.progress = !t1_quiet;
      const auto doc = mcasim::run_table1(data, rc.tech, t1, rc.platform, over);
      std::fputs(mcasim::table1_markdown(doc).c_str(), stdout);
      std::printf("\nresults in %s/table1.json and table1.md\n", t1.out_dir.c_str());
    } else if (*tr && !design.empty()) {
      const auto rc = effective("table1-" + design);
      const auto data = mcasim::load_mnist(data_dir, train_limit, test_limit);
      mcasim::platform_train_options po;
      po.design = design;
      po.epochs = topt.epochs;
      po.seed = topt.seed;
      po.out_dir = topt.out_dir;
      po.progress = !quiet;
      po.traces.timeline = trace_timeline;
      po.traces.vcd = trace_vcd;
      std::tie(po.traces.first, po.traces.last) = mcasim::parse_image_range(trace_images);
      mcasim::write_run_files(po.out_dir, "train", po.seed, mcasim::to_tree(rc), over);
      const auto doc = mcasim::run_platform_training(data.train, data.test, rc.experiment, rc.tech,
                                                     po, rc.platform);
      std::printf("[%s] max test accuracy %.2f%%; results in %s\n", design.c_str(),
                  100.0 * doc["max_test_accuracy"].get<double>(), po.out_dir.c_str());
    } else if (*tr) {
      const auto rc = effective(experiment);
      const auto& cfg = rc.experiment;
      auto data = mcasim::load_mnist(data_dir, train_limit, test_limit);
      mcasim::write_run_files(topt.out_dir, "train", topt.seed, mcasim::to_tree(rc), over);
      topt.progress = !quiet;
      topt.eval_train = !no_train_eval;
      topt.source = {{"data", data_dir}, {"train_limit", train_limit}, {"test_limit", test_limit}};
      return train_functional(cfg, data, topt);
    }
  } catch (const mcasim::config_error& e) {
    std::fprintf(stderr, "mcasim: configuration error: %s\n", e.what());
    return 2;
  } catch (const mcasim::network_error& e) {
    std::fprintf(stderr, "mcasim: network error: %s\n", e.what());
    return 2;
  } catch (const mcasim::training_error& e) {
    std::fprintf(stderr, "mcasim: training stopped: %s\n", e.what());
    return 1;
  } catch (const mcasim::data_error& e) {
    std::fprintf(stderr, "mcasim: data error: %s\n", e.what());
    return 1;
  } catch (const mcasim::technology_error& e) {
    std::fprintf(stderr, "mcasim: technology error: %s\n", e.what());
    return 1;
  } catch (const mcasim::state_error& e) {
    std::fprintf(stderr, "mcasim: checkpoint error: %s\n", e.what());
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

// libsystemc's main() would print the kernel banner first; this one silences
// it and then enters the kernel, which calls sc_main.
int main(int argc, char** argv) {
  // Training runs with sleeping OpenMP threads (util/library_env.h;
  // config.json records the policy).
  if (argc >= 2 && (std::string(argv[1]) == "train" || std::string(argv[1]) == "estimate")) {
    mcasim::restart_with_sleeping_threads(argv);
  }
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  return sc_core::sc_elab_and_sim(argc, argv);
}
