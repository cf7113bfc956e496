// Refresh of saturated differential pairs in the functional MCA perceptron, in
// the two modes: spread (Table I: 1/N of the rows after every image) and
// periodic (all rows every N images). The arrays are set by hand so that
// some cells must be refreshed and others not; the expectations (which rows
// each image checks, which cells are refreshed and with how many SET pulses)
// are worked out by hand from the rules in models/crossbar.h:
//   refresh iff max(Gp, Gn) > g_high (8 uS) and |Gp - Gn| < diff_low (6 uS);
//   then RESET both and apply n = min(3, round(|Gp - Gn| / 0.77 uS)) SET
//   pulses to the device that was larger.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "perceptron_model.h"
#include "workloads/experiment.h"

namespace mcasim {
namespace {

// Rows [first, second) checked after image k of N, worked out by hand as
// floor(rows * k / N) .. floor(rows * (k + 1) / N).
TEST(refresh_slice, covers_every_row_once_in_hand_computed_slices) {
  using slice = std::pair<std::size_t, std::size_t>;
  // 10 rows, N = 4: 10k/4 = 0, 2.5, 5, 7.5, 10.
  const std::vector<slice> ten_by_four{{0, 2}, {2, 5}, {5, 7}, {7, 10}};
  for (uint64_t k = 0; k < 4; ++k) EXPECT_EQ(refresh_slice(10, k, 4), ten_by_four[k]) << k;
  // 5 rows, N = 8 (fewer rows than images): 5k/8 = 0, .625, 1.25, 1.875,
  // 2.5, 3.125, 3.75, 4.375, 5; three images check no row.
  const std::vector<slice> five_by_eight{{0, 0}, {0, 1}, {1, 1}, {1, 2},
                                         {2, 3}, {3, 3}, {3, 4}, {4, 5}};
  for (uint64_t k = 0; k < 8; ++k) EXPECT_EQ(refresh_slice(5, k, 8), five_by_eight[k]) << k;
  // The Table I layer 1 (785 rows, N = 100): 7.85 rows per image.
  EXPECT_EQ(refresh_slice(785, 0, 100), slice(0, 7));
  EXPECT_EQ(refresh_slice(785, 1, 100), slice(7, 15));
  EXPECT_EQ(refresh_slice(785, 99, 100), slice(777, 785));
}

struct pair_us {
  float gp, gn;
};

// Cells that must be refreshed, with the SET pulses the rule gives and the
// device that receives them (true: Gp).
struct must_refresh {
  pair_us g;
  int pulses;
  bool on_positive;
};
const must_refresh k_refreshed[] = {
    {{9.0f, 4.0f}, 3, true},   // |d| = 5.0: 5 / 0.77 = 6.49 -> 6, capped at 3
    {{8.5f, 7.8f}, 1, true},   // |d| = 0.7: 0.91 -> 1
    {{7.5f, 8.4f}, 1, false},  // Gn is the larger one: 0.9 / 0.77 = 1.17 -> 1 on Gn
    {{8.1f, 8.1f}, 0, true},   // d = 0: both RESET, no SET pulse
    {{8.2f, 6.7f}, 2, true},   // |d| = 1.5: 1.95 -> 2
    {{4.1f, 9.9f}, 3, false},  // |d| = 5.8: 7.53 -> 3 on Gn
};
// Cells that must be left alone.
const pair_us k_kept[] = {
    {8.0f, 7.0f},  // max = 8.0 is not above g_high
    {9.0f, 3.0f},  // |d| = 6.0 is not below diff_low
    {3.0f, 9.5f},  // |d| = 6.5
    {7.9f, 7.9f},  // both below g_high
    {1.6f, 1.6f},  // the initial mean
};
constexpr pair_us k_background{1.6f, 1.2f};

// A 9-input, 4-hidden, 2-output Table I machine: layer 1 is 10 x 4, layer 2
// is 5 x 2. Drift off (the refresh check reads the programmed conductances)
// and a learning rate so small that chi never reaches epsilon: the only
// programming is refresh.
experiment_config small_experiment(bool spread, int every) {
  experiment_config e = make_experiment("table1-mca");
  e.mlp.inputs = 9;
  e.mlp.hidden = 4;
  e.mlp.outputs = 2;
  e.mlp.learning_rate = 1e-9;
  e.mca.pcm.drift = false;
  e.mca.refresh_spread = spread;
  e.mca.refresh_every_images = every;
  e.mca.drift_sync_images = 1000;
  e.mca.refresh = refresh_config{8.0, 6.0, 3, 0.77};
  return e;
}

struct cell_plan {
  std::size_t layer, row, col;
  int pattern;  // index into k_refreshed, or -1 - index into k_kept
};

// Layer 1: row r holds refresh pattern r % 6 in column r % 4 and kept
// pattern r % 5 in column (r + 1) % 4. Layer 2: row r holds refresh pattern
// (r + 2) % 6 in column r % 2 and kept pattern (r + 3) % 5 in the other.
std::vector<cell_plan> plan() {
  std::vector<cell_plan> p;
  for (std::size_t r = 0; r < 10; ++r) {
    p.push_back({0, r, r % 4, static_cast<int>(r % 6)});
    p.push_back({0, r, (r + 1) % 4, -1 - static_cast<int>(r % 5)});
  }
  for (std::size_t r = 0; r < 5; ++r) {
    p.push_back({1, r, r % 2, static_cast<int>((r + 2) % 6)});
    p.push_back({1, r, (r + 1) % 2, -1 - static_cast<int>((r + 3) % 5)});
  }
  return p;
}

pair_us pattern_g(int pattern) {
  return pattern >= 0 ? k_refreshed[pattern].g : k_kept[-1 - pattern];
}

void program(crossbar& x, std::size_t k, pair_us g, double now_s) {
  x.positive().program_to(k, g.gp, now_s);
  x.negative().program_to(k, g.gn, now_s);
}

// Every device to the background pair, then the planned cells; programming
// time `now_s` marks devices that refresh has not touched.
void arm_all(test::perceptron& net, double now_s) {
  for (std::size_t l = 0; l < 2; ++l) {
    crossbar& x = net.layer(l);
    for (std::size_t k = 0; k < x.rows() * x.cols(); ++k) program(x, k, k_background, now_s);
  }
  for (const cell_plan& c : plan()) {
    crossbar& x = net.layer(c.layer);
    program(x, c.row * x.cols() + c.col, pattern_g(c.pattern), now_s);
  }
  for (std::size_t l = 0; l < 2; ++l) net.layer(l).sync(now_s);
}

bool refreshed_at(crossbar& x, std::size_t k, double t) {
  return x.positive().last_programmed_s(k) == t && x.negative().last_programmed_s(k) == t;
}

// A refreshed cell: both devices RESET at t (to N(0.1, 0.01) uS, floor
// 0.01), then exactly `pulses` SET pulses on the planned device; the weight
// cache follows the new conductances.
void expect_refreshed_state(crossbar& x, std::size_t k, const must_refresh& m) {
  pcm_array& on = m.on_positive ? x.positive() : x.negative();
  pcm_array& off = m.on_positive ? x.negative() : x.positive();
  EXPECT_EQ(on.set_count(k), static_cast<uint32_t>(m.pulses)) << "cell " << k;
  EXPECT_EQ(off.set_count(k), 0u) << "cell " << k;
  EXPECT_GE(off.g(k), 0.01f);
  EXPECT_LE(off.g(k), 0.2f);  // 10 sigma above the RESET mean
  if (m.pulses == 0) {
    EXPECT_LE(on.g(k), 0.2f);
  } else {
    EXPECT_GT(on.g(k), off.g(k));
  }
  EXPECT_FLOAT_EQ(x.weight(k / x.cols(), k % x.cols()),
                  (x.positive().g(k) - x.negative().g(k)) * 0.125f);
}

std::vector<float> zero_image(9, 0.0f);

// Spread over N = 8 images: image k checks exactly the rows of slice k of
// each layer (hand table), every row once per 8 images. Cells refreshed by
// an image are re-armed at once, so a second check of the same row within
// the 8 images would refresh them again and show up.
TEST(refresh, spread_checks_each_rows_slice_once_per_period_and_refreshes_by_the_rule) {
  constexpr int every = 8;
  const experiment_config e = small_experiment(true, every);
  test::perceptron net(e, 5);
  arm_all(net, 0.0);
  // Image (0-based, mod 8) whose slice holds each row: layer 1, 10 rows:
  // 10k/8 = 0, 1.25, 2.5, 3.75, 5, 6.25, 7.5, 8.75, 10; layer 2, 5 rows: the
  // five_by_eight table above.
  const std::size_t image_of_row[2][10] = {{0, 1, 2, 3, 3, 4, 5, 6, 7, 7}, {1, 3, 4, 6, 7}};
  const std::vector<cell_plan> cells = plan();
  uint64_t want_cells[2] = {0, 0}, want_sets[2] = {0, 0};
  for (int image = 0; image < 2 * every; ++image) {
    const double t = 1.0 + image;
    net.train(zero_image.data(), image % 2, t);
    for (const cell_plan& c : cells) {
      crossbar& x = net.layer(c.layer);
      const std::size_t k = c.row * x.cols() + c.col;
      const bool due =
          c.pattern >= 0 && image_of_row[c.layer][c.row] == static_cast<std::size_t>(image % every);
      EXPECT_EQ(refreshed_at(x, k, t), due)
          << "image " << image << " layer " << c.layer << " row " << c.row << " col " << c.col;
      if (!due) continue;
      expect_refreshed_state(x, k, k_refreshed[c.pattern]);
      ++want_cells[c.layer];
      want_sets[c.layer] += k_refreshed[c.pattern].pulses;
      program(x, k, pattern_g(c.pattern), t + 0.5);  // re-arm
    }
    for (std::size_t l = 0; l < 2; ++l) {
      net.layer(l).sync(t + 0.5);
      const device_counters& dc = net.layer(l).counters();
      EXPECT_EQ(dc.refreshed_cells, want_cells[l]) << "image " << image;
      EXPECT_EQ(dc.refresh_reset_pulses, 2 * want_cells[l]);
      EXPECT_EQ(dc.refresh_set_pulses, want_sets[l]);
      EXPECT_EQ(dc.set_pulses, 0u);  // no update programming
      EXPECT_EQ(dc.reset_pulses, 0u);
    }
  }
  // Per period: layer 1 has one refresh cell per row (patterns 0..5, 0..3),
  // layer 2 patterns 2, 3, 4, 5, 0.
  EXPECT_EQ(want_cells[0], 2u * 10);
  EXPECT_EQ(want_sets[0], 2u * ((3 + 1 + 1 + 0 + 2 + 3) + (3 + 1 + 1 + 0)));
  EXPECT_EQ(want_cells[1], 2u * 5);
  EXPECT_EQ(want_sets[1], 2u * (1 + 0 + 2 + 3 + 3));
  // Devices outside the planned cells were never touched.
  for (std::size_t l = 0; l < 2; ++l) {
    crossbar& x = net.layer(l);
    for (std::size_t k = 0; k < x.rows() * x.cols(); ++k) {
      bool planned = false;
      for (const cell_plan& c : cells) planned |= c.layer == l && c.row * x.cols() + c.col == k;
      if (planned) continue;
      EXPECT_EQ(x.positive().last_programmed_s(k), 0.0);
      EXPECT_EQ(x.positive().g(k), k_background.gp);
      EXPECT_EQ(x.negative().g(k), k_background.gn);
    }
  }
}

// Periodic (refresh_spread false), N = 3: nothing is checked after images 1
// and 2; image 3 checks every row of both layers at once.
TEST(refresh, periodic_checks_all_rows_every_nth_image_only) {
  const experiment_config e = small_experiment(false, 3);
  test::perceptron net(e, 5);
  arm_all(net, 0.0);
  const std::vector<cell_plan> cells = plan();
  for (int image = 0; image < 3; ++image) {
    const double t = 1.0 + image;
    net.train(zero_image.data(), 1, t);
    const bool due_image = image == 2;
    for (const cell_plan& c : cells) {
      crossbar& x = net.layer(c.layer);
      const std::size_t k = c.row * x.cols() + c.col;
      EXPECT_EQ(refreshed_at(x, k, t), due_image && c.pattern >= 0)
          << "image " << image << " layer " << c.layer << " row " << c.row;
      if (due_image && c.pattern >= 0) expect_refreshed_state(x, k, k_refreshed[c.pattern]);
    }
  }
  EXPECT_EQ(net.layer(0).counters().refreshed_cells, 10u);
  EXPECT_EQ(net.layer(0).counters().refresh_set_pulses, 10u + 5u);
  EXPECT_EQ(net.layer(1).counters().refreshed_cells, 5u);
  EXPECT_EQ(net.layer(1).counters().refresh_set_pulses, 9u);
  const std::vector<weight_layer_stats> lc = net.net().stats();
  EXPECT_EQ(lc[0].refreshed_cells, 10u);
  EXPECT_EQ(lc[1].refreshed_cells, 5u);
  EXPECT_EQ(net.layer(1).counters().refresh_reset_pulses, 10u);
}

}  // namespace
}  // namespace mcasim
