// The values of an mca weight layer's products, as its tiles compute them:
// the PWM codes of every input vector (each with its own scale, set by the
// digital unit for the whole vector), the crossbar's MVMs (the batch-1
// kernel, or matrix products with the aggregated read noise for a block of
// vectors) and the ADC outputs. A layer larger than the hardware's tiles
// (mca_numerics::tile_rows x tile_cols) is split into blocks, one tile each,
// in row-block-major order: every block converts its own partial outputs
// with its ADCs and the digital unit adds the partial sums (the row blocks'
// forward, the column blocks' transposed). The functional run calls it
// directly (the layer's own tiles); the SystemC tiles (platform/cm_tile)
// call the same object block by block for the values of their transactions
// and count their converters and device reads from the codes, so both runs
// compute bit-identical products on the same devices.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "workloads/model.h"
#include "workloads/numerics.h"

namespace mcasim {

class analog_tile : public tile_port {
 public:
  // One tile's share of the layer (tile_blocks).
  using block = matrix_block;

  // The tile computes with `xb` (which outlives it), the converters of `cfg`,
  // its tiles' size (cfg.tile_rows, cfg.tile_cols) and the ADC full scales
  // of every block (in units of the input scale).
  analog_tile(crossbar& xb, const mca_numerics& cfg, double adc_forward_range,
              double adc_backward_range);

  // The whole layer: load, every block's products, the partial sums.
  void forward(const float* x, std::size_t n, float* y) override;
  void backward(const float* d, std::size_t n, float* y, std::size_t out_rows) override;
  // Each block's pulses in turn (split_pulses), each in the list's order.
  void program(const std::vector<pulse_cmd>& pulses, double now_s) override;
  // Each block's share of rows [r0, r1) in turn.
  void refresh(std::size_t r0, std::size_t r1, double now_s) override;

  crossbar& devices() { return xb_; }
  const std::vector<block>& blocks() const { return blocks_; }
  std::size_t row_blocks() const { return row_blocks_; }
  std::size_t col_blocks() const { return blocks_.size() / row_blocks_; }

  // The digital unit's PWM quantisation of n vectors (forward: rows values
  // each; transposed: cols values) into codes() and scales().
  void load(const float* in, std::size_t n, bool transposed);
  // The loaded vectors' codes (n x their width, in the input's units) and
  // every vector's full scale (0: an all-zero vector).
  const std::vector<float>& codes() const { return q_; }
  const std::vector<double>& scales() const { return scale_; }
  std::size_t loaded_vectors() const { return scale_.size(); }

  // Outputs per vector of block b: its columns (forward) or its rows within
  // the first out_rows (transposed; 0 when it holds none of them).
  std::size_t out_width(std::size_t b, bool transposed, std::size_t out_rows) const;
  // Block b's products of the loaded vectors, converted by its ADCs: out
  // [n, out_width(b, ...)] row-major.
  void block_product(std::size_t b, bool transposed, float* out, std::size_t out_rows);
  // Adds block b's partial outputs `part` [n, out_width] into the layer's
  // outputs y [n, out_n] (the first block of each output assigns); returns
  // the additions (outputs that already held a partial sum).
  uint64_t add_partial(std::size_t b, bool transposed, const float* part, std::size_t n, float* y,
                       std::size_t out_n) const;
  // The pulses of each block (row-block major), each in the list's order.
  std::vector<std::vector<pulse_cmd>> split_pulses(const std::vector<pulse_cmd>& pulses) const;
  // Block b's cells of rows [r0, r1) checked by refresh.
  void refresh_block(std::size_t b, std::size_t r0, std::size_t r1, double now_s);

 private:
  crossbar& xb_;
  mca_numerics cfg_;
  double fwd_range_, bwd_range_;
  std::vector<block> blocks_;
  std::size_t row_blocks_ = 1, block_rows_ = 0, block_cols_ = 0;
  bool transposed_ = false;          // of the loaded vectors
  std::vector<float> q_, q2_, var_;  // codes, their squares, read variances (reused)
  std::vector<float> part_;          // a block's partial outputs (reused)
  std::vector<double> scale_;
};

}  // namespace mcasim
