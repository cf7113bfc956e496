// The mcasim command line, run as a child process: help, argument errors,
// data errors, and small characterize and train runs on generated data.
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "test_util.h"

#ifndef MCASIM_EXE
#error "MCASIM_EXE must name the mcasim binary"
#endif

namespace mcasim {
namespace {

struct run_result {
  int exit_code = -1;
  std::string out, err;
};

// Runs `mcasim <args>` with stdout and stderr captured in files of `dir`.
run_result run_mcasim(const test::temp_dir& dir, const std::string& args) {
  const std::string out = dir.file("stdout.txt"), err = dir.file("stderr.txt");
  const std::string cmd =
      std::string("'") + MCASIM_EXE + "' " + args + " >'" + out + "' 2>'" + err + "' </dev/null";
  const int status = std::system(cmd.c_str());
  run_result r;
  if (status != -1 && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  r.out = test::read_text(out);
  r.err = test::read_text(err);
  return r;
}

// DIR/data holding synthetic MNIST files of `train` and `test` images.
std::string synthetic_data(const test::temp_dir& dir, std::size_t train, std::size_t test) {
  const std::string data = dir.file("data");
  std::filesystem::create_directories(data);
  test::write_synthetic_mnist(data, train, test);
  return data;
}

// DIR/net.json: 784 -> 16 ReLU -> 10 with softmax cross-entropy.
std::string tiny_mlp(const test::temp_dir& dir) {
  const std::string net = dir.file("net.json");
  std::ofstream(net) << R"({"name": "tiny", "input": [784], "layers": [
      {"kind": "dense", "name": "h", "units": 16}, {"kind": "relu"},
      {"kind": "dense", "name": "o", "units": 10}, {"kind": "cross_entropy"}]})";
  return net;
}

TEST(Cli, HelpExitsZero) {
  test::temp_dir dir;
  const run_result r = run_mcasim(dir, "--help");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("characterize"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("train"), std::string::npos) << r.out;
  const run_result t = run_mcasim(dir, "train --help");
  EXPECT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("--experiment"), std::string::npos) << t.out;
}

TEST(Cli, NoSubcommandIsAnError) {
  test::temp_dir dir;
  const run_result r = run_mcasim(dir, "");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(r.err.empty());
}

TEST(Cli, MissingDataNamesTheFile) {
  test::temp_dir dir;
  const run_result r = run_mcasim(
      dir, "train --out '" + dir.file("out") + "' --data /nonexistent --epochs 1 --quiet");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("/nonexistent/train-images-idx3-ubyte"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("out/metrics.json")));
}

TEST(Cli, UnknownExperimentIsRejected) {
  test::temp_dir dir;
  const run_result r =
      run_mcasim(dir, "train --experiment bogus --out '" + dir.file("out") + "' --data /x");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("bogus"), std::string::npos) << r.err;
}

TEST(Cli, OutIsRequired) {
  test::temp_dir dir;
  const run_result r = run_mcasim(dir, "characterize --devices 10");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--out"), std::string::npos) << r.err;
}

TEST(Cli, OutOfRangeOptionIsRejected) {
  test::temp_dir dir;
  const run_result r = run_mcasim(dir, "characterize --devices 1 --out '" + dir.file("o") + "'");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--devices"), std::string::npos) << r.err;
}

TEST(Cli, CharacterizeWritesOneRowPerPulse) {
  test::temp_dir dir;
  const std::string out = dir.file("char");
  const run_result r =
      run_mcasim(dir, "characterize --devices 500 --pulses 20 --out '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream csv(test::read_text(out + "/characterization.csv"));
  std::string header, line;
  std::getline(csv, header);
  EXPECT_EQ(header.rfind("pulse,mean_us,std_us", 0), 0u) << header;
  int rows = 0;
  while (std::getline(csv, line)) {
    EXPECT_EQ(line.rfind(std::to_string(rows) + ",", 0), 0u) << line;
    ++rows;
  }
  EXPECT_EQ(rows, 21);
  const auto doc = nlohmann::json::parse(test::read_text(out + "/characterization.json"));
  EXPECT_EQ(doc["devices"], 500);
  EXPECT_EQ(doc["command"], "characterize");
}

TEST(Cli, TrainOnGeneratedData) {
  test::temp_dir dir;
  const std::string data = synthetic_data(dir, 200, 50);
  const std::string out = dir.file("out");
  const run_result r = run_mcasim(dir, "train --experiment fp64 --epochs 1 --quiet --data '" +
                                           data + "' --out '" + out + "' --train-limit 150");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto doc = nlohmann::json::parse(test::read_text(out + "/metrics.json"));
  EXPECT_EQ(doc["experiment"], "fp64");
  EXPECT_EQ(doc["train_images"], 150);
  EXPECT_EQ(doc["test_images"], 50);
  EXPECT_EQ(doc["epochs"].size(), 1u);
  EXPECT_NE(r.out.find("max test accuracy"), std::string::npos) << r.out;
}

// `train` and `estimate` run their threads with OMP_WAIT_POLICY=PASSIVE
// unless the environment sets a policy (they start again to apply it);
// config.json records the policy and OpenBLAS's kernel setting a run had.
// Other commands leave the environment alone.
TEST(Cli, TrainingThreadsSleepUnlessTheEnvironmentSetsAPolicy) {
  test::temp_dir dir;
  const std::string data = synthetic_data(dir, 60, 20);
  const std::string net = tiny_mlp(dir);
  auto environment = [&](const std::string& env, const std::string& args, const std::string& out) {
    const std::string cmd = env + " '" + MCASIM_EXE + "' " + args + " --out '" + out + "' >'" +
                            dir.file("log.txt") + "' 2>&1 </dev/null";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd << "\n" << test::read_text(dir.file("log.txt"));
    return nlohmann::json::parse(test::read_text(out + "/config.json"))["environment"];
  };
  const std::string train = "train --network '" + net + "' --numerics fp32 --epochs 1 --batch 8 " +
                            "--threads 2 --quiet --data '" + data + "'";
  const auto unset =
      environment("env -u OMP_WAIT_POLICY OPENBLAS_CORETYPE=HASWELL", train, dir.file("unset"));
  EXPECT_EQ(unset["OMP_WAIT_POLICY"], "PASSIVE");
  EXPECT_EQ(unset["OPENBLAS_CORETYPE"], "HASWELL");
  const auto set =
      environment("env OMP_WAIT_POLICY=ACTIVE OPENBLAS_CORETYPE=HASWELL", train, dir.file("set"));
  EXPECT_EQ(set["OMP_WAIT_POLICY"], "ACTIVE");
  EXPECT_EQ(environment("env -u OMP_WAIT_POLICY -u OPENBLAS_CORETYPE", train,
                        dir.file("none"))["OPENBLAS_CORETYPE"],
            nullptr);
  // The wait policy changes speed, not results.
  auto losses = [&](const std::string& out) {
    const auto doc = nlohmann::json::parse(test::read_text(out + "/metrics.json"));
    std::vector<double> v;
    for (const auto& e : doc["epochs"]) v.push_back(e["test_loss"].get<double>());
    return v;
  };
  EXPECT_EQ(losses(dir.file("unset")), losses(dir.file("set")));
  EXPECT_FALSE(losses(dir.file("unset")).empty());
  EXPECT_EQ(environment("env -u OMP_WAIT_POLICY", "characterize --devices 20 --pulses 20",
                        dir.file("char"))["OMP_WAIT_POLICY"],
            nullptr);
}

TEST(Cli, CorruptDataIsADataError) {
  test::temp_dir dir;
  const std::string data = synthetic_data(dir, 20, 10);
  test::write_bytes(data + "/t10k-labels-idx1-ubyte", {0, 0, 8, 1, 0, 0, 0, 10, 1});
  const run_result r =
      run_mcasim(dir, "train --quiet --data '" + data + "' --out '" + dir.file("out") + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("data error"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("t10k-labels-idx1-ubyte"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
}

// The metrics document without wall-clock fields.
nlohmann::json deterministic_metrics(const std::string& path) {
  auto doc = nlohmann::json::parse(test::read_text(path));
  doc.erase("train_wall_s");
  doc.erase("train_images_per_wall_s");
  for (auto& e : doc["epochs"]) {
    e.erase("train_wall_s");
    e.erase("train_images_per_wall_s");
  }
  return doc;
}

// A training run killed by SIGTERM in its second epoch stops cleanly with a
// checkpoint; `train --resume` finishes it with the results of a run that was
// never interrupted.
TEST(Cli, KilledTrainingResumesToTheUninterruptedResult) {
  test::temp_dir dir;
  const std::string data = synthetic_data(dir, 3000, 300);
  const std::string args =
      "train --experiment mca --epochs 6 --quiet --no-train-eval --data '" + data + "' --out ";
  const run_result whole = run_mcasim(dir, args + "'" + dir.file("whole") + "'");
  ASSERT_EQ(whole.exit_code, 0) << whole.err;

  const std::string out = dir.file("killed"), log = dir.file("killed.txt");
  const std::string cmd =
      std::string("exec '") + MCASIM_EXE + "' " + args + "'" + out + "' >'" + log + "' 2>&1";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Kill it once the first epoch is reported (5 remain: seconds of work).
  for (int i = 0; i < 30000 && test::read_text(log).find("epoch 1/6") == std::string::npos; ++i) {
    usleep(1000);
  }
  ASSERT_NE(test::read_text(log).find("epoch 1/6"), std::string::npos) << test::read_text(log);
  kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "not a clean exit";
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM) << test::read_text(log);
  EXPECT_NE(test::read_text(log).find("continue with: mcasim train --resume"), std::string::npos)
      << test::read_text(log);
  EXPECT_EQ(nlohmann::json::parse(test::read_text(out + "/metrics.json"))["status"], "interrupted");

  const run_result bad = run_mcasim(dir, "train --resume '" + out + "' --seed 3");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("drop --seed"), std::string::npos) << bad.err;

  const run_result resumed = run_mcasim(dir, "train --quiet --resume '" + out + "'");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.out.find("resuming"), std::string::npos) << resumed.out;
  EXPECT_EQ(deterministic_metrics(out + "/metrics.json"),
            deterministic_metrics(dir.file("whole/metrics.json")));
  EXPECT_EQ(test::read_text(out + "/synapses.csv"),
            test::read_text(dir.file("whole/synapses.csv")));
}

// `network show` prints a built-in as the JSON a file holds; that file
// trains like the built-in; a bad file is refused before any work, naming
// the layer and the field.
TEST(Cli, NetworkShowAndBadDescriptions) {
  test::temp_dir dir;
  const run_result shown = run_mcasim(dir, "network show mlp-table1");
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  const auto j = nlohmann::json::parse(shown.out);
  EXPECT_EQ(j["name"], "mlp-table1");
  EXPECT_EQ(j["layers"].size(), 4u);
  const run_result summary = run_mcasim(dir, "network show cnn-cifar10 --summary");
  ASSERT_EQ(summary.exit_code, 0) << summary.err;
  EXPECT_NE(summary.out.find("1469994 parameters in 9 weight layers"), std::string::npos)
      << summary.out;
  const std::string bad = dir.file("bad.json");
  std::ofstream(bad) << R"({"input": [784], "layers": [{"kind": "dense", "name": "h"},
                            {"kind": "mse"}]})";
  const run_result r = run_mcasim(dir, "network show '" + bad + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("network error: " + bad + ": layer 0 'h': missing field 'units'"),
            std::string::npos)
      << r.err;
  const run_result t =
      run_mcasim(dir, "train --network '" + bad + "' --out '" + dir.file("o") + "'");
  EXPECT_EQ(t.exit_code, 2);
  EXPECT_NE(t.err.find("missing field 'units'"), std::string::npos) << t.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("o/metrics.json")));
  const run_result unknown = run_mcasim(dir, "network show no-such-net");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("neither a built-in"), std::string::npos) << unknown.err;
}

// A GAN: shown as its two networks, trained by `train --network` with its
// pictures per epoch, refused by the commands that take one network, and a
// --fd-classifier that is not a trained network refused naming the file.
TEST(Cli, GanShowTrainAndRefusals) {
  test::temp_dir dir;
  test::write_synthetic_mnist(dir.path().string(), 20, 20);
  const run_result shown = run_mcasim(dir, "network show gan-mnist --summary");
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("GAN gan-mnist: noise 100"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("1231441 parameters in 3 weight layers"), std::string::npos)
      << shown.out;
  const std::string common = "train --network gan-mnist --numerics fp32 --data '" +
                             dir.path().string() + "' --batch 10 --epochs 1 --quiet --out '";
  const run_result t = run_mcasim(dir, common + dir.file("g") + "'");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("no --fd-classifier"), std::string::npos) << t.out;
  const auto m = nlohmann::json::parse(test::read_text(dir.file("g/metrics.json")));
  EXPECT_TRUE(m["epochs"][0].contains("generator_loss"));
  EXPECT_TRUE(std::filesystem::exists(dir.file("g/samples/epoch_001.png")));
  const std::string bad = dir.file("bad.bin");
  std::ofstream(bad) << "no";
  const run_result fd = run_mcasim(dir, common + dir.file("h") + "' --fd-classifier '" + bad + "'");
  EXPECT_EQ(fd.exit_code, 1);
  EXPECT_NE(fd.err.find(bad), std::string::npos) << fd.err;
  const run_result map = run_mcasim(dir, "network map gan-mnist");
  EXPECT_EQ(map.exit_code, 2);
  EXPECT_NE(map.err.find("a GAN"), std::string::npos) << map.err;
  const run_result extra =
      run_mcasim(dir, "train --network mlp-paper --fd-samples 10 --out '" + dir.file("i") + "'");
  EXPECT_EQ(extra.exit_code, 2);
  EXPECT_NE(extra.err.find("are for a GAN"), std::string::npos) << extra.err;
}

// `network map` draws a network on the configured tiles and refuses one
// that needs more tiles than the array has, naming the layer.
TEST(Cli, NetworkMapOnConfiguredTiles) {
  test::temp_dir dir;
  const run_result m = run_mcasim(dir,
                                  "network map mlp-paper --set platform.tiles.rows=256 "
                                  "--set platform.tiles.cols=256");
  ASSERT_EQ(m.exit_code, 0) << m.err;
  EXPECT_NE(m.out.find("785 x 250    4 x 1      4"), std::string::npos) << m.out;
  const run_result few = run_mcasim(dir,
                                    "network map cnn-cifar10 --set platform.tiles.rows=256 "
                                    "--set platform.tiles.cols=256 --set platform.tiles.count=20");
  EXPECT_NE(few.exit_code, 0);
  EXPECT_NE(few.err.find("layer 19 'fc1' (2049 x 512) needs 18 tiles"), std::string::npos)
      << few.err;
  // Tiles sized to each layer (rows and cols 0, the default) or of one size.
  const run_result own = run_mcasim(dir, "network map mlp-paper");
  ASSERT_EQ(own.exit_code, 0) << own.err;
  EXPECT_NE(own.out.find("785 x 250    1 x 1      1"), std::string::npos) << own.out;
  const run_result bad = run_mcasim(dir,
                                    "network map mlp-paper --set platform.tiles.rows=0 "
                                    "--set platform.tiles.cols=256");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("platform.tiles.rows and platform.tiles.cols"), std::string::npos)
      << bad.err;
  const run_result big = run_mcasim(dir,
                                    "network map mlp-paper --set platform.tiles.rows=70000 "
                                    "--set platform.tiles.cols=256");
  EXPECT_EQ(big.exit_code, 2);
  EXPECT_NE(
      big.err.find("platform.tiles.rows must be in [0, 65536] (0: sized to each layer), got 70000"),
      std::string::npos)
      << big.err;
}

// train --network on generated MNIST files in every numerics: metrics.json
// holds one object per epoch with the promised fields, the configuration is
// recorded with the thread count; data that does not fit is refused.
TEST(Cli, TrainNetworkInEveryNumerics) {
  test::temp_dir dir;
  const std::string data = synthetic_data(dir, 120, 40);
  const std::string net = tiny_mlp(dir);
  for (const char* numerics : {"fp32", "digital-mp", "mca"}) {
    const std::string out = dir.file(std::string("out-") + numerics);
    const run_result r =
        run_mcasim(dir, std::string("train --network '") + net + "' --numerics " + numerics +
                            " --epochs 2 --batch 8 --learning-rate 0.05 --momentum 0.5 --threads 1"
                            " --quiet --data '" +
                            data + "' --out '" + out + "'");
    ASSERT_EQ(r.exit_code, 0) << numerics << ": " << r.err;
    const auto doc = nlohmann::json::parse(test::read_text(out + "/metrics.json"));
    EXPECT_EQ(doc["status"], "complete");
    EXPECT_EQ(doc["numerics"], numerics);
    EXPECT_EQ(doc["threads"], 1);
    EXPECT_EQ(doc["training"]["batch"], 8);
    ASSERT_EQ(doc["epochs"].size(), 2u);
    for (const auto& e : doc["epochs"]) {
      for (const char* key : {"epoch", "train_accuracy", "test_accuracy", "test_loss"}) {
        EXPECT_TRUE(e.contains(key)) << numerics << " " << key;
      }
    }
    EXPECT_TRUE(doc.contains("max_test_accuracy"));
    const auto cfg = nlohmann::json::parse(test::read_text(out + "/config.json"));
    EXPECT_EQ(cfg["effective"]["training"]["numerics"], numerics);
    EXPECT_EQ(cfg["effective"]["training"]["momentum"], 0.5);
  }
  const run_result wrong = run_mcasim(dir, "train --network cnn-cifar10 --quiet --data '" + data +
                                               "' --out '" + dir.file("w") + "'");
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_NE(wrong.err.find("takes input [3, 32, 32] but mnist has samples of [1, 28, 28]"),
            std::string::npos)
      << wrong.err;
  const run_result mixed = run_mcasim(
      dir, "train --network mlp-paper --experiment mca --quiet --out '" + dir.file("m") + "'");
  EXPECT_NE(mixed.exit_code, 0);
  EXPECT_NE(mixed.err.find("excludes"), std::string::npos) << mixed.err;
  const run_result diverge = run_mcasim(
      dir, "train --network '" + net + "' --learning-rate 1e30 --epochs 1 --quiet --data '" + data +
               "' --out '" + dir.file("nan") + "'");
  EXPECT_EQ(diverge.exit_code, 1);
  EXPECT_NE(diverge.err.find("training stopped: the training loss became"), std::string::npos)
      << diverge.err;
  EXPECT_NE(diverge.err.find("at epoch 1, batch"), std::string::npos) << diverge.err;
}

// `estimate` of a character LSTM: a sample is a sequence of training.bptt
// characters; every design and stage has energy and time, the MCA's lstm
// tile converts every step's h(t-1), x(t) and bias, and the mapping counts
// an MVM per step.
TEST(Cli, EstimateOfAnLstmCountsEveryStepOfTheSequence) {
  test::temp_dir dir;
  std::string text;
  for (int k = 0; k < 60; ++k) text += " a b _ c a \n";
  std::ofstream(dir.file("ptb.char.train.txt")) << text;
  std::ofstream(dir.file("ptb.char.valid.txt")) << text.substr(0, 60);
  std::ofstream(dir.file("ptb.char.test.txt")) << text.substr(0, 60);
  const std::string net = dir.file("lstm.json");
  std::ofstream(net) << R"({"name": "lstm-tiny", "input": [1], "layers": [
      {"kind": "one_hot", "name": "chars", "size": 5}, {"kind": "lstm", "name": "l1", "units": 6},
      {"kind": "dense", "name": "o", "units": 5}, {"kind": "cross_entropy"}]})";
  const std::string out = dir.file("est");
  const run_result r = run_mcasim(
      dir, "estimate --network '" + net +
               "' --dataset ptb-char --images 3 --batch 1 --threads 1 --set training.bptt=7 "
               "--quiet --data '" +
               dir.path().string() + "' --out '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto doc = nlohmann::json::parse(test::read_text(out + "/estimate.json"));
  EXPECT_EQ(doc["steps_per_sample"], 7);
  for (const char* d : {"digital32", "digital-mp", "mca"}) {
    const auto& st = doc["designs"][d]["stages"];
    for (const char* s : {"forward", "backward", "update"}) {
      EXPECT_GT(st[s]["energy_nj"].get<double>(), 0.0) << d << " " << s;
      EXPECT_GT(st[s]["time_us"].get<double>(), 0.0) << d << " " << s;
    }
    const double acc = doc["designs"][d]["train_accuracy_measured_window"].get<double>();
    EXPECT_GE(acc, 0.0) << d;
    EXPECT_LE(acc, 1.0) << d;
  }
  double pwm = 0;
  for (const auto& e : doc["designs"]["mca"]["ledger"]) {
    if (e["component"] == "mca.tile_0.pwm" && e["stage"] == "forward") {
      pwm += e["count_per_image"].get<double>();
    }
  }
  EXPECT_DOUBLE_EQ(pwm, 7.0 * (6 + 5 + 1));
  EXPECT_EQ(doc["mapping"]["layers"][0]["mvms_per_sample"], 7);
  EXPECT_NE(test::read_text(out + "/estimate.md").find("a sequence of 7 steps"), std::string::npos);
}

// `estimate` of a GAN: both networks' weight layers on the designs, the
// generator's first; a sample is a real image (a discriminator step on it
// and a generated one, a generator step through the discriminator).
TEST(Cli, EstimateOfAGanPutsBothNetworksOnTheDesigns) {
  test::temp_dir dir;
  const std::string data = synthetic_data(dir, 40, 10);
  const std::string gan = dir.file("gan.json");
  std::ofstream(gan) << test::tiny_gan_json();
  const std::string out = dir.file("est");
  const run_result r = run_mcasim(dir, "estimate --network '" + gan +
                                           "' --images 8 --warmup 4 --batch 4 --threads 1 "
                                           "--quiet --data '" +
                                           data + "' --out '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto doc = nlohmann::json::parse(test::read_text(out + "/estimate.json"));
  EXPECT_EQ(doc["network"], "gan-tiny");
  EXPECT_TRUE(doc.contains("gan"));
  EXPECT_EQ(doc["parameters"], 9 * 16 + 17 * 784 + 785 * 16 + 5);
  ASSERT_EQ(doc["mapping"]["layers"].size(), 4u);
  EXPECT_EQ(doc["mapping"]["layers"][0]["layer"], "g1");
  EXPECT_EQ(doc["mapping"]["layers"][3]["layer"], "d2");
  for (const char* d : {"digital32", "digital-mp", "mca"}) {
    const auto& st = doc["designs"][d]["stages"];
    for (const char* s : {"forward", "backward", "update"}) {
      EXPECT_GT(st[s]["energy_nj"].get<double>(), 0.0) << d << " " << s;
    }
    const double acc = doc["designs"][d]["train_accuracy_measured_window"].get<double>();
    EXPECT_GE(acc, 0.0) << d;
    EXPECT_LE(acc, 1.0) << d;
    EXPECT_EQ(doc["designs"][d]["layers"].size(), 4u) << d;
  }
  // Samples that do not fit the discriminator are refused before any work.
  const std::string small = dir.file("gan-small.json");
  std::ofstream(small) << R"({"name": "gan-100", "noise": 8,
    "generator": {"input": [8], "layers": [{"kind": "dense", "name": "g1", "units": 100}]},
    "discriminator": {"input": [100], "layers": [
      {"kind": "dense", "name": "d1", "units": 1}, {"kind": "sigmoid_cross_entropy"}]}})";
  const run_result bad =
      run_mcasim(dir, "estimate --network '" + small + "' --images 2 --quiet --data '" + data +
                          "' --out '" + dir.file("bad") + "'");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("GAN 'gan-100': its discriminator takes [100]"), std::string::npos)
      << bad.err;
}

// `estimate` runs a small CNN's training samples through the three designs:
// every design and stage has energy and time, the totals are the stages'
// sums, the MCA's first tile converted every patch, and the mapping is
// reported; a network the tiles cannot hold is refused before any work.
TEST(Cli, EstimateOfAnyNetworkOnTheThreeDesigns) {
  test::temp_dir dir;
  const std::string data = synthetic_data(dir, 40, 10);
  const std::string net = dir.file("cnn.json");
  std::ofstream(net) << R"({"name": "cnn-tiny", "input": [1, 28, 28], "layers": [
      {"kind": "conv2d", "name": "c1", "filters": 3, "kernel": 3}, {"kind": "relu"},
      {"kind": "maxpool", "size": 2}, {"kind": "flatten"},
      {"kind": "dense", "name": "o", "units": 10}, {"kind": "cross_entropy"}]})";
  const std::string out = dir.file("est");
  const run_result r = run_mcasim(dir, "estimate --network '" + net +
                                           "' --images 8 --warmup 4 --batch 4 --threads 1 "
                                           "--quiet --data '" +
                                           data + "' --out '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto doc = nlohmann::json::parse(test::read_text(out + "/estimate.json"));
  EXPECT_EQ(doc["network"], "cnn-tiny");
  EXPECT_EQ(doc["measured_images"], 8);
  for (const char* d : {"digital32", "digital-mp", "mca"}) {
    const auto& st = doc["designs"][d]["stages"];
    double e = 0, t = 0;
    for (const char* s : {"forward", "backward", "update"}) {
      EXPECT_GT(st[s]["energy_nj"].get<double>(), 0.0) << d << " " << s;
      EXPECT_GT(st[s]["time_us"].get<double>(), 0.0) << d << " " << s;
      e += st[s]["energy_nj"].get<double>();
      t += st[s]["time_us"].get<double>();
    }
    EXPECT_NEAR(st["total"]["energy_nj"].get<double>(), e, 1e-9 * e) << d;
    EXPECT_NEAR(st["total"]["time_us"].get<double>(), t, 1e-9 * t) << d;
  }
  const auto& mca = doc["designs"]["mca"];
  // The conv layer's 784 patches of 3 x 3 + 1 rows pass the PWM DACs of tile 0.
  double pwm = 0;
  for (const auto& e : mca["ledger"]) {
    if (e["component"] == "mca.tile_0.pwm" && e["stage"] == "forward") {
      pwm += e["count_per_image"].get<double>();
    }
  }
  EXPECT_DOUBLE_EQ(pwm, 784.0 * 10);
  // Area: the devices of both tiles, (10 x 3 + 589 x 10) pairs x 2 x 0.03 um^2.
  EXPECT_NEAR(mca["area"]["by_component_mm2"]["crossbar"].get<double>(), 11840 * 0.03e-6, 1e-12);
  EXPECT_GT(doc["designs"]["digital32"]["area"]["by_component_mm2"]["sram32"].get<double>(), 0.0);
  // The digital units: their lanes of each operation the design does, priced
  // by the technology's area per lane (the 32-bit design has no quantize or
  // outer-product lanes: its update runs on the MAC array); the MCA's bus:
  // a wire per bit.
  const auto cfg = nlohmann::json::parse(test::read_text(out + "/config.json"))["effective"];
  auto unit_area = [&](const char* design, const char* unit,
                       std::initializer_list<const char*> ops) {
    double um2 = 0;
    for (const char* op : ops) {
      um2 += cfg["platform"][unit][std::string(op) + "_lanes"].get<double>() *
             cfg["technology"]["area_um2"][unit][std::string(op) + "_lane"].get<double>();
    }
    EXPECT_NEAR(doc["designs"][design]["area"]["by_component_mm2"][unit].get<double>(), um2 * 1e-6,
                1e-12)
        << design;
  };
  unit_area("digital32", "du_digital32", {"activation", "derivative", "error"});
  unit_area("digital-mp", "du_digital_mp",
            {"activation", "derivative", "error", "quantize", "outer_product"});
  unit_area("mca", "du_mca",
            {"activation", "derivative", "error", "quantize", "outer_product", "partial_sum"});
  EXPECT_NEAR(mca["area"]["by_component_mm2"]["bus"].get<double>(),
              cfg["platform"]["bus"]["width_bits"].get<double>() *
                  cfg["technology"]["area_um2"]["bus"]["wire_bit"].get<double>() * 1e-6,
              1e-12);
  ASSERT_EQ(mca["layers"].size(), 2u);
  EXPECT_EQ(mca["layers"][0]["layer"], "c1");
  // c1 (10 x 3) and o (589 x 10) each on a tile of its own size.
  EXPECT_EQ(doc["mapping"]["tiles_used"], 2);
  EXPECT_GT(doc["ratios"]["mca_vs_digital32_energy"].get<double>(), 1.0);
  const std::string md = test::read_text(out + "/estimate.md");
  EXPECT_NE(md.find("| 32-bit digital | energy |"), std::string::npos) << md;
  EXPECT_NE(md.find("| c1 | "), std::string::npos) << md;
  EXPECT_NE(md.find("| network-wide | "), std::string::npos) << md;
  // By layer: every design's layers and network-wide part add up to its
  // stages; the 32-bit design's c1 did 784 patches x 10 x 3 MACs per sample
  // forward and one 10 x 3 outer product per batch of 4 in the update.
  for (const char* d : {"digital32", "digital-mp", "mca"}) {
    const auto& dj = doc["designs"][d];
    ASSERT_EQ(dj["layers"].size(), 2u) << d;
    for (const char* s : {"forward", "backward", "update"}) {
      const std::string key = std::string(s) + "_nj";
      const double sum = dj["layers"][0][key].get<double>() + dj["layers"][1][key].get<double>() +
                         dj["network_wide"][key].get<double>();
      EXPECT_NEAR(sum, dj["stages"][s]["energy_nj"].get<double>(), 1e-9 * sum) << d << " " << s;
    }
  }
  EXPECT_NEAR(
      doc["designs"]["digital32"]["layers"][0]["by_component_nj"]["mac_array"].get<double>(),
      (784.0 * 30 + 30.0 / 4) * 24.18e-3, 1e-9);
  // By layer x stage x component x action: the actions add up to the
  // layer's energy; c1's forward MACs are its patches' products. By layer,
  // time: each layer's share of a sequential stage, together within it.
  for (const char* d : {"digital32", "digital-mp", "mca"}) {
    const auto& dj = doc["designs"][d];
    for (const char* s : {"forward", "backward", "update"}) {
      double layers_us = 0;
      for (const auto& l : dj["layers"]) layers_us += l[std::string(s) + "_us"].get<double>();
      EXPECT_LE(layers_us, dj["stages"][s]["time_us"].get<double>() * (1 + 1e-9)) << d << " " << s;
    }
    for (const auto& l : dj["layers"]) {
      double e = 0;
      for (const auto& a : l["actions"]) e += a["energy_nj"].get<double>();
      EXPECT_NEAR(e, l["total_nj"].get<double>(), 1e-9 * e) << d;
      EXPECT_GT(l["forward_us"].get<double>(), 0.0) << d;
      EXPECT_GT(l["update_us"].get<double>(), 0.0) << d;
    }
  }
  double c1_macs = 0;
  for (const auto& a : doc["designs"]["digital32"]["layers"][0]["actions"]) {
    if (a["stage"] == "forward" && a["component"] == "mac_array") {
      c1_macs += a["count_per_image"].get<double>();
    }
  }
  EXPECT_DOUBLE_EQ(c1_macs, 784.0 * 30);
  // Its SRAM traffic: a weight word read per MAC forward and the update's
  // read and write of its 30 weights per batch of 4 (each layer's own); its
  // 784 inputs per sample (a batch of them, 12.25 KiB, beyond the unit's 8
  // KiB buffer) written to the activation SRAM forward, read by the update.
  EXPECT_NEAR(
      doc["designs"]["digital32"]["layers"][0]["by_component_nj"]["sram32"].get<double>(),
      (784.0 * 30 + 30.0 / 4) * 2.65e-3 + 30.0 / 4 * 13.75e-3 + 784.0 * (13.75e-3 + 2.65e-3), 1e-9);
  const auto& acts = doc["designs"]["digital32"]["memory"]["activations"];
  EXPECT_EQ(acts["layers"]["sram"], nlohmann::json::parse(R"(["c1", "o"])"));
  EXPECT_DOUBLE_EQ(acts["needed_kib"].get<double>(), (784.0 + 588) * 4 * 4 / 1024);
  // 8-bit inputs: a batch of both layers' (3.1 + 2.3 KiB) stays in the buffer.
  EXPECT_EQ(doc["designs"]["mca"]["memory"]["activations"]["layers"]["buffer"],
            nlohmann::json::parse(R"(["c1", "o"])"));
  EXPECT_NE(md.find("| digital32 | 32 | 21.44 KiB | none | c1, o | none |"), std::string::npos)
      << md;
  // On tiles of 256 x 8: o's 589 x 10 weights in 3 row blocks x 2 column
  // blocks; every forward MVM adds 2 row blocks' partial sums into the first
  // one's 10 outputs, every backward MVM one column block's into 588 rows
  // (the bias row's error is not read).
  const std::string small = dir.file("small");
  const run_result sm = run_mcasim(dir, "estimate --network '" + net +
                                            "' --images 8 --warmup 4 --batch 4 --threads 1 "
                                            "--set platform.tiles.rows=256 "
                                            "--set platform.tiles.cols=8 --quiet --data '" +
                                            data + "' --out '" + small + "'");
  ASSERT_EQ(sm.exit_code, 0) << sm.err;
  const auto sdoc = nlohmann::json::parse(test::read_text(small + "/estimate.json"));
  EXPECT_EQ(sdoc["mapping"]["tiles_used"], 7);
  std::map<std::string, double> partial;
  for (const auto& e : sdoc["designs"]["mca"]["ledger"]) {
    if (e["action"] == "partial_sum") partial[e["stage"]] += e["count_per_image"].get<double>();
  }
  EXPECT_DOUBLE_EQ(partial["forward"], 2.0 * 10);
  EXPECT_DOUBLE_EQ(partial["backward"], 1.0 * 588);
  // The seven tiles' devices: area counts every tile's whole array.
  EXPECT_NEAR(sdoc["designs"]["mca"]["area"]["by_component_mm2"]["crossbar"].get<double>(),
              7 * 256 * 8 * 2 * 0.03e-6, 1e-12);
  const run_result few = run_mcasim(dir, "estimate --network '" + net +
                                             "' --set platform.tiles.count=1 --quiet --data '" +
                                             data + "' --out '" + dir.file("few") + "'");
  EXPECT_NE(few.exit_code, 0);
  EXPECT_NE(few.err.find("layer 4 'o'"), std::string::npos) << few.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("few") + "/estimate.json"));
  const run_result many =
      run_mcasim(dir, "estimate --network '" + net + "' --images 50 --quiet --data '" + data +
                          "' --out '" + dir.file("many") + "'");
  EXPECT_NE(many.exit_code, 0);
  EXPECT_NE(many.err.find("exceeds the 40 training samples"), std::string::npos) << many.err;
  // A layer's own numerics trains functionally; the designs hold one numerics.
  const run_result mixed = run_mcasim(dir, "estimate --network '" + net +
                                               "' --set training.layers.o.numerics=fp32 --images 8 "
                                               "--warmup 4 --batch 4 --quiet --data '" +
                                               data + "' --out '" + dir.file("mixed") + "'");
  EXPECT_NE(mixed.exit_code, 0);
  EXPECT_NE(mixed.err.find("training.layers.o.numerics = fp32"), std::string::npos) << mixed.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("mixed") + "/estimate.json"));
}

// train --network on fixed-size tiles (platform.tiles): the run records the
// tiles, computes with the blocks' converters (another loss than on tiles
// of the layers' sizes), and a resumed run keeps the tiles of its checkpoint
// to finish with the uninterrupted result.
TEST(Cli, TrainNetworkOnTilesResumesOnTheSameTiles) {
  test::temp_dir dir;
  const std::string data = synthetic_data(dir, 64, 32);
  const std::string net = tiny_mlp(dir);
  auto train = [&](const std::string& out, int epochs, const std::string& extra) {
    return run_mcasim(dir, "train --network '" + net + "' --numerics mca --epochs " +
                               std::to_string(epochs) +
                               " --batch 8 --learning-rate 0.05 --threads 1 --quiet --data '" +
                               data + "' --out '" + out + "'" + extra);
  };
  const std::string tiles = " --set platform.tiles.rows=128 --set platform.tiles.cols=8";
  ASSERT_EQ(train(dir.file("whole"), 2, tiles).exit_code, 0);
  ASSERT_EQ(train(dir.file("own"), 2, "").exit_code, 0);
  const run_result first = train(dir.file("part"), 1, tiles);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const run_result rest =
      run_mcasim(dir, "train --quiet --epochs 2 --resume '" + dir.file("part") + "'");
  ASSERT_EQ(rest.exit_code, 0) << rest.err;
  const auto whole = nlohmann::json::parse(test::read_text(dir.file("whole") + "/metrics.json"));
  const auto own = nlohmann::json::parse(test::read_text(dir.file("own") + "/metrics.json"));
  const auto part = nlohmann::json::parse(test::read_text(dir.file("part") + "/metrics.json"));
  EXPECT_EQ(whole["tiles"]["rows"], 128);
  EXPECT_EQ(whole["tiles"]["cols"], 8);
  EXPECT_EQ(own["tiles"]["rows"], 0);
  EXPECT_EQ(part["tiles"], whole["tiles"]);
  ASSERT_EQ(part["epochs"].size(), 2u);
  ASSERT_EQ(whole["epochs"].size(), 2u);
  for (std::size_t e = 0; e < 2; ++e) {
    EXPECT_EQ(part["epochs"][e]["test_loss"], whole["epochs"][e]["test_loss"]) << "epoch " << e;
  }
  EXPECT_NE(own["epochs"][1]["test_loss"], whole["epochs"][1]["test_loss"]);
}

TEST(Cli, ResumeWithoutCheckpointIsAnError) {
  test::temp_dir dir;
  const run_result r = run_mcasim(dir, "train --resume '" + dir.file("nothing") + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("checkpoint error"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("checkpoint.bin"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace mcasim
