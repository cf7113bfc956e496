// How `mcasim table1` assembles its report from measured numbers, without a
// simulation: per-image division, the MCA split into computational memory
// and digital unit, the update-time special case, the headline ratios and
// the deviations from the paper. Inputs are chosen by hand (counts, a
// technology table of round energies, stage and busy times); every expected
// value is worked out by hand in the comments.
#include <gtest/gtest.h>

#include <cmath>
#include <iterator>
#include <set>
#include <string>

#include "app/table1.h"
#include "platform/measure.h"
#include "power/technology.h"

namespace mcasim {
namespace {

// Round energies in pJ.
technology hand_tech() {
  return technology::from_json_text(R"({"name": "hand", "energy_pj": {
    "pwm_dac": {"conversion": 2},
    "adc_bank": {"conversion": 3},
    "crossbar": {"device_read": 0.5, "set_pulse": 10, "reset_pulse": 40},
    "bus": {"beat": 1},
    "sram32": {"read_word": 2, "write_word": 4},
    "du_mca": {"cycle": 2, "error": 1, "outer_product": 1, "outer_scan": 0.5,
               "pulse_command": 5},
    "mac_array": {"mac_32x32": 3},
    "du_digital32": {"cycle": 1},
    "du_digital_mp": {"outer_product": 1}}})",
                                    "hand.json");
}

// Four measured images of the MCA. Totals over the window (pJ = count x energy):
//   forward:  tile0 400 PWM (800) + 200 ADC (600)           CM 1400
//             bus 1000 beats (1000) + du 300 cycles (600)    DU 1600
//   backward: tile1 40 ADC (120)                             CM  120
//             du 40 errors (40)                              DU   40
//   update:   tile0 8 SET (80) + tile1 4 RESET (160)         CM  240
//             du 2000 products (2000) + 4000 scans (2000)
//             + 6 pulse commands (30), chi SRAM 2000 reads
//             (4000) + 2000 writes (8000)                    DU 16030
// Stage times 4, 2, 8 us; tiles busy 1.2 + 0.4 us (forward), 0.8 us
// (backward), 2 + 1 us (update); the digital unit's own busy times must not
// count as computational memory.
design_snapshot mca_snapshot() {
  design_snapshot s;
  s.counts = {
      {"mca.tile0.pwm", "pwm_dac", "forward", "conversion", 400},
      {"mca.tile0.adc", "adc_bank", "forward", "conversion", 200},
      {"mca.data_bus", "bus", "forward", "beat", 1000},
      {"mca.du", "du_mca", "forward", "cycle", 300},
      {"mca.tile1.adc", "adc_bank", "backward", "conversion", 40},
      {"mca.du", "du_mca", "backward", "error", 40},
      {"mca.tile0.array", "crossbar", "update", "set_pulse", 8},
      {"mca.tile1.array", "crossbar", "update", "reset_pulse", 4},
      {"mca.du", "du_mca", "update", "outer_product", 2000},
      {"mca.du", "du_mca", "update", "outer_scan", 4000},
      {"mca.du", "du_mca", "update", "pulse_command", 6},
      {"mca.chi_sram", "sram32", "update", "read_word", 2000},
      {"mca.chi_sram", "sram32", "update", "write_word", 2000},
  };
  s.busy_times = {
      {"computational memory", "pwm_dac", "forward", 1.2e-6},
      {"computational memory", "adc_bank", "forward", 0.4e-6},
      {"computational memory", "adc_bank", "backward", 0.8e-6},
      {"computational memory", "crossbar", "update", 2e-6},
      {"computational memory", "crossbar", "update", 1e-6},
      {"digital unit", "du_mca", "forward", 3.9e-6},
      {"digital unit", "du_mca", "update", 7e-6},
  };
  s.stage_s = {4e-6, 2e-6, 8e-6};
  return s;
}

double num(const nlohmann::json& j, const char* key) {
  EXPECT_TRUE(j.contains(key)) << "missing " << key << " in " << j.dump();
  return j.contains(key) ? j[key].get<double>() : NAN;
}

void expect_cell(const nlohmann::json& c, double e_nj, double t_us, double e_dev, double t_dev) {
  EXPECT_NEAR(num(c, "energy_nj"), e_nj, 1e-12 * std::fabs(e_nj)) << c.dump();
  EXPECT_NEAR(num(c, "time_us"), t_us, 1e-12 * std::fabs(t_us)) << c.dump();
  EXPECT_NEAR(num(c, "energy_dev_pct"), e_dev, 1e-9) << c.dump();
  if (std::isnan(t_dev)) {
    EXPECT_FALSE(c.contains("paper_time_us")) << c.dump();
    EXPECT_FALSE(c.contains("time_dev_pct")) << c.dump();
  } else {
    EXPECT_NEAR(num(c, "time_dev_pct"), t_dev, 1e-9) << c.dump();
  }
}

TEST(table1_report, mca_stages_are_per_image_totals_with_paper_deviations) {
  const technology tech = hand_tech();
  const auto r = table1_design_report("mca", mca_snapshot(), tech, 4);
  const auto& st = r["stages"];
  // Per image: forward (1400 + 1600) / 4 = 750 pJ, 4 us / 4; paper 16.18 nJ,
  // 0.61 us: 100 (0.75 - 16.18) / 16.18 = -95.3646...%, 100 (1 - 0.61) / 0.61.
  expect_cell(st["forward"], 0.75, 1.0, -95.3646477132262, 63.9344262295082);
  EXPECT_DOUBLE_EQ(num(st["forward"], "paper_energy_nj"), 16.18);
  EXPECT_DOUBLE_EQ(num(st["forward"], "paper_time_us"), 0.61);
  // Backward 160 / 4 = 40 pJ, 0.5 us; paper 4.88 nJ, 0.22 us.
  expect_cell(st["backward"], 0.04, 0.5, -99.18032786885246, 127.2727272727273);
  // Update (240 + 16030) / 4 = 4067.5 pJ, 2 us; paper 62.03 nJ, 1.19 us.
  expect_cell(st["update"], 4.0675, 2.0, -93.44268902144124, 68.0672268907563);
  // Total 4.8575 nJ, 3.5 us; paper 83.08 nJ, 2.01 us.
  expect_cell(st["total"], 4.8575, 3.5, -94.15322580645162, 74.12935323383087);
  EXPECT_NEAR(num(r, "throughput_images_per_s"), 1e6 / 3.5, 1e-6);
}

TEST(table1_report, mca_parts_split_tiles_from_bus_sram_and_digital_unit) {
  const technology tech = hand_tech();
  const auto r = table1_design_report("mca", mca_snapshot(), tech, 4);
  const auto& cm = r["parts"]["computational memory"];
  const auto& du = r["parts"]["digital unit"];
  // Computational memory: the entries of the tiles and their converter banks
  // (crossbar, pwm_dac, adc_bank), their busy time.
  // Forward 1400 / 4 = 350 pJ, (1.2 + 0.4) / 4 = 0.4 us; paper 7.27 nJ, 0.26 us.
  expect_cell(cm["forward"], 0.35, 0.4, -95.18569463548832, 53.846153846153854);
  // Backward 120 / 4 = 30 pJ, 0.8 / 4 = 0.2 us; paper 2.15 nJ, 0.13 us.
  expect_cell(cm["backward"], 0.03, 0.2, -98.6046511627907, 53.846153846153854);
  // Update 240 / 4 = 60 pJ (paper 0.05 nJ: +20 %), 3 / 4 = 0.75 us with no
  // paper value.
  expect_cell(cm["update"], 0.06, 0.75, 20.0, NAN);
  // Digital unit: bus, chi SRAM and du_mca; the rest of the stage.
  // Forward 1600 / 4 = 400 pJ, (4 - 1.6) / 4 = 0.6 us; paper 8.91 nJ, 0.34 us.
  expect_cell(du["forward"], 0.4, 0.6, -95.51066217732884, 76.4705882352941);
  // Backward 40 / 4 = 10 pJ, (2 - 0.8) / 4 = 0.3 us; paper 2.73 nJ, 0.09 us.
  expect_cell(du["backward"], 0.01, 0.3, -99.63369963369964, 233.33333333333334);
  // Update 16030 / 4 = 4007.5 pJ; programming runs in parallel with the
  // digital work, so the digital unit's time is the whole stage, 8 / 4 = 2 us
  // (not (8 - 3) / 4 = 1.25 us); paper 61.98 nJ, 1.19 us.
  expect_cell(du["update"], 4.0075, 2.0, -93.53420458212327, 68.0672268907563);
  // The two parts add up to the stage energy.
  for (const char* s : {"forward", "backward", "update"}) {
    EXPECT_NEAR(num(cm[s], "energy_nj") + num(du[s], "energy_nj"), num(r["stages"][s], "energy_nj"),
                1e-12)
        << s;
  }
}

// The computational memory's energy by block. With 80 backward device reads
// on tile1 (80 x 0.5 = 40 pJ) added, per image (/ 4, nJ): forward PWM 800 ->
// 0.2, ADC 600 -> 0.15; backward crossbar read 40 -> 0.01, ADC 120 -> 0.03;
// update programming 80 + 160 -> 0.06. The blocks add up to the part's cell.
TEST(table1_report, mca_computational_memory_energy_split_by_block) {
  const technology tech = hand_tech();
  design_snapshot snap = mca_snapshot();
  snap.counts.push_back({"mca.tile1.array", "crossbar", "backward", "device_read", 80, 0.0});
  const auto r = table1_design_report("mca", snap, tech, 4);
  const auto& cm = r["parts"]["computational memory"];
  const auto& split = cm["split"];
  struct want {
    const char* stage;
    double pwm, read, adc, prog;
  };
  for (const want& w :
       {want{"forward", 0.2, 0.0, 0.15, 0.0}, want{"backward", 0.0, 0.01, 0.03, 0.0},
        want{"update", 0.0, 0.0, 0.0, 0.06}}) {
    const auto& b = split[w.stage];
    EXPECT_NEAR(num(b, "pwm_nj"), w.pwm, 1e-15) << w.stage;
    EXPECT_NEAR(num(b, "crossbar_read_nj"), w.read, 1e-15) << w.stage;
    EXPECT_NEAR(num(b, "adc_nj"), w.adc, 1e-15) << w.stage;
    EXPECT_NEAR(num(b, "programming_nj"), w.prog, 1e-15) << w.stage;
    EXPECT_NEAR(
        num(b, "pwm_nj") + num(b, "crossbar_read_nj") + num(b, "adc_nj") + num(b, "programming_nj"),
        num(cm[w.stage], "energy_nj"), 1e-15)
        << w.stage;
  }
}

// The computational memory's time by block, per image (/ 4, us): forward
// PWM windows 1.2 -> 0.3, ADC rounds 0.4 -> 0.1; backward ADC 0.8 -> 0.2;
// update programming 2 + 1 -> 0.75. The blocks add up to the part's cell.
TEST(table1_report, mca_computational_memory_time_split_by_block) {
  const auto r = table1_design_report("mca", mca_snapshot(), hand_tech(), 4);
  const auto& cm = r["parts"]["computational memory"];
  struct want {
    const char* stage;
    double pwm, adc, prog;
  };
  for (const want& w : {want{"forward", 0.3, 0.1, 0.0}, want{"backward", 0.0, 0.2, 0.0},
                        want{"update", 0.0, 0.0, 0.75}}) {
    const auto& b = cm["split"][w.stage];
    EXPECT_NEAR(num(b, "pwm_us"), w.pwm, 1e-12) << w.stage;
    EXPECT_NEAR(num(b, "adc_us"), w.adc, 1e-12) << w.stage;
    EXPECT_NEAR(num(b, "programming_us"), w.prog, 1e-12) << w.stage;
    EXPECT_NEAR(num(b, "pwm_us") + num(b, "adc_us") + num(b, "programming_us"),
                num(cm[w.stage], "time_us"), 1e-12)
        << w.stage;
  }
}

TEST(table1_report, mca_statistics_and_ledger_per_image) {
  const technology tech = hand_tech();
  const auto r = table1_design_report("mca", mca_snapshot(), tech, 4);
  const auto& s = r["statistics"];
  EXPECT_DOUBLE_EQ(num(s, "nonzero_chi_updates_per_image"), 500.0);  // 2000 / 4
  EXPECT_DOUBLE_EQ(num(s, "pcm_pulses_per_image"), 3.0);             // (8 + 4) / 4
  EXPECT_DOUBLE_EQ(num(s, "devices_programmed_per_image"), 1.5);     // 6 / 4
  EXPECT_DOUBLE_EQ(num(s, "refresh_resets_per_image"), 1.0);         // 4 / 4
  EXPECT_DOUBLE_EQ(num(s, "refreshed_cells_per_image"), 0.5);        // 2 RESETs per cell
  EXPECT_DOUBLE_EQ(num(s, "paper_nonzero_chi_updates_per_image"), 2130.0);
  ASSERT_EQ(r["ledger"].size(), 13u);
  std::set<std::string> seen;
  for (const auto& e : r["ledger"]) {
    seen.insert(e["component"].get<std::string>() + "/" + e["action"].get<std::string>());
    if (e["component"] == "mca.data_bus") {
      EXPECT_DOUBLE_EQ(num(e, "count_per_image"), 250.0);
      EXPECT_DOUBLE_EQ(num(e, "energy_pj_per_image"), 250.0);
    }
    if (e["component"] == "mca.chi_sram" && e["action"] == "write_word") {
      EXPECT_DOUBLE_EQ(num(e, "count_per_image"), 500.0);
      EXPECT_DOUBLE_EQ(num(e, "energy_pj_per_image"), 2000.0);  // 500 x 4 pJ
      EXPECT_EQ(e["stage"], "update");
      EXPECT_EQ(e["kind"], "sram32");
    }
  }
  EXPECT_EQ(seen.size(), 13u);
}

// 32-bit digital, 2 images: forward 1000 reads (2000 pJ) + 1000 MACs
// (3000 pJ), update 500 cycles (500 pJ); 2, 0, 1 us of stage time.
TEST(table1_report, digital_designs_have_no_parts_and_their_own_statistics) {
  const technology tech = hand_tech();
  design_snapshot s;
  s.counts = {{"d32.weight_sram", "sram32", "forward", "read_word", 1000},
              {"d32.mac", "mac_array", "forward", "mac_32x32", 1000},
              {"d32.du", "du_digital32", "update", "cycle", 500}};
  s.busy_times = {{"digital unit", "du_digital32", "forward", 2e-6}};
  s.stage_s = {2e-6, 0.0, 1e-6};
  const auto r = table1_design_report("digital32", s, tech, 2);
  // Forward 5000 / 2 = 2500 pJ, 1 us; paper 5620 nJ, 7.31 us.
  expect_cell(r["stages"]["forward"], 2.5, 1.0, -99.95551601423487, -86.3201094391245);
  EXPECT_DOUBLE_EQ(num(r["stages"]["backward"], "energy_nj"), 0.0);
  EXPECT_DOUBLE_EQ(num(r["stages"]["update"], "energy_nj"), 0.25);
  EXPECT_DOUBLE_EQ(num(r["stages"]["total"], "energy_nj"), 2.75);
  EXPECT_DOUBLE_EQ(num(r["stages"]["total"], "time_us"), 1.5);
  EXPECT_DOUBLE_EQ(num(r["stages"]["total"], "paper_energy_nj"), 14350.0);
  EXPECT_FALSE(r.contains("parts"));
  EXPECT_FALSE(r.contains("statistics"));

  design_snapshot m;
  m.counts = {{"dmp.du", "du_digital_mp", "update", "outer_product", 30}};
  m.stage_s = {1e-6, 1e-6, 1e-6};
  const auto rm = table1_design_report("digital-mp", m, tech, 3);
  EXPECT_DOUBLE_EQ(num(rm["statistics"], "nonzero_weight_updates_per_image"), 10.0);  // 30 / 3
  EXPECT_DOUBLE_EQ(num(rm["stages"]["update"], "paper_energy_nj"), 76.0);
  EXPECT_FALSE(rm.contains("parts"));

  EXPECT_THROW(table1_design_report("digital64", s, tech, 2), std::invalid_argument);
  EXPECT_THROW(table1_design_report("digital32", s, tech, 0), std::invalid_argument);
}

nlohmann::json stages(double fe, double ft, double be, double bt, double ue, double ut) {
  return {{"stages",
           {{"forward", {{"energy_nj", fe}, {"time_us", ft}}},
            {"backward", {{"energy_nj", be}, {"time_us", bt}}},
            {"update", {{"energy_nj", ue}, {"time_us", ut}}},
            {"total", {{"energy_nj", fe + be + ue}, {"time_us", ft + bt + ut}}}}}};
}

TEST(table1_report, headline_ratios_and_their_deviations) {
  nlohmann::json designs;
  designs["digital32"] = stages(1000, 10, 200, 2, 3000, 20);  // total 4200 nJ, 32 us
  designs["digital-mp"] = stages(300, 8, 20, 1, 80, 1);       // total 400 nJ, 10 us
  designs["mca"] = stages(5, 1, 3, 0.6, 40, 2);               // total 48 nJ, 3.6 us
  const auto r = table1_ratios(designs);
  struct want {
    const char* key;
    double value, paper, dev;
  };
  const want expected[] = {
      {"mca_vs_digital32_energy", 87.5, 173.0, -49.421965317919074},           // 4200 / 48
      {"mca_vs_digital32_throughput", 32 / 3.6, 11.5, -22.705314009661834},    // 32 / 3.6 us
      {"mca_vs_digital_mp_energy", 400 / 48.0, 23.0, -63.76811594202898},      // 400 / 48
      {"fwd_bwd_energy_gain_vs_digital32", 150.0, 271.0, -44.64944649446495},  // 1200 / 8
      {"fwd_bwd_speedup_vs_digital32", 7.5, 9.61, -21.956295525494273},        // 12 / 1.6
      {"fwd_bwd_energy_gain_vs_digital_mp", 40.0, 85.0, -52.94117647058823},   // 320 / 8
      {"update_energy_gain_vs_digital32", 75.0, 139.0, -46.0431654676259},     // 3000 / 40
  };
  EXPECT_EQ(r.size(), std::size(expected));
  for (const want& w : expected) {
    ASSERT_TRUE(r.contains(w.key)) << w.key;
    EXPECT_NEAR(num(r[w.key], "value"), w.value, 1e-12 * w.value) << w.key;
    EXPECT_DOUBLE_EQ(num(r[w.key], "paper"), w.paper) << w.key;
    EXPECT_NEAR(num(r[w.key], "dev_pct"), w.dev, 1e-9) << w.key;
  }
}

}  // namespace
}  // namespace mcasim
