// `mcasim report` renders in headless Chromium: every plot drawn, no console
// errors, a screenshot taken. Needs chromium and Chart.js (scripts/setup.sh).
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>

#include "../test_util.h"

namespace mcasim {
namespace {

const std::string k_exe = MCASIM_EXE;

std::string chromium(const std::string& args, const std::string& log) {
  return "timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic "
         "--no-first-run --disable-background-networking --disable-component-update "
         "--disable-sync --hide-scrollbars --enable-logging=stderr --v=0 "
         "--virtual-time-budget=5000 " +
         args + " 2> " + log;
}

void expect_renders(const test::temp_dir& tmp, const std::string& dir, int min_plots) {
  ASSERT_EQ(
      std::system((k_exe + " report " + dir + " > " + tmp.file("report.log") + " 2>&1").c_str()), 0)
      << test::read_text(tmp.file("report.log"));
  const std::string page = "file://" + std::filesystem::absolute(dir + "/report.html").string();
  const std::string profile = " --user-data-dir=" + tmp.file("profile");
  ASSERT_EQ(std::system((chromium("--dump-dom" + profile + " " + page, tmp.file("chr.log")) +
                         " > " + tmp.file("dom.html"))
                            .c_str()),
            0)
      << test::read_text(tmp.file("chr.log"));
  const std::string dom = test::read_text(tmp.file("dom.html"));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(dom, m, std::regex("rendered (\\d+) of (\\d+) plots")))
      << dom.substr(0, 2000);
  EXPECT_EQ(m[1], m[2]);
  EXPECT_GE(std::stoi(m[1]), min_plots);
  const std::string console = test::read_text(tmp.file("chr.log"));
  EXPECT_EQ(console.find("Uncaught"), std::string::npos) << console;
  EXPECT_EQ(console.find(":ERROR:CONSOLE"), std::string::npos) << console;
  const std::string shot = tmp.file("shot.png");
  ASSERT_EQ(
      std::system((chromium("--window-size=1000,2000 --screenshot=" + shot + profile + " " + page,
                            tmp.file("chr2.log")))
                      .c_str()),
      0);
  ASSERT_TRUE(std::filesystem::exists(shot));
  EXPECT_GT(std::filesystem::file_size(shot), 20000u);  // plots, not a blank page
}

class report : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v chromium > /dev/null 2>&1") != 0) {
      FAIL() << "chromium is not installed: run scripts/setup.sh";
    }
  }
  test::temp_dir tmp;
};

TEST_F(report, training_report_renders_accuracy_updates_drift_and_conductance_plots) {
  const std::string data = tmp.file("mnist");
  std::filesystem::create_directories(data);
  test::write_synthetic_mnist(data, 300, 50);
  const std::string out = tmp.file("train");
  ASSERT_EQ(
      std::system((k_exe + " train --experiment mca --epochs 2 --quiet --trace-every 20 --data " +
                   data + " --out " + out + " > " + tmp.file("train.log") + " 2>&1")
                      .c_str()),
      0)
      << test::read_text(tmp.file("train.log"));
  expect_renders(tmp, out, 4);
}

// An estimate with the weight SRAM limited: designs per stage, the MCA by
// layer, the tiles, DRAM energy: five plots.
TEST_F(report, estimate_report_renders_layers_tiles_and_dram) {
  const std::string data = tmp.file("mnist");
  std::filesystem::create_directories(data);
  test::write_synthetic_mnist(data, 60, 10);
  const std::string out = tmp.file("estimate");
  ASSERT_EQ(std::system((k_exe +
                         " estimate --network mlp-paper --images 20 --threads 1 --quiet "
                         "--set platform.weight_sram32.capacity_kib=100 --data " +
                         data + " --out " + out + " > " + tmp.file("est.log") + " 2>&1")
                            .c_str()),
            0)
      << test::read_text(tmp.file("est.log"));
  expect_renders(tmp, out, 5);
}

// A GAN run's page: the discriminator's accuracy, device updates, the
// Frechet distance, both losses, the conductances of the mca layers and the
// share near saturation (six plots), and every epoch's samples embedded as
// base64 PNG (RFC 4648 vectors: "f", "fo", "foobar").
TEST_F(report, gan_report_embeds_samples_and_plots_fd_losses_and_conductances) {
  const std::string out = tmp.file("gan");
  std::filesystem::create_directories(out + "/samples");
  nlohmann::json doc{{"gan", {{"name", "gan-tiny"}}}, {"numerics", "mca"}, {"seed", 3}};
  const char* contents[] = {"f", "fo", "foobar"};
  for (int e = 1; e <= 3; ++e) {
    const std::string png = "samples/epoch_00" + std::to_string(e) + ".png";
    test::write_bytes(
        out + "/" + png,
        std::vector<unsigned char>(contents[e - 1], contents[e - 1] + strlen(contents[e - 1])));
    const nlohmann::json layer{{"name", "d_out"},
                               {"kind", "dense"},
                               {"g_pos_mean_us", 1.5 + 0.1 * e},
                               {"g_neg_mean_us", 1.4},
                               {"g_high_fraction", 0.01 * e}};
    doc["epochs"].push_back({{"epoch", e},
                             {"test_accuracy", 0.6},
                             {"generator_loss", 1.0 + e},
                             {"discriminator_loss", 0.7 - 0.1 * e},
                             {"frechet_distance", 100.0 - e},
                             {"samples_png", png},
                             {"layers", {{{"name", "d_out"}, {"weight_updates", 10 * e}}}},
                             {"activity", {layer}}});
  }
  std::ofstream(out + "/metrics.json") << doc.dump();
  expect_renders(tmp, out, 6);
  const std::string html = test::read_text(out + "/report.html");
  for (const char* b64 : {"base64,Zg==\"", "base64,Zm8=\"", "base64,Zm9vYmFy\""}) {
    EXPECT_NE(html.find(b64), std::string::npos) << b64;
  }
  for (const char* title : {"Frechet distance per epoch", "Generated samples per epoch",
                            "Devices near saturation per weight layer", "gan-tiny, mca"}) {
    EXPECT_NE(html.find(title), std::string::npos) << title;
  }
}

// A character language model's page plots its bits per character.
TEST_F(report, lstm_report_plots_bits_per_character) {
  const std::string out = tmp.file("lstm");
  std::filesystem::create_directories(out);
  nlohmann::json doc{{"network", {{"name", "lstm-tiny"}}}, {"numerics", "fp32"}, {"seed", 1}};
  for (int e = 1; e <= 2; ++e) {
    doc["epochs"].push_back({{"epoch", e},
                             {"test_accuracy", 0.3},
                             {"test_bpc", 2.0 - 0.1 * e},
                             {"valid_bpc", 2.1 - 0.1 * e},
                             {"online_train_bpc", 2.2 - 0.2 * e}});
  }
  std::ofstream(out + "/metrics.json") << doc.dump();
  expect_renders(tmp, out, 2);
  EXPECT_NE(test::read_text(out + "/report.html").find("Bits per character per epoch"),
            std::string::npos);
}

TEST_F(report, characterization_report_renders) {
  const std::string out = tmp.file("char");
  ASSERT_EQ(std::system(
                (k_exe + " characterize --devices 500 --out " + out + " > /dev/null 2>&1").c_str()),
            0);
  expect_renders(tmp, out, 2);
}

TEST_F(report, sweep_report_renders_parameter_and_pareto_plots) {
  const std::string data = tmp.file("mnist");
  std::filesystem::create_directories(data);
  test::write_synthetic_mnist(data, 200, 30);
  const std::string spec = tmp.file("spec.json");
  test::write_bytes(spec, [&] {
    const std::string t = R"({"command": "table1", "args": ["--warmup", "20", "--images", "50",
        "--data", ")" + data +
                          R"("], "grid": {"experiment.mca.adc_forward.bits": [4, 8]},
        "seed": [1, 2]})";
    return std::vector<unsigned char>(t.begin(), t.end());
  }());
  const std::string out = tmp.file("sweep");
  ASSERT_EQ(
      std::system((k_exe + " sweep " + spec + " --out " + out + " > " + tmp.file("s.log") + " 2>&1")
                      .c_str()),
      0)
      << test::read_text(tmp.file("s.log"));
  expect_renders(tmp, out, 4);
  // Two seeds: one line per seed.
  const std::string html = test::read_text(out + "/report.html");
  EXPECT_NE(html.find("seed=2"), std::string::npos);
  EXPECT_NE(html.find("One line per seed"), std::string::npos);
}

TEST_F(report, a_directory_without_results_is_an_error_naming_it) {
  const std::string empty = tmp.file("empty");
  std::filesystem::create_directories(empty);
  const std::string cmd = k_exe + " report " + empty + " > " + tmp.file("e.log") + " 2>&1";
  EXPECT_NE(std::system(cmd.c_str()), 0);
  EXPECT_NE(test::read_text(tmp.file("e.log")).find(empty), std::string::npos);
}

}  // namespace
}  // namespace mcasim
