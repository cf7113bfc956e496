// The mapper (platform/mapping.h): weight layers split into row and column
// blocks of fixed-size tiles, utilisation, partial sums, and the refusal of
// a network that needs more tiles than the array has.
#include "platform/mapping.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace mcasim {
namespace {

network_spec mlp(std::size_t inputs, std::size_t hidden, std::size_t outputs) {
  return parse_network(nlohmann::json::parse(R"({"input": [)" + std::to_string(inputs) +
                                             R"(], "layers": [
      {"kind": "dense", "name": "hidden", "units": )" +
                                             std::to_string(hidden) + R"(},
      {"kind": "relu"},
      {"kind": "dense", "name": "out", "units": )" +
                                             std::to_string(outputs) + R"(},
      {"kind": "cross_entropy"}]})"),
                       "test");
}

TEST(Mapping, LayersSplitIntoRowAndColumnBlocksOfTiles) {
  // 785 x 300 on 256 x 256 tiles: 4 row blocks (256, 256, 256, 17) x 2
  // column blocks (256, 44); 301 x 10: 2 x 1.
  const network_spec net = mlp(784, 300, 10);
  const network_mapping m = map_network(net, {256, 256, 16});
  ASSERT_EQ(m.layers.size(), 2u);
  const layer_mapping& h = m.layers[0];
  EXPECT_EQ(h.name, "hidden");
  EXPECT_EQ(h.rows, 785u);
  EXPECT_EQ(h.cols, 300u);
  EXPECT_EQ(h.row_blocks, 4u);
  EXPECT_EQ(h.col_blocks, 2u);
  ASSERT_EQ(h.tiles(), 8u);
  // Row-block major, tiles numbered in order; the last blocks are partial.
  EXPECT_EQ(h.blocks[1].col0, 256u);
  EXPECT_EQ(h.blocks[1].cols, 44u);
  EXPECT_EQ(h.blocks[6].row0, 768u);
  EXPECT_EQ(h.blocks[6].rows, 17u);
  EXPECT_EQ(h.blocks[7].tile, 7u);
  std::size_t devices = 0;
  for (const tile_block& b : h.blocks) devices += b.rows * b.cols;
  EXPECT_EQ(devices, 785u * 300u);
  EXPECT_DOUBLE_EQ(h.utilisation(), 785.0 * 300.0 / (8.0 * 256 * 256));
  // Partial sums: 3 additions per output column of every MVM.
  EXPECT_EQ(h.partial_sum_adds, 3u * 300u);
  const layer_mapping& o = m.layers[1];
  EXPECT_EQ(o.row_blocks, 2u);
  EXPECT_EQ(o.blocks.front().tile, 8u);
  EXPECT_EQ(o.partial_sum_adds, 10u);
  EXPECT_EQ(m.tiles_used(), 10u);
  EXPECT_DOUBLE_EQ(m.utilisation(), (785.0 * 300 + 301.0 * 10) / (10.0 * 256 * 256));
}

TEST(Mapping, ConvLayersMapTheirUnrolledKernelsAndCountEveryPatch) {
  const network_spec net = load_network("cnn-cifar10");
  const network_mapping m = map_network(net, {256, 256, 64});
  // conv4: 64 x 3 x 3 + 1 = 577 rows, 64 filters, 16 x 16 patches.
  const layer_mapping& c4 = m.layers[3];
  EXPECT_EQ(c4.name, "conv4");
  EXPECT_EQ(c4.rows, 577u);
  EXPECT_EQ(c4.row_blocks, 3u);
  EXPECT_EQ(c4.col_blocks, 1u);
  EXPECT_EQ(c4.mvms, 256u);
  EXPECT_EQ(c4.partial_sum_adds, 2u * 64u * 256u);
}

TEST(Mapping, RefusesANetworkThatNeedsMoreTilesThanTheArrayHas) {
  const network_spec net = mlp(784, 300, 10);
  try {
    map_network(net, {256, 256, 9});
    FAIL() << "expected a refusal";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("layer 2 'out'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("needs 2 tiles"), std::string::npos) << msg;
    EXPECT_NE(msg.find("only 1 of platform.tiles.count 9"), std::string::npos) << msg;
  }
  EXPECT_EQ(map_network(net, {256, 256, 10}).tiles_used(), 10u);
}

TEST(Mapping, TileGeometryIsValidatedByField) {
  for (const auto& [cfg, field] :
       {std::pair{tile_array_config{0, 256, 4}, "platform.tiles.rows"},
        std::pair{tile_array_config{256, 70000, 4}, "platform.tiles.cols"},
        std::pair{tile_array_config{256, 256, 0}, "platform.tiles.count"}}) {
    try {
      cfg.validate();
      ADD_FAILURE() << field << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace mcasim
