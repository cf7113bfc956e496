// Mapping of a network's weight layers onto fixed-size crossbar tiles (no
// SystemC): a layer whose matrix (rows = inputs + bias, cols = outputs) is
// larger than a tile splits into row blocks, whose partial sums the digital
// unit adds, and column blocks; a conv layer is its unrolled (d k^2 + 1) x m
// matrix, one MVM per patch. Every block takes one tile of its own.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "workloads/network_spec.h"
#include "workloads/numerics.h"

namespace mcasim {

// The MCA's tiles: devices per tile (rows x columns) and how many there are.
// Default: every weight layer on one tile of its own size (rows = cols = 0),
// as the paper's Table I chip; the paper's chip array (Discussion) is
// 512 x 2048. The mca numerics of a run take the same size
// (mca_numerics::tile_rows, tile_cols): a layer's blocks convert their
// partial sums with their own ADCs.
struct tile_array_config {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::size_t count = 32;
  // Throws std::invalid_argument naming the field ("platform.tiles.rows" ...).
  void validate() const;
};

// One block of a layer's matrix on one tile: rows [row0, row0 + rows) and
// columns [col0, col0 + cols) of the layer, at the tile's top-left corner.
struct tile_block {
  std::size_t tile = 0;  // index of the tile in the array
  std::size_t row0 = 0, rows = 0, col0 = 0, cols = 0;
};

struct layer_mapping {
  std::size_t layer = 0;  // index in network_spec::layers
  std::string name;
  std::size_t rows = 0, cols = 0;              // the layer's matrix
  std::size_t tile_rows = 0, tile_cols = 0;    // the tiles it is on
  std::size_t row_blocks = 0, col_blocks = 0;  // tiles = row_blocks x col_blocks
  std::size_t mvms = 0;  // MVMs per sample (conv: patches; a sequence: per step x steps)
  // Partial sums the digital unit adds per sample: (row_blocks - 1) x cols
  // additions per MVM.
  std::size_t partial_sum_adds = 0;
  std::vector<tile_block> blocks;  // row-block major
  std::size_t tiles() const { return blocks.size(); }
  // Devices used / devices of its tiles.
  double utilisation() const;
};

struct network_mapping {
  tile_array_config tiles;
  std::vector<layer_mapping> layers;  // one per weight layer, in order
  std::size_t tiles_used() const;
  double utilisation() const;  // devices used / devices of the used tiles
};

// Maps every weight layer in order onto tiles 0, 1, ...; throws
// std::invalid_argument naming the first layer that does not fit (its index,
// name, matrix, the tiles it needs and how many are left). A sample is
// `steps` steps (a recurrent network's training.bptt: net.steps(bptt)).
network_mapping map_network(const network_spec& net, const tile_array_config& tiles,
                            std::size_t steps = 1);

// The run configuration whose mca layers are on `tiles` (their size
// becomes mca_numerics::tile_rows, tile_cols): the functional run of a
// network computes as the platform with these tiles does.
network_run_config on_tiles(network_run_config rc, const tile_array_config& tiles);

// A table of the mapping (layer, matrix, blocks, tiles, utilisation,
// partial-sum additions per sample) and the totals.
std::string mapping_summary(const network_spec& net, const network_mapping& m);

}  // namespace mcasim
