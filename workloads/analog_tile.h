// The values of an mca weight layer's products, as its tile computes them:
// the PWM codes of every input vector (each with its own scale), the
// crossbar's MVMs (the batch-1 kernel, or matrix products with the
// aggregated read noise for a block of vectors) and the ADC outputs. The
// functional run calls it directly (the layer's own tile); the SystemC tile
// (platform/cm_tile) calls the same object for the values of its
// transactions and counts its converters and device reads from the codes,
// so both runs compute bit-identical products on the same devices.
#pragma once

#include <cstddef>
#include <vector>

#include "workloads/model.h"
#include "workloads/numerics.h"

namespace mcasim {

class analog_tile : public tile_port {
 public:
  // The tile computes with `xb` (which outlives it), the converters of `cfg`
  // and the layer's ADC full scales (in units of the input scale).
  analog_tile(crossbar& xb, const mca_numerics& cfg, double adc_forward_range,
              double adc_backward_range);

  void forward(const float* x, std::size_t n, float* y) override;
  void backward(const float* d, std::size_t n, float* y, std::size_t out_rows) override;
  void program(const std::vector<pulse_cmd>& pulses, double now_s) override;
  void refresh(std::size_t r0, std::size_t r1, double now_s) override;

  crossbar& devices() { return xb_; }
  // The PWM codes of the last block (n x its width, in the input's units)
  // and every vector's full scale (0: an all-zero vector).
  const std::vector<float>& codes() const { return q_; }
  const std::vector<double>& scales() const { return scale_; }

 private:
  void product(const float* in, std::size_t n, float* out, bool transposed, std::size_t out_n);

  crossbar& xb_;
  mca_numerics cfg_;
  double fwd_range_, bwd_range_;
  std::vector<float> q_, q2_, var_;  // codes, their squares, read variances (reused)
  std::vector<double> scale_;
};

}  // namespace mcasim
