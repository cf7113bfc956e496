#include "platform/mapping.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace mcasim {

namespace {

std::size_t ceil_div(std::size_t a, std::size_t b) {
  return (a + b - 1) / b;
}

}  // namespace

void tile_array_config::validate() const {
  // Limits: a crossbar of more than 2^16 rows or columns is not a tile.
  constexpr std::size_t k_max_side = 65536;
  auto check = [](std::size_t v, const char* field, std::size_t min, std::size_t max) {
    if (v < min || v > max) {
      throw std::invalid_argument(std::string("platform.tiles.") + field + " must be in [" +
                                  std::to_string(min) + ", " + std::to_string(max) + "]" +
                                  (min == 0 ? " (0: sized to each layer)" : "") + ", got " +
                                  std::to_string(v));
    }
  };
  check(rows, "rows", 0, k_max_side);
  check(cols, "cols", 0, k_max_side);
  check(count, "count", 1, std::size_t{1} << 20);
  if ((rows == 0) != (cols == 0)) {
    throw std::invalid_argument(
        "platform.tiles.rows and platform.tiles.cols must both be 0 (tiles sized to each layer) "
        "or both be set, got " +
        std::to_string(rows) + " x " + std::to_string(cols));
  }
}

double layer_mapping::utilisation() const {
  return static_cast<double>(rows * cols) / static_cast<double>(tiles() * tile_rows * tile_cols);
}

std::size_t network_mapping::tiles_used() const {
  std::size_t n = 0;
  for (const auto& l : layers) n += l.tiles();
  return n;
}

double network_mapping::utilisation() const {
  std::size_t used = 0, devices = 0;
  for (const auto& l : layers) {
    used += l.rows * l.cols;
    devices += l.tiles() * l.tile_rows * l.tile_cols;
  }
  return devices == 0 ? 0.0 : static_cast<double>(used) / static_cast<double>(devices);
}

network_mapping map_network(const network_spec& net, const tile_array_config& tiles,
                            std::size_t steps) {
  tiles.validate();
  network_mapping m;
  m.tiles = tiles;
  std::size_t next = 0;
  for (const std::size_t i : net.weight_layers()) {
    const layer_spec& l = net.layers[i];
    layer_mapping lm;
    lm.layer = i;
    lm.name = l.name;
    lm.rows = l.rows();
    lm.cols = l.cols();
    lm.mvms = l.mvms() * steps;
    lm.tile_rows = tiles.rows > 0 ? tiles.rows : lm.rows;
    lm.tile_cols = tiles.cols > 0 ? tiles.cols : lm.cols;
    lm.row_blocks = ceil_div(lm.rows, lm.tile_rows);
    lm.col_blocks = ceil_div(lm.cols, lm.tile_cols);
    lm.partial_sum_adds = (lm.row_blocks - 1) * lm.cols * lm.mvms;
    const std::size_t need = lm.row_blocks * lm.col_blocks;
    if (next + need > tiles.count) {
      throw std::invalid_argument(
          "layer " + std::to_string(i) + " '" + l.name + "' (" + std::to_string(lm.rows) + " x " +
          std::to_string(lm.cols) + ") needs " + std::to_string(need) + " tiles of " +
          std::to_string(lm.tile_rows) + " x " + std::to_string(lm.tile_cols) + " but only " +
          std::to_string(tiles.count - next) + " of platform.tiles.count " +
          std::to_string(tiles.count) + " are left");
    }
    for (const matrix_block& mb : tile_blocks(lm.rows, lm.cols, tiles.rows, tiles.cols)) {
      lm.blocks.push_back({next++, mb.row0, mb.rows, mb.col0, mb.cols});
    }
    m.layers.push_back(std::move(lm));
  }
  return m;
}

network_run_config on_tiles(network_run_config rc, const tile_array_config& tiles) {
  rc.mca.tile_rows = tiles.rows;
  rc.mca.tile_cols = tiles.cols;
  return rc;
}

std::string mapping_summary(const network_spec& net, const network_mapping& m) {
  std::string s;
  char line[256];
  if (m.tiles.rows > 0) {
    std::snprintf(line, sizeof line, "%s on tiles of %zu x %zu (%zu in the array)\n",
                  net.name.c_str(), m.tiles.rows, m.tiles.cols, m.tiles.count);
  } else {
    std::snprintf(line, sizeof line, "%s on tiles sized to each layer (%zu in the array)\n",
                  net.name.c_str(), m.tiles.count);
  }
  s += line;
  std::snprintf(line, sizeof line, "%-12s %13s %8s %6s %12s %16s\n", "layer", "matrix", "blocks",
                "tiles", "utilisation", "partial sums/sample");
  s += line;
  for (const auto& l : m.layers) {
    const std::string matrix = std::to_string(l.rows) + " x " + std::to_string(l.cols);
    const std::string blocks = std::to_string(l.row_blocks) + " x " + std::to_string(l.col_blocks);
    std::snprintf(line, sizeof line, "%-12s %13s %8s %6zu %11.1f%% %16zu\n", l.name.c_str(),
                  matrix.c_str(), blocks.c_str(), l.tiles(), 100.0 * l.utilisation(),
                  l.partial_sum_adds);
    s += line;
  }
  std::size_t adds = 0;
  for (const auto& l : m.layers) adds += l.partial_sum_adds;
  std::snprintf(line, sizeof line, "%-12s %13s %8s %6zu %11.1f%% %16zu\n", "total", "", "",
                m.tiles_used(), 100.0 * m.utilisation(), adds);
  s += line;
  return s;
}

}  // namespace mcasim
