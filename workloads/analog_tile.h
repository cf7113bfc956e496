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

// A block of vectors in flight through a layer's tiles: the digital unit's
// PWM codes of every vector and its full scale (0: an all-zero vector), and
// per tile block the read variances of its products, the draws of their
// read noise and its partial outputs (a layer split over several tiles).
struct tile_job {
  std::vector<float> q, q2;  // codes (n x their width, in the input's units), their squares
  std::vector<uint16_t> q2_bf16, var_bf16;  // the squares and variances in bfloat16
  std::vector<double> scale;
  bool transposed = false;
  std::size_t out_rows = 0;  // transposed: the outputs kept
  std::vector<std::vector<float>> var, part;
  std::vector<std::vector<uint64_t>> draws;
};

class analog_tile : public tile_port {
 public:
  // One tile's share of the layer (tile_blocks).
  using block = matrix_block;

  // The tile computes with `xb` (which outlives it), the converters of `cfg`,
  // its tiles' size (cfg.tile_rows, cfg.tile_cols) and the ADC full scales
  // of every block (in units of the input scale).
  analog_tile(crossbar& xb, const mca_numerics& cfg, double adc_forward_range,
              double adc_backward_range);

  // The whole layer: load, every block's products, the partial sums
  // (start, read, finish on the tile's own job).
  void forward(const float* x, std::size_t n, float* y) override;
  void backward(const float* d, std::size_t n, float* y, std::size_t out_rows) override;

  // A block of n MVMs of the whole layer in three steps, so that several
  // jobs can be in flight: start quantises the vectors and computes every
  // tile block's products (into y [n, outputs] or the job's partial
  // outputs) and read variances, touching only the job and y (any thread);
  // read takes the draws of the read noise from the devices' read stream
  // (or runs the batch-1 kernels, which draw it themselves), so jobs read in
  // the blocks' order give the numbers of one job after the other; finish
  // adds the noise, converts with the ADCs and adds the partial sums into y
  // (any thread).
  void start(tile_job& job, const float* in, std::size_t n, bool transposed, std::size_t out_rows,
             float* y) const;
  void read(tile_job& job, float* y);
  void finish(tile_job& job, float* y) const;
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
  void load(const float* in, std::size_t n, bool transposed) { load(job_, in, n, transposed); }
  void load(tile_job& job, const float* in, std::size_t n, bool transposed) const;
  // The loaded vectors' codes and full scales (the tile's own job).
  const std::vector<float>& codes() const { return job_.q; }
  const std::vector<double>& scales() const { return job_.scale; }
  std::size_t loaded_vectors() const { return job_.scale.size(); }

  // Outputs per vector of block b: its columns (forward) or its rows within
  // the first out_rows (transposed; 0 when it holds none of them).
  std::size_t out_width(std::size_t b, bool transposed, std::size_t out_rows) const;
  // Block b's products of the loaded vectors, converted by its ADCs: out
  // [n, out_width(b, ...)] row-major (multiply, read_block, convert).
  void block_product(std::size_t b, bool transposed, float* out, std::size_t out_rows);
  // The steps of block b's products of a job's vectors into out (convert:
  // the read noise of the draws, then the ADCs).
  void multiply(tile_job& job, std::size_t b, float* out) const;
  void read_block(tile_job& job, std::size_t b, float* out);
  void convert(const tile_job& job, std::size_t b, float* out) const;
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
  // Where block b's products of a job go: y itself (one block) or the
  // job's partial outputs.
  float* block_out(tile_job& job, std::size_t b, float* y) const;

  tile_job job_;  // the vectors of forward, backward and load (reused)
};

}  // namespace mcasim
