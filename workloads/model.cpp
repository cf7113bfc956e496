#include "workloads/model.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>

#include "models/chi_memory.h"
#include "models/converters.h"
#include "models/crossbar.h"
#include "models/noise_kernel.h"
#include "models/rng.h"
#include "workloads/analog_tile.h"

namespace mcasim {

namespace {

using at::Tensor;

at::TensorOptions f32() {
  return at::TensorOptions().dtype(at::kFloat);
}

// A view of a std::vector<float> as a rows x cols tensor (no copy).
Tensor view(const std::vector<float>& v, std::size_t rows, std::size_t cols) {
  return at::from_blob(const_cast<float*>(v.data()),
                       {static_cast<int64_t>(rows), static_cast<int64_t>(cols)}, f32());
}
// The same of bfloat16 values held as their bits (bf16_bits).
Tensor view(const std::vector<uint16_t>& v, std::size_t rows, std::size_t cols) {
  return at::from_blob(const_cast<uint16_t*>(v.data()),
                       {static_cast<int64_t>(rows), static_cast<int64_t>(cols)},
                       at::TensorOptions().dtype(at::kBFloat16));
}

// Whether the tensor library multiplies bfloat16 matrices of m x k times
// k x n with oneDNN (fp32 sums; its conditions: AVX-512 BW, VL and DQ, and
// more than 16^3 products, here with a margin), fast where the processor
// has bfloat16 dot products. Otherwise its bfloat16 products are slow loops
// that also round the partial sums, so the fp32 products of the same values
// (exact in fp32) take their place: the same sums up to their order.
bool bf16_products_fast(std::size_t m, std::size_t k, std::size_t n) {
  static const bool fast = at::hasMKLDNN() && at::globalContext().userEnabledMkldnn() &&
                           __builtin_cpu_supports("avx512bw") &&
                           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  return fast && static_cast<double>(m) * static_cast<double>(k) * static_cast<double>(n) >= 65536;
}

std::vector<float> to_vector(const Tensor& t) {
  const Tensor c = t.contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

void from_vector(Tensor& t, const std::vector<float>& v) {
  t.copy_(at::from_blob(const_cast<float*>(v.data()), t.sizes(), f32()));
}

// Vectors per task of the element-wise loops over a block of MVMs (rows are
// independent: the same results for any thread count).
constexpr int64_t k_rows_per_task = 64;

// Every row of x [n, m] quantised with its own dynamic scale (or the fixed
// range); returns the full scale of every row.
std::vector<double> quantize_rows(const quantizer_config& q, Tensor& x) {
  const int64_t n = x.size(0), m = x.size(1);
  std::vector<double> scale(static_cast<std::size_t>(n), 1.0);
  if (q.ideal) return scale;
  float* p = x.data_ptr<float>();
  at::parallel_for(0, n, k_rows_per_task, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      scale[static_cast<std::size_t>(i)] = quantize(q, p + i * m, static_cast<std::size_t>(m));
    }
  });
  return scale;
}

// ADC: every row of y [n, m] with full scale range x the row's input scale.
void adc_rows(const quantizer_config& q, double range, const std::vector<double>& in_scale,
              Tensor& y) {
  if (q.ideal) return;
  quantizer_config c = q;
  c.range = range;
  const int64_t n = y.size(0), m = y.size(1);
  float* p = y.data_ptr<float>();
  at::parallel_for(0, n, k_rows_per_task, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const double s = in_scale[static_cast<std::size_t>(i)];
      if (s == 0.0) {
        std::fill(p + i * m, p + (i + 1) * m, 0.0f);
      } else {
        quantize(c, p + i * m, static_cast<std::size_t>(m), s);
      }
    }
  });
}

// The BLAS behind matrix products (OpenBLAS from the set-up) keeps a thread
// pool of its own; n threads from now on (nothing when the library has no
// such call).
void set_blas_threads(int n) {
  using set_threads_fn = void (*)(int);
  static auto* const set =
      reinterpret_cast<set_threads_fn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (set != nullptr) set(n);
}

// A step on block j of a set of blocks, by the lane (buffers) it runs in.
using block_fn = std::function<void(int64_t, std::size_t)>;

// Blocks [0, count) in waves of `lanes`: `parallel` on every block of a wave
// at once (a block per thread of the run, the BLAS single-threaded
// meanwhile), then `ordered` on each in block order on this thread, then
// `after` at once again. One lane: the three steps of each block in turn on
// this thread. Either way the results are those of the blocks one after the
// other whenever `parallel` and `after` touch only their block and lane.
void in_waves(int64_t count, std::size_t lanes, const block_fn& parallel, const block_fn& ordered,
              const block_fn& after) {
  if (lanes <= 1) {
    for (int64_t j = 0; j < count; ++j) {
      for (const block_fn* f : {&parallel, &ordered, &after}) {
        if (*f) (*f)(j, 0);
      }
    }
    return;
  }
  set_blas_threads(1);
  const auto w = static_cast<int64_t>(lanes);
  try {
    for (int64_t s = 0; s < count; s += w) {
      const int64_t e = std::min(count, s + w);
      auto each = [&](const block_fn& f) {
        if (!f) return;
        at::parallel_for(s, e, 1, [&](int64_t j0, int64_t j1) {
          for (int64_t j = j0; j < j1; ++j) f(j, static_cast<std::size_t>(j - s));
        });
      };
      each(parallel);
      if (ordered) {
        for (int64_t j = s; j < e; ++j) ordered(j, static_cast<std::size_t>(j - s));
      }
      each(after);
    }
  } catch (...) {
    set_blas_threads(at::get_num_threads());
    throw;
  }
  set_blas_threads(at::get_num_threads());
}

// Independent blocks of MVMs of one weight layer (a conv layer's images, a
// few at a time): in(j, lane) gives block j's vectors (valid until the
// lane's next block), done(j, lane, y) takes its products (y valid until
// then too). lanes: blocks in flight at once (1: everything on the calling
// thread in block order, as a hardware model's observer of the step needs).
struct mvm_blocks {
  int64_t count = 0;
  std::size_t lanes = 1;
  std::function<Tensor(int64_t, std::size_t)> in;
  std::function<void(int64_t, std::size_t, const Tensor&)> done;
};

// --- weight layers: the numerics of one weight matrix (rows x cols) ---------

class weight_layer {
 public:
  virtual ~weight_layer() = default;
  // x [n, rows] -> [n, cols]
  virtual Tensor forward(const Tensor& x) = 0;
  // d [n, cols] -> [n, out_rows]: the errors of the first out_rows inputs
  // (a bias row's is never needed).
  virtual Tensor backward(const Tensor& d, std::size_t out_rows) = 0;
  // The products of every block of m (transposed: backward, to out_rows):
  // the numbers of forward() or backward() on the blocks in order, for any
  // m.lanes; layers that can run blocks at once do.
  virtual void block_products(const mvm_blocks& m, bool transposed, std::size_t out_rows) {
    for (int64_t j = 0; j < m.count; ++j) {
      const Tensor x = m.in(j, 0);
      m.done(j, 0, transposed ? backward(x, out_rows) : forward(x));
    }
  }
  // Adds the optimizer's increment [rows, cols] at simulated time now_s.
  virtual void apply(const Tensor& inc, double now_s) = 0;
  // Plain SGD: adds scale x^T d (x [n, rows], the layer's inputs; d [n,
  // cols], dL/d(output)), the outer products of the batch's samples.
  virtual void apply_outer(const Tensor& x, const Tensor& d, double scale, double now_s) {
    apply(x.t().mm(d).mul_(scale), now_s);
  }
  // The weights the layer computes with (fp32 for the reference and
  // digital-mp's 32-bit words; mca: the drifted noise-free conductances).
  virtual Tensor weights() = 0;
  // Before every training batch (drift), samples trained so far; true when
  // the devices were read again.
  virtual bool begin_batch(uint64_t /*samples*/, std::size_t /*n*/, double /*now_s*/) {
    return false;
  }
  // After every training batch's update (refresh), samples trained before it.
  virtual void end_batch(uint64_t /*samples*/, std::size_t /*n*/, double /*now_s*/) {}
  // The layer's PCM array and chi memory (mca), else null.
  virtual crossbar* array() { return nullptr; }
  virtual analog_tile* analog() { return nullptr; }
  virtual const chi_memory* chi() const { return nullptr; }
  // single_ref: the weight scale of epoch e (1-based).
  virtual void begin_epoch(int /*epoch*/) {}
  virtual weight_layer_stats stats() const = 0;
  virtual void save(state_writer& w) const = 0;
  virtual void load(state_reader& r) = 0;
  // fp32 only: convolutions may call the library's kernels directly.
  virtual bool exact() const { return false; }
  // The tensor weights() returns was written to (derived copies are stale).
  virtual void weights_written() {}
  // The digital unit's observer of the step (may be null) and this layer's
  // index among the weight layers.
  step_observer* observer = nullptr;
  std::size_t index = 0;
};

// x (n x rows) times w (rows x cols). One sample: the rows of w whose input
// is not 0 (the perceptron's sparse inputs), added in row order by compiled
// loops, so a single-sample run gives the same numbers on every machine of
// the build's instruction set (the BLAS library picks its kernels by CPU).
Tensor product(const Tensor& x, const Tensor& w) {
  if (x.size(0) != 1) return x.mm(w);
  const auto rows = static_cast<std::size_t>(w.size(0)), cols = static_cast<std::size_t>(w.size(1));
  Tensor y = at::zeros({1, static_cast<int64_t>(cols)}, f32());
  const Tensor xc = x.contiguous();
  const float* xp = xc.data_ptr<float>();
  const float* wp = w.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  for (std::size_t r = 0; r < rows; ++r) {
    const float v = xp[r];
    if (v == 0.0f) continue;
    const float* wr = wp + r * cols;
    for (std::size_t c = 0; c < cols; ++c) yp[c] += v * wr[c];
  }
  return y;
}

// d (n x cols) times the first rows of w, transposed. One sample: a dot
// product per row of w.
Tensor product_t(const Tensor& d, const Tensor& w, std::size_t rows) {
  if (d.size(0) != 1) return d.mm(w.narrow(0, 0, static_cast<int64_t>(rows)).t());
  const auto cols = static_cast<std::size_t>(w.size(1));
  Tensor y = at::empty({1, static_cast<int64_t>(rows)}, f32());
  const Tensor dc = d.contiguous();
  const float* dp = dc.data_ptr<float>();
  const float* wp = w.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  for (std::size_t r = 0; r < rows; ++r) {
    const float* wr = wp + r * cols;
    float acc = 0.0f;
    for (std::size_t c = 0; c < cols; ++c) acc += dp[c] * wr[c];
    yp[r] = acc;
  }
  return y;
}

class fp32_layer : public weight_layer {
 public:
  fp32_layer(std::size_t rows, std::size_t cols, double std, bool bias_row, rng& r)
      : w_(at::empty({static_cast<int64_t>(rows), static_cast<int64_t>(cols)}, f32())) {
    float* p = w_.data_ptr<float>();
    const std::size_t init_rows = bias_row ? rows - 1 : rows;
    for (std::size_t k = 0; k < rows * cols; ++k) {
      p[k] = k < init_rows * cols ? static_cast<float>(std * r.normal()) : 0.0f;
    }
    stats_.rows = rows;
    stats_.cols = cols;
    stats_.weight_std = std;
  }
  Tensor forward(const Tensor& x) override { return product(x, w_); }
  Tensor backward(const Tensor& d, std::size_t rows) override { return product_t(d, w_, rows); }
  void apply(const Tensor& inc, double) override {
    w_.add_(inc);
    const auto written = static_cast<uint64_t>(inc.ne(0).sum().item<int64_t>());
    stats_.weight_updates += written;
    if (observer != nullptr) observer->weight_update(index, stats_.rows, stats_.cols, written);
  }
  void apply_outer(const Tensor& x, const Tensor& d, double scale, double now_s) override {
    if (x.size(0) != 1) {
      weight_layer::apply_outer(x, d, scale, now_s);
      return;
    }
    // One sample: rows whose input is 0 skipped (the perceptron's sparse
    // update; most MNIST pixels are 0).
    const Tensor xc = x.contiguous(), dc = d.contiguous();
    const float* xp = xc.data_ptr<float>();
    const float* dp = dc.data_ptr<float>();
    const std::size_t rows = stats_.rows, cols = stats_.cols;
    const auto nonzero =
        static_cast<uint64_t>(std::count_if(dp, dp + cols, [](float v) { return v != 0.0f; }));
    float* w = w_.data_ptr<float>();
    const float sc = static_cast<float>(scale);
    uint64_t written = 0;
    for (std::size_t r = 0; r < rows && nonzero > 0; ++r) {
      const float s = sc * xp[r];
      if (s == 0.0f) continue;
      float* wr = w + r * cols;
      for (std::size_t c = 0; c < cols; ++c) wr[c] += s * dp[c];
      written += nonzero;
    }
    stats_.weight_updates += written;
    if (observer != nullptr) observer->weight_update(index, rows, cols, written);
    weights_written();
  }
  Tensor weights() override { return w_; }
  weight_layer_stats stats() const override { return stats_; }
  void save(state_writer& w) const override {
    w.put(to_vector(w_));
    w.put(stats_.weight_updates);
  }
  void load(state_reader& r) override {
    std::vector<float> v(static_cast<std::size_t>(w_.numel()));
    r.get(v, "fp32 weights");
    from_vector(w_, v);
    r.get(stats_.weight_updates, "weight updates");
  }
  bool exact() const override { return true; }

 protected:
  Tensor w_;
  weight_layer_stats stats_;
};

// 32-bit weights in SRAM, a 4-bit copy (shared power-of-two scale) for every
// propagation; 8-bit activations and errors (a scale per vector); products
// accumulated in 32 bits.
class digital_mp_layer : public fp32_layer {
 public:
  digital_mp_layer(std::size_t rows, std::size_t cols, double std, bool bias_row, rng& r,
                   const digital_mp_numerics& cfg)
      : fp32_layer(rows, cols, std, bias_row, r), cfg_(cfg) {}
  Tensor forward(const Tensor& x) override {
    Tensor xq = x.contiguous().clone();
    quantize_rows(cfg_.activations, xq);
    return product(xq, quantized());
  }
  Tensor backward(const Tensor& d, std::size_t rows) override {
    Tensor dq = d.contiguous().clone();
    quantize_rows(cfg_.errors, dq);
    return product_t(dq, quantized(), rows);
  }
  // Blocks at once: each quantises its own vectors; the 4-bit words are
  // converted before.
  void block_products(const mvm_blocks& m, bool transposed, std::size_t out_rows) override {
    quantized();
    in_waves(
        m.count, m.lanes,
        [&](int64_t j, std::size_t lane) {
          const Tensor x = m.in(j, lane);
          m.done(j, lane, transposed ? backward(x, out_rows) : forward(x));
        },
        nullptr, nullptr);
  }
  void apply(const Tensor& inc, double now_s) override {
    fp32_layer::apply(inc, now_s);
    weights_written();
  }
  void apply_outer(const Tensor& x, const Tensor& d, double scale, double now_s) override {
    if (cfg_.update_x.ideal && cfg_.update_d.ideal) {
      fp32_layer::apply_outer(x, d, scale, now_s);
      return;
    }
    // The layer's errors are 8-bit values (as in its transposed products);
    // then every sample's outer-product operands are quantised, and the
    // 32-bit weights take their products as fp32's do (one sample: the
    // non-zero products, rows whose operand is 0 skipped).
    Tensor xq = x.contiguous().clone(), dq = d.contiguous().clone();
    quantize_rows(cfg_.errors, dq);
    quantize_rows(cfg_.update_x, xq);
    quantize_rows(cfg_.update_d, dq);
    if (observer != nullptr) {
      observer->vector_op(digital_op::quantize,
                          static_cast<std::size_t>(xq.numel() + 2 * dq.numel()));
    }
    fp32_layer::apply_outer(xq, dq, scale, now_s);
  }
  void load(state_reader& r) override {
    fp32_layer::load(r);
    weights_written();
  }
  bool exact() const override { return false; }
  void weights_written() override { valid_ = false; }

 private:
  // The 4-bit weights, converted once per update (forward and backward of a
  // batch use the same words).
  const Tensor& quantized() {
    if (!valid_) {
      wq_ = w_.clone();
      quantize(cfg_.weights, wq_.data_ptr<float>(), static_cast<std::size_t>(wq_.numel()));
      valid_ = true;
    }
    return wq_;
  }
  digital_mp_numerics cfg_;
  Tensor wq_;
  bool valid_ = false;
};

}  // namespace

analog_tile::analog_tile(crossbar& xb, const mca_numerics& cfg, double adc_forward_range,
                         double adc_backward_range)
    : xb_(xb),
      cfg_(cfg),
      fwd_range_(adc_forward_range),
      bwd_range_(adc_backward_range),
      blocks_(tile_blocks(xb.rows(), xb.cols(), cfg.tile_rows, cfg.tile_cols)) {
  block_rows_ = blocks_.front().rows;
  block_cols_ = blocks_.front().cols;
  row_blocks_ = (xb_.rows() + block_rows_ - 1) / block_rows_;
}

void analog_tile::load(tile_job& job, const float* in, std::size_t n, bool transposed) const {
  const std::size_t width = transposed ? xb_.cols() : xb_.rows();
  job.q.assign(in, in + n * width);
  Tensor q = view(job.q, n, width);
  job.scale = quantize_rows(transposed ? cfg_.pwm_backward : cfg_.pwm_forward, q);
  job.transposed = transposed;
}

std::size_t analog_tile::out_width(std::size_t b, bool transposed, std::size_t out_rows) const {
  const block& k = blocks_[b];
  if (!transposed) return k.cols;
  return k.row0 >= out_rows ? 0 : std::min(k.rows, out_rows - k.row0);
}

namespace {

// The batch-1 kernels on the whole layer: they draw their read noise as
// they go (in read_block).
bool batch1(const std::vector<matrix_block>& blocks, const tile_job& job) {
  return blocks.size() == 1 && job.scale.size() == 1;
}

}  // namespace

void analog_tile::multiply(tile_job& job, std::size_t b, float* out) const {
  const block& k = blocks_[b];
  const bool transposed = job.transposed;
  const std::size_t n = job.scale.size(), width = transposed ? xb_.cols() : xb_.rows();
  const std::size_t out_n = out_width(b, transposed, job.out_rows);
  if (out_n == 0 || batch1(blocks_, job)) return;
  const auto nn = static_cast<int64_t>(n), out_w = static_cast<int64_t>(out_n);
  Tensor y = at::from_blob(out, {nn, out_w}, f32());
  // The block's cells (rows x cols of the layer's matrix, the transposed
  // read limited to its rows within out_rows) and its share of the codes.
  const auto r0 = static_cast<int64_t>(k.row0), c0 = static_cast<int64_t>(k.col0);
  const auto rows = transposed ? out_w : static_cast<int64_t>(k.rows);
  const auto cols = static_cast<int64_t>(k.cols);
  auto cells = [&](const auto& v) {
    Tensor t = view(v, xb_.rows(), xb_.cols());
    if (blocks_.size() > 1) t = t.narrow(1, c0, cols);
    return t.narrow(0, r0, rows);
  };
  auto share = [&](const Tensor& t) {
    return blocks_.size() == 1 ? t
                               : t.narrow(1, transposed ? c0 : r0,
                                          transposed ? cols : static_cast<int64_t>(k.rows));
  };
  const Tensor w = cells(xb_.weights());
  at::mm_out(y, share(view(job.q, n, width)), transposed ? w.t() : w);
  if (!xb_.noisy()) return;
  // The aggregated read variance of every output (the squared codes times
  // the cells' variances, in the precision of cfg_.read_variance);
  // read_block draws its noise.
  const Tensor q = view(job.q, n, width);
  job.var.resize(blocks_.size());
  job.var[b].resize(n * out_n);
  Tensor var = view(job.var[b], n, out_n);
  if (cfg_.read_variance == "fp32") {
    const Tensor v = cells(xb_.variances());
    job.q2.resize(n * width);
    Tensor q2 = view(job.q2, n, width);
    at::mul_out(q2, q, q);
    at::mm_out(var, share(q2), transposed ? v.t() : v);
    return;
  }
  const Tensor v = cells(xb_.variances_bf16());
  job.q2_bf16.resize(n * width);
  Tensor q2 = view(job.q2_bf16, n, width);
  at::mul_out(q2, q, q);
  if (bf16_products_fast(n, static_cast<std::size_t>(transposed ? cols : k.rows), out_n)) {
    job.var_bf16.resize(n * out_n);
    Tensor vb = view(job.var_bf16, n, out_n);
    at::mm_out(vb, share(q2), transposed ? v.t() : v);
    var.copy_(vb);
  } else {
    const Tensor vf = v.to(at::kFloat);
    at::mm_out(var, share(q2).to(at::kFloat), transposed ? vf.t() : vf);
    var.copy_(var.to(at::kBFloat16));
  }
}

void analog_tile::read_block(tile_job& job, std::size_t b, float* out) {
  const std::size_t n = job.scale.size();
  const std::size_t out_n = out_width(b, job.transposed, job.out_rows);
  if (out_n == 0) return;
  if (batch1(blocks_, job)) {
    if (job.transposed) {
      // A zero error reads zeros (no conversion, no read noise drawn).
      if (job.scale[0] != 0.0) xb_.mvm_t(job.q.data(), out, out_n);
    } else {
      xb_.mvm(job.q.data(), out);
    }
  } else if (xb_.noisy()) {
    job.draws.resize(blocks_.size());
    xb_.read_noise_draws(n * out_n, job.draws[b]);
  }
}

void analog_tile::convert(const tile_job& job, std::size_t b, float* out) const {
  const std::size_t n = job.scale.size();
  const std::size_t out_n = out_width(b, job.transposed, job.out_rows);
  if (out_n == 0) return;
  if (!batch1(blocks_, job) && xb_.noisy()) {
    add_read_noise(job.draws[b].data(), out, job.var[b].data(), n * out_n);
  }
  Tensor y = at::from_blob(out, {static_cast<int64_t>(n), static_cast<int64_t>(out_n)}, f32());
  adc_rows(job.transposed ? cfg_.adc_backward : cfg_.adc_forward,
           job.transposed ? bwd_range_ : fwd_range_, job.scale, y);
}

void analog_tile::block_product(std::size_t b, bool transposed, float* out, std::size_t out_rows) {
  if (transposed != job_.transposed) {
    throw std::logic_error("analog_tile: a product in the other direction than the loaded vectors");
  }
  job_.out_rows = out_rows;
  multiply(job_, b, out);
  read_block(job_, b, out);
  convert(job_, b, out);
}

uint64_t analog_tile::add_partial(std::size_t b, bool transposed, const float* part, std::size_t n,
                                  float* y, std::size_t out_n) const {
  const block& k = blocks_[b];
  const std::size_t w = out_width(b, transposed, out_n);
  const std::size_t first = transposed ? k.row0 : k.col0;
  // The first block along the summed dimension (row blocks forward, column
  // blocks transposed) assigns, the others add.
  const bool assign = transposed ? k.col0 == 0 : k.row0 == 0;
  for (std::size_t v = 0; v < n; ++v) {
    float* dst = y + v * out_n + first;
    const float* src = part + v * w;
    if (assign) {
      std::copy(src, src + w, dst);
    } else {
      for (std::size_t j = 0; j < w; ++j) dst[j] += src[j];
    }
  }
  return assign ? 0 : static_cast<uint64_t>(n) * w;
}

float* analog_tile::block_out(tile_job& job, std::size_t b, float* y) const {
  if (blocks_.size() == 1) return y;
  job.part.resize(blocks_.size());
  job.part[b].resize(job.scale.size() * out_width(b, job.transposed, job.out_rows));
  return job.part[b].data();
}

void analog_tile::start(tile_job& job, const float* in, std::size_t n, bool transposed,
                        std::size_t out_rows, float* y) const {
  load(job, in, n, transposed);
  job.out_rows = transposed ? out_rows : 0;
  for (std::size_t b = 0; b < blocks_.size(); ++b) multiply(job, b, block_out(job, b, y));
}

void analog_tile::read(tile_job& job, float* y) {
  for (std::size_t b = 0; b < blocks_.size(); ++b) read_block(job, b, block_out(job, b, y));
}

void analog_tile::finish(tile_job& job, float* y) const {
  const std::size_t n = job.scale.size();
  const std::size_t out_n = job.transposed ? job.out_rows : xb_.cols();
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    float* out = block_out(job, b, y);
    convert(job, b, out);
    if (blocks_.size() > 1 && out_width(b, job.transposed, job.out_rows) > 0) {
      add_partial(b, job.transposed, out, n, y, out_n);
    }
  }
}

void analog_tile::forward(const float* x, std::size_t n, float* y) {
  start(job_, x, n, false, 0, y);
  read(job_, y);
  finish(job_, y);
}

void analog_tile::backward(const float* d, std::size_t n, float* y, std::size_t out_rows) {
  start(job_, d, n, true, out_rows, y);
  read(job_, y);
  finish(job_, y);
}

std::vector<std::vector<pulse_cmd>> analog_tile::split_pulses(
    const std::vector<pulse_cmd>& pulses) const {
  std::vector<std::vector<pulse_cmd>> out(blocks_.size());
  if (blocks_.size() == 1) {
    out[0] = pulses;
    return out;
  }
  const std::size_t cb = col_blocks();
  for (const pulse_cmd& c : pulses)
    out[c.row / block_rows_ * cb + c.col / block_cols_].push_back(c);
  return out;
}

void analog_tile::program(const std::vector<pulse_cmd>& pulses, double now_s) {
  if (blocks_.size() == 1) {
    for (const pulse_cmd& c : pulses) xb_.pulse(c.row, c.col, c.p, now_s);
    return;
  }
  for (const auto& list : split_pulses(pulses)) {
    for (const pulse_cmd& c : list) xb_.pulse(c.row, c.col, c.p, now_s);
  }
}

void analog_tile::refresh_block(std::size_t b, std::size_t r0, std::size_t r1, double now_s) {
  const block& k = blocks_[b];
  const std::size_t lo = std::max(r0, k.row0), hi = std::min(r1, k.row0 + k.rows);
  if (lo < hi) xb_.refresh_block(lo, hi, k.col0, k.col0 + k.cols, cfg_.refresh, now_s);
}

void analog_tile::refresh(std::size_t r0, std::size_t r1, double now_s) {
  for (std::size_t b = 0; b < blocks_.size(); ++b) refresh_block(b, r0, r1, now_s);
}

namespace {

// Differential PCM pairs on a crossbar (models/crossbar.h) behind a tile
// (PWM inputs and ADC outputs around every MVM), chi accumulation and blind
// SET pulses in the digital unit.
class mca_layer : public weight_layer {
 public:
  // `std`: the layer's initial weight spread (weight_std, or He).
  mca_layer(std::size_t rows, std::size_t cols, double std, const mca_numerics& cfg,
            const layer_numerics& ln, uint64_t seed, uint32_t index)
      : cfg_(cfg) {
    crossbar_config xc = cfg.crossbar;
    xc.g_per_weight_us =
        ln.g_per_weight_us > 0 ? ln.g_per_weight_us : std::sqrt(2.0) * xc.init_std_us / std;
    xb_ = std::make_unique<crossbar>(rows, cols, xc, cfg.pcm, seed, index);
    xb_->initialize(0.0);
    chi_ = std::make_unique<chi_memory>(rows, cols, chi_config{1.0, 1.0, cfg.max_pulses});
    set_weight_per_us(1.0 / xc.g_per_weight_us);
    scale_for_epoch(1);
    stats_.rows = rows;
    stats_.cols = cols;
    stats_.g_per_weight_us = 1.0 / weight_per_us_;
    stats_.epsilon = cfg.eps_us * weight_per_us_;
    stats_.weight_std = std;
    // Derived ADC full scales follow the lines one conversion sums: the
    // rows (forward) or columns (transposed) of one tile's block (the
    // first, a full one).
    const matrix_block first = tile_blocks(rows, cols, cfg.tile_rows, cfg.tile_cols).front();
    stats_.adc_forward_range = ln.adc_forward_range > 0
                                   ? ln.adc_forward_range
                                   : 8.0 * std::sqrt(static_cast<double>(first.rows)) * std;
    stats_.adc_backward_range = ln.adc_backward_range > 0
                                    ? ln.adc_backward_range
                                    : 2.0 * std::sqrt(static_cast<double>(first.cols)) * std;
    own_tile_ = std::make_unique<analog_tile>(*xb_, cfg_, stats_.adc_forward_range,
                                              stats_.adc_backward_range);
    tile_ = own_tile_.get();
  }

  Tensor forward(const Tensor& x) override {
    const Tensor c = x.contiguous();
    Tensor y = at::empty({c.size(0), static_cast<int64_t>(xb_->cols())}, f32());
    tile_->forward(c.data_ptr<float>(), static_cast<std::size_t>(c.size(0)), y.data_ptr<float>());
    return y;
  }

  Tensor backward(const Tensor& d, std::size_t out_rows) override {
    const Tensor c = d.contiguous();
    Tensor y = at::empty({c.size(0), static_cast<int64_t>(out_rows)}, f32());
    tile_->backward(c.data_ptr<float>(), static_cast<std::size_t>(c.size(0)), y.data_ptr<float>(),
                    out_rows);
    return y;
  }

  // Blocks at once on the layer's own tiles (analog_tile::start, read,
  // finish): every block's products and read variances at once, the read
  // noise in block order from the devices' stream, the ADCs at once. Tiles
  // of a hardware model (attach) take the blocks one after the other.
  void block_products(const mvm_blocks& m, bool transposed, std::size_t out_rows) override {
    if (tile_ != own_tile_.get() || m.lanes <= 1) {
      weight_layer::block_products(m, transposed, out_rows);
      return;
    }
    jobs_.resize(m.lanes);
    outs_.resize(m.lanes);
    const std::size_t width = transposed ? out_rows : xb_->cols();
    in_waves(
        m.count, m.lanes,
        [&](int64_t j, std::size_t lane) {
          const Tensor x = m.in(j, lane).contiguous();
          const auto n = static_cast<std::size_t>(x.size(0));
          outs_[lane].resize(n * width);
          own_tile_->start(jobs_[lane], x.data_ptr<float>(), n, transposed, out_rows,
                           outs_[lane].data());
        },
        [&](int64_t, std::size_t lane) { own_tile_->read(jobs_[lane], outs_[lane].data()); },
        [&](int64_t j, std::size_t lane) {
          own_tile_->finish(jobs_[lane], outs_[lane].data());
          m.done(j, lane, view(outs_[lane], jobs_[lane].scale.size(), width));
        });
  }

  void apply(const Tensor& inc, double now_s) override {
    const Tensor c = inc.contiguous();
    pulses_.clear();
    chi_->accumulate(c.data_ptr<float>(), [&](std::size_t r, std::size_t col, int p) {
      pulses_.push_back({static_cast<uint32_t>(r), static_cast<uint32_t>(col), p});
    });
    program(xb_->rows() * xb_->cols(), now_s);
  }

  void apply_outer(const Tensor& x, const Tensor& d, double scale, double now_s) override {
    const bool ideal = cfg_.update_x.ideal && cfg_.update_d.ideal;
    if (x.size(0) == 1) {
      // One sample: row by row, rows whose input is 0 skipped (the
      // perceptron's sparse update).
      const std::size_t rows = xb_->rows(), cols = xb_->cols();
      const Tensor xc = x.contiguous(), dc = d.contiguous();
      ux_.resize(rows);
      ud_.resize(cols);
      const std::size_t nonzero =
          update_operands(cfg_.update_x, cfg_.update_d, xc.data_ptr<float>(), rows,
                          dc.data_ptr<float>(), cols, ux_.data(), ud_.data());
      if (observer != nullptr && !ideal) observer->vector_op(digital_op::quantize, rows + cols);
      const float s = static_cast<float>(scale);
      pulses_.clear();
      uint64_t products = 0;
      for (std::size_t r = 0; r < rows && nonzero > 0; ++r) {
        if (ux_[r] == 0.0f) continue;
        products += nonzero;
        const auto row = static_cast<uint32_t>(r);
        chi_->accumulate_row(r, s * ux_[r], ud_.data(), nonzero, [&](std::size_t c, int p) {
          pulses_.push_back({row, static_cast<uint32_t>(c), p});
        });
      }
      program(products, now_s);
      return;
    }
    if (ideal) {
      weight_layer::apply_outer(x, d, scale, now_s);
      return;
    }
    // Every sample's operands quantised with their own scales, the outer
    // products summed: the batch's increment.
    Tensor xq = x.contiguous().clone(), dq = d.contiguous().clone();
    quantize_rows(cfg_.update_x, xq);
    quantize_rows(cfg_.update_d, dq);
    if (observer != nullptr) {
      observer->vector_op(digital_op::quantize, static_cast<std::size_t>(xq.numel() + dq.numel()));
    }
    weight_layer::apply_outer(xq, dq, scale, now_s);
  }

  bool begin_batch(uint64_t samples, std::size_t n, double now_s) override {
    // Events that fall due within this batch happen before it.
    auto due = [&](int every) {
      return every > 0 && samples > 0 &&
             (samples + n - 1) / static_cast<uint64_t>(every) >
                 (samples - 1) / static_cast<uint64_t>(every);
    };
    const bool synced = due(cfg_.drift_sync_images);
    if (synced) xb_->sync(now_s);
    return synced;
  }

  void end_batch(uint64_t samples, std::size_t n, double now_s) override {
    const int every = cfg_.refresh_every_images;
    if (every <= 0) return;
    const auto e = static_cast<uint64_t>(every);
    if (cfg_.refresh_spread) {  // 1/every of the rows after every sample
      for (uint64_t k = samples; k < samples + n; ++k) {
        const auto [r0, r1] = refresh_slice(xb_->rows(), k % e, e);
        tile_->refresh(r0, r1, now_s);
      }
    } else if ((samples + n) / e > samples / e) {  // every `every` samples, after the update
      tile_->refresh(0, xb_->rows(), now_s);
    }
  }

  crossbar* array() override { return xb_.get(); }
  analog_tile* analog() override { return own_tile_.get(); }
  const chi_memory* chi() const override { return chi_.get(); }
  void attach(tile_port* port) { tile_ = port ? port : own_tile_.get(); }

  void begin_epoch(int epoch) override { scale_for_epoch(epoch); }

  Tensor weights() override { return view(xb_->weights(), xb_->rows(), xb_->cols()); }

  weight_layer_stats stats() const override {
    weight_layer_stats s = stats_;
    const device_counters& d = xb_->counters();
    s.weight_updates = d.cells_programmed;
    s.set_pulses = d.set_pulses + d.refresh_set_pulses;
    s.reset_pulses = d.reset_pulses + d.refresh_reset_pulses;
    s.refreshed_cells = d.refreshed_cells;
    s.nonzero_chi_updates = chi_->counters().nonzero_updates;
    return s;
  }
  void save(state_writer& w) const override {
    xb_->save(w);
    chi_->save(w);
  }
  void load(state_reader& r) override {
    xb_->load(r);
    chi_->load(r);
  }

 private:
  // The chi update is reported, then its pulses go to the tile.
  void program(uint64_t products, double now_s) {
    if (observer != nullptr) observer->weight_update(index, xb_->rows(), xb_->cols(), products);
    if (!pulses_.empty()) tile_->program(pulses_, now_s);
  }

  // single_ref: the weight scale of epoch e from the schedule.
  void scale_for_epoch(int epoch) {
    if (xb_->synapse() != synapse_kind::single_ref) return;
    const auto& s = cfg_.weight_range_schedule;
    const double w = s.empty() ? 1.0 : s[std::min<std::size_t>(epoch - 1, s.size() - 1)];
    set_weight_per_us(2.0 * w / (cfg_.map_hi_us - cfg_.map_lo_us));
  }

  // W = (Gp - Gn) x s or (G - Gref) x s; epsilons follow the scale.
  void set_weight_per_us(double s) {
    weight_per_us_ = s;
    if (xb_->synapse() == synapse_kind::single_ref) xb_->set_weight_per_us(s);
    const double depress = cfg_.eps_depress_us > 0 ? cfg_.eps_depress_us : cfg_.eps_us;
    chi_->set_epsilons(cfg_.eps_us * s, depress * s);
  }

  mca_numerics cfg_;
  std::unique_ptr<crossbar> xb_;
  std::unique_ptr<chi_memory> chi_;
  double weight_per_us_ = 1.0;
  std::vector<float> ux_, ud_;     // update operands of one sample
  std::vector<pulse_cmd> pulses_;  // of one update
  weight_layer_stats stats_;
  std::unique_ptr<analog_tile> own_tile_;
  tile_port* tile_ = nullptr;
  std::vector<tile_job> jobs_;            // blocks in flight, per lane
  std::vector<std::vector<float>> outs_;  // their products, per lane
};

}  // namespace

// --- the network -------------------------------------------------------------

struct model::impl {
  network_spec spec;
  network_run_config cfg;
  std::vector<std::unique_ptr<weight_layer>> wl;  // per layer; null for digital layers
  std::vector<Tensor> velocity;                   // momentum per layer (weight layers)
  std::vector<Tensor> acts;                       // input of every layer (saved for backward)
  std::vector<Tensor> aux;                        // per layer: patches, pool indices, masks
  std::vector<Tensor> grads;                      // per layer: dL/dW of the last batch (conv)
  std::vector<Tensor> errs;  // dense, lstm: dL/d(output) of the last batch (lstm: of the gates)
  // lstm layers: every step's activated gates [T, N, 4n], cell states and
  // their tanh [T, N, n] (N sequences of T steps).
  struct lstm_trace {
    Tensor gates, cells, tanh_cells;
  };
  std::vector<lstm_trace> seq;
  std::size_t steps = 1;  // per sample: training.bptt for a recurrent network, else 1
  rng dropout_rng;
  step_observer* obs = nullptr;
  uint64_t samples = 0;
  std::size_t first_weight = 0;  // index of the first weight layer (needs no input error)
  std::vector<Tensor> patches;   // per lane: a conv block's patch matrix (reused)

  impl(const network_spec& n, const network_run_config& c, uint64_t seed)
      : spec(n), cfg(c), dropout_rng(seed, stream_id(stream_kind::dropout)) {
    cfg.validate();
    at::set_num_threads(cfg.threads);
    // The BLAS's own thread pool: the same count, so a run's results
    // depend on one recorded number.
    set_blas_threads(cfg.threads);
    const std::size_t nl = spec.layers.size();
    wl.resize(nl);
    velocity.resize(nl);
    acts.resize(nl);
    aux.resize(nl);
    grads.resize(nl);
    errs.resize(nl);
    seq.resize(nl);
    steps = spec.steps(cfg.bptt);
    uint32_t index = 0;
    for (std::size_t i = 0; i < nl; ++i) {
      layer_spec& l = spec.layers[i];
      if (l.kind == layer_kind::dropout) {
        l.rate *= cfg.dropout_scale;
        if (!(l.rate < 1.0)) {
          throw std::invalid_argument("training.dropout_scale " +
                                      std::to_string(cfg.dropout_scale) +
                                      " makes the rate of layer " + std::to_string(i) + " '" +
                                      l.name + "' " + std::to_string(l.rate) + " (must be < 1)");
        }
      }
      if (!is_weight_layer(l.kind)) continue;
      const auto it = cfg.layers.find(l.name);
      const layer_numerics ln = it == cfg.layers.end() ? layer_numerics{} : it->second;
      // He for the layers before rectifiers; an lstm's gates are sigmoid
      // and tanh: LeCun, sqrt(1 / fan_in).
      const std::size_t fan_in = l.rows();
      const double gain = l.kind == layer_kind::lstm ? 1.0 : 2.0;
      const double std = ln.weight_std > 0 ? ln.weight_std : std::sqrt(gain / fan_in);
      rng init(seed, stream_id(stream_kind::weight_init, index));
      switch (cfg.numerics_of(l.name)) {
        case numerics_kind::fp32:
          wl[i] = std::make_unique<fp32_layer>(l.rows(), l.cols(), std, l.bias, init);
          break;
        case numerics_kind::digital_mp:
          wl[i] = std::make_unique<digital_mp_layer>(l.rows(), l.cols(), std, l.bias, init,
                                                     cfg.digital_mp);
          break;
        case numerics_kind::mca:
          if (cfg.mca.crossbar.synapse == synapse_kind::single_ref && ln.g_per_weight_us > 0) {
            throw std::invalid_argument(
                "training.layers." + l.name +
                ".g_per_weight_us: single_ref synapses take their weight scale from "
                "mca.map_lo_us, map_hi_us and weight_range_schedule");
          }
          wl[i] = std::make_unique<mca_layer>(l.rows(), l.cols(), std, cfg.mca, ln, seed, index);
          break;
      }
      velocity[i] =
          at::zeros({static_cast<int64_t>(l.rows()), static_cast<int64_t>(l.cols())}, f32());
      wl[i]->index = index;
      ++index;
    }
    first_weight = spec.weight_layers().front();
    share_reference();
    for (const auto& [name, v] : cfg.layers) {
      bool found = false;
      for (const auto& l : spec.layers) found |= l.name == name && is_weight_layer(l.kind);
      if (!found) {
        throw std::invalid_argument("training.layers." + name +
                                    ": the network has no weight layer of that name");
      }
    }
  }

  // single_ref with a shared reference: Gref is the mean conductance of the
  // devices of every mca layer, read at the last drift sync.
  void share_reference() {
    const mca_numerics& m = cfg.mca;
    if (!cfg.uses(numerics_kind::mca) || m.crossbar.synapse != synapse_kind::single_ref ||
        !m.shared_reference) {
      return;
    }
    double sum = 0.0, devices = 0.0;
    for (const auto& w : wl) {
      if (crossbar* a = w ? w->array() : nullptr) {
        sum += a->conductance_sum_us();
        devices += static_cast<double>(a->devices());
      }
    }
    for (const auto& w : wl) {
      if (crossbar* a = w ? w->array() : nullptr) {
        a->set_reference_us(static_cast<float>(sum / devices));
      }
    }
  }

  static Tensor with_ones(const Tensor& x) {  // [m, k] -> [m, k + 1]
    const Tensor c = x.contiguous();
    const int64_t m = c.size(0), k = c.size(1);
    Tensor y = at::empty({m, k + 1}, f32());
    const float* src = c.data_ptr<float>();
    float* dst = y.data_ptr<float>();
    for (int64_t r = 0; r < m; ++r) {
      std::copy(src + r * k, src + (r + 1) * k, dst + r * (k + 1));
      dst[r * (k + 1) + k] = 1.0f;
    }
    return y;
  }

  // The patch rows of a block of c images of a conv layer's input (x: [c,
  // ch, h, w], contiguous) into p [c L, rows]: one row per output pixel
  // (image-major), (channel, ky, kx) per column, 0 outside the image ("same"
  // padding), then the bias column of ones.
  // K: the kernel size known at compile time (the inner loops unrolled), or
  // 0 for any.
  template <int64_t K>
  static void patch_rows(const layer_spec& l, const float* x, int64_t c, float* p) {
    const int64_t k = K > 0 ? K : static_cast<int64_t>(l.kernel), pad = k / 2;
    const auto ch = static_cast<int64_t>(l.in.c), h = static_cast<int64_t>(l.in.h),
               w = static_cast<int64_t>(l.in.w);
    const auto rows = static_cast<int64_t>(l.rows());
    // One task per line of output pixels (image, oy).
    at::parallel_for(0, c * h, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t b = t / h, oy = t % h;
        const float* img = x + b * ch * h * w;
        for (int64_t ox = 0; ox < w; ++ox) {
          float* o = p + (t * w + ox) * rows;
          for (int64_t cc = 0; cc < ch; ++cc) {
            const float* plane = img + cc * h * w;
            for (int64_t ky = 0; ky < k; ++ky, o += k) {
              const int64_t iy = oy + ky - pad;
              if (iy < 0 || iy >= h) {
                std::fill(o, o + k, 0.0f);
                continue;
              }
              const float* line = plane + iy * w;
              if (ox >= pad && ox + pad < w) {  // inside the image: k pixels
                for (int64_t kx = 0; kx < k; ++kx) o[kx] = line[ox - pad + kx];
                continue;
              }
              for (int64_t kx = 0; kx < k; ++kx) {
                const int64_t ix = ox + kx - pad;
                o[kx] = ix >= 0 && ix < w ? line[ix] : 0.0f;
              }
            }
          }
          if (l.bias) *o = 1.0f;
        }
      }
    });
  }

  // The inverse of patch_rows for errors: gi [c, ch, h, w] += every patch
  // row's errors g [c L, ckk] at the input pixels it read, one task per
  // input plane. The patches go last to first so that every pixel sums its
  // terms in kernel order (at::col2im's order: the same results).
  template <int64_t K>
  static void add_patch_rows(const layer_spec& l, const float* g, int64_t c, float* gi) {
    const int64_t k = K > 0 ? K : static_cast<int64_t>(l.kernel), pad = k / 2;
    const auto ch = static_cast<int64_t>(l.in.c), h = static_cast<int64_t>(l.in.h),
               w = static_cast<int64_t>(l.in.w);
    const int64_t ckk = ch * k * k;
    at::parallel_for(0, c * ch, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t b = t / ch, cc = t % ch;
        float* plane = gi + t * h * w;
        for (int64_t oy = h - 1; oy >= 0; --oy) {
          for (int64_t ox = w - 1; ox >= 0; --ox) {
            const float* o = g + ((b * h + oy) * w + ox) * ckk + cc * k * k;
            for (int64_t ky = 0; ky < k; ++ky, o += k) {
              const int64_t iy = oy + ky - pad;
              if (iy < 0 || iy >= h) continue;
              float* line = plane + iy * w;
              if (ox >= pad && ox + pad < w) {  // inside the image: k pixels
                for (int64_t kx = 0; kx < k; ++kx) line[ox - pad + kx] += o[kx];
                continue;
              }
              for (int64_t kx = 0; kx < k; ++kx) {
                const int64_t ix = ox + kx - pad;
                if (ix >= 0 && ix < w) line[ix] += o[kx];
              }
            }
          }
        }
      }
    });
  }

  // Blocks of MVMs in flight at once: the run's threads, or 1 under a
  // hardware model's observer (it follows the step in order). Every lane
  // has its patch buffer.
  std::size_t lanes() {
    const std::size_t n = obs != nullptr ? 1 : static_cast<std::size_t>(cfg.threads);
    while (patches.size() < n) patches.push_back(at::empty({0}, f32()));
    return n;
  }

  // A block's patch matrix in the lane's reused buffer.
  Tensor patch_matrix(const layer_spec& l, const Tensor& x, int64_t s, int64_t c,
                      std::size_t lane) {
    const auto L = static_cast<int64_t>(l.out.h * l.out.w);
    Tensor& patch = patches[lane];
    patch.resize_({c * L, static_cast<int64_t>(l.rows())});
    const float* in = x.data_ptr<float>() + s * x.stride(0);
    float* p = patch.data_ptr<float>();
    if (l.kernel == 3) {
      patch_rows<3>(l, in, c, p);
    } else {
      patch_rows<0>(l, in, c, p);
    }
    return patch;
  }

  // A batch of n images in blocks of conv MVMs, `per` images each (a patch
  // matrix of about 1 MiB at most): block j holds images [first(j),
  // first(j) + size(j)).
  struct image_blocks {
    int64_t n, per;
    image_blocks(const layer_spec& l, int64_t images) : n(images) {
      const std::size_t bytes = l.out.h * l.out.w * l.rows() * sizeof(float);
      per = static_cast<int64_t>(std::max<std::size_t>(1, (std::size_t{1} << 20) / bytes));
    }
    int64_t count() const { return (n + per - 1) / per; }
    int64_t first(int64_t j) const { return j * per; }
    int64_t size(int64_t j) const { return std::min(per, n - j * per); }
  };

  // An lstm layer over N sequences of T steps (x: [N T, m], sample-major):
  // per step one block of N MVMs of [h(t-1), x(t), 1] with W, the gates
  // i, f, o = sigmoid, g = tanh, c(t) = f c(t-1) + i g, h(t) = o tanh(c(t))
  // in the digital unit; the state starts at 0. Returns h [N T, n]; keeps
  // every step's MVM inputs ([T N, rows], the update's operands) and gates.
  Tensor lstm_forward(std::size_t i, const Tensor& x, bool train) {
    const layer_spec& l = spec.layers[i];
    const auto T = static_cast<int64_t>(steps), N = x.size(0) / T;
    const auto n = static_cast<int64_t>(l.units), m = static_cast<int64_t>(l.in.size());
    const auto R = static_cast<int64_t>(l.rows());
    const Tensor x3 = x.reshape({N, T, m});
    // Training keeps every step for the backward pass; evaluation one.
    const int64_t kept = train ? T : 1;
    Tensor in = at::empty({kept, N, R}, f32());
    lstm_trace& tr = seq[i];
    tr.gates = at::empty({kept, N, 4 * n}, f32());
    tr.cells = at::empty({kept, N, n}, f32());
    tr.tanh_cells = at::empty({kept, N, n}, f32());
    Tensor out = at::empty({N, T, n}, f32());
    Tensor h = at::zeros({N, n}, f32()), c = at::zeros({N, n}, f32());
    for (int64_t t = 0; t < T; ++t) {
      const int64_t slot = train ? t : 0;
      Tensor it = in.select(0, slot);
      it.narrow(1, 0, n).copy_(h);
      it.narrow(1, n, m).copy_(x3.select(1, t));
      if (l.bias) it.select(1, n + m).fill_(1.0f);
      // h(t-1) is quantised for the PWM inputs; x(t) too unless it is the
      // network's input.
      count_quantized(N * n);
      quantized_inputs(i, N * m);
      products(i, N, l.rows(), l.cols());
      const Tensor z = wl[i]->forward(it);
      const Tensor gt = tr.gates.select(0, slot);
      Tensor gif = gt.narrow(1, 0, 2 * n), gg = gt.narrow(1, 2 * n, n), go = gt.narrow(1, 3 * n, n);
      at::sigmoid_out(gif, z.narrow(1, 0, 2 * n));
      at::tanh_out(gg, z.narrow(1, 2 * n, n));
      at::sigmoid_out(go, z.narrow(1, 3 * n, n));
      c = gt.narrow(1, n, n) * c + gt.narrow(1, 0, n) * gg;
      tr.cells.select(0, slot).copy_(c);
      Tensor tc = tr.tanh_cells.select(0, slot);
      at::tanh_out(tc, c);
      h = go * tc;
      out.select(1, t).copy_(h);
      count(digital_op::activation, 5 * N * n);
    }
    aux[i] = train ? in.reshape({T * N, R}) : Tensor();
    if (!train) tr = lstm_trace{};
    return out.reshape({N * T, n});
  }

  // Backward through time of an lstm layer: g = dL/dh [N T, n] -> dL/dx
  // [N T, m] (when needed). Per step, last to first, the gates' errors dz
  // [N, 4n] in the digital unit, then one block of N transposed MVMs for
  // dL/dh(t-1) (and dL/dx(t)); the update's operands are every step's
  // inputs and dz (the sum of the per-step outer products).
  Tensor lstm_backward(std::size_t i, const Tensor& g, bool need_input_grad) {
    const layer_spec& l = spec.layers[i];
    const auto T = static_cast<int64_t>(steps), N = g.size(0) / T;
    const auto n = static_cast<int64_t>(l.units), m = static_cast<int64_t>(l.in.size());
    const Tensor g3 = g.reshape({N, T, n});
    const lstm_trace& tr = seq[i];
    Tensor dz_all = at::empty({T, N, 4 * n}, f32());
    Tensor dx = need_input_grad ? at::empty({N, T, m}, f32()) : Tensor();
    Tensor dh_next = at::zeros({N, n}, f32()), dc_next = at::zeros({N, n}, f32());
    for (int64_t t = T - 1; t >= 0; --t) {
      const Tensor gt = tr.gates.select(0, t);
      const Tensor gi = gt.narrow(1, 0, n), gf = gt.narrow(1, n, n), gg = gt.narrow(1, 2 * n, n),
                   go = gt.narrow(1, 3 * n, n);
      const Tensor tc = tr.tanh_cells.select(0, t);
      const Tensor dh = g3.select(1, t) + dh_next;
      const Tensor dc = dh * go * (1 - tc * tc) + dc_next;
      const Tensor dz = dz_all.select(0, t);
      Tensor dzi = dz.narrow(1, 0, n), dzf = dz.narrow(1, n, n), dzg = dz.narrow(1, 2 * n, n),
             dzo = dz.narrow(1, 3 * n, n);
      at::mul_out(dzi, dc * gg, gi * (1 - gi));
      if (t > 0) {
        at::mul_out(dzf, dc * tr.cells.select(0, t - 1), gf * (1 - gf));
      } else {
        dzf.zero_();  // c(-1) = 0
      }
      at::mul_out(dzg, dc * gi, 1 - gg * gg);
      at::mul_out(dzo, dh * tc, go * (1 - go));
      dc_next = dc * gf;
      count(digital_op::derivative, 5 * N * n);
      if (t == 0 && !need_input_grad) break;  // the state before the sequence is 0
      const auto out_rows = static_cast<std::size_t>(need_input_grad ? n + m : n);
      count_quantized(dz.numel());
      products(i, N, l.cols(), out_rows);
      const Tensor d_in = wl[i]->backward(dz, out_rows);
      dh_next = d_in.narrow(1, 0, n);
      if (need_input_grad) dx.select(1, t).copy_(d_in.narrow(1, n, m));
    }
    errs[i] = dz_all.reshape({T * N, 4 * n});
    return need_input_grad ? dx.reshape({N * T, m}) : Tensor();
  }

  // Forward of layer i on x; keeps what the backward pass needs.
  Tensor forward(std::size_t i, const Tensor& x, bool train) {
    const layer_spec& l = spec.layers[i];
    const int64_t n = x.size(0);
    acts[i] = x;
    switch (l.kind) {
      case layer_kind::dense: {
        const Tensor in = l.bias ? with_ones(x) : x.contiguous();
        aux[i] = in;
        quantized_inputs(i, in.numel());
        products(i, n, l.rows(), l.cols());
        return wl[i]->forward(in);
      }
      case layer_kind::conv2d: {
        const int64_t k = static_cast<int64_t>(l.kernel), pad = k / 2;
        const int64_t f = static_cast<int64_t>(l.filters);
        if (wl[i]->exact()) {
          const Tensor w = wl[i]->weights();
          const int64_t ckk = static_cast<int64_t>(l.in.c) * k * k;
          const Tensor kw =
              w.narrow(0, 0, ckk).t().reshape({f, static_cast<int64_t>(l.in.c), k, k});
          const Tensor b = l.bias ? w.select(0, ckk) : Tensor();
          products(i, n * static_cast<int64_t>(l.out.h * l.out.w), l.rows(), l.cols());
          return at::conv2d(x, kw.contiguous(), b, 1, pad);
        }
        // The MVMs one patch per row, a few images at a time: each block's
        // patch matrix stays small (in cache, no fresh pages); the backward
        // pass rebuilds the patches it needs from the saved input.
        const int64_t L = static_cast<int64_t>(l.out.h * l.out.w);
        const image_blocks blocks(l, n);
        const Tensor xc = x.contiguous();
        acts[i] = xc;
        Tensor y = at::empty({n * L, f}, f32());
        mvm_blocks m;
        m.count = blocks.count();
        m.lanes = lanes();
        m.in = [&](int64_t j, std::size_t lane) {
          Tensor p = patch_matrix(l, xc, blocks.first(j), blocks.size(j), lane);
          quantized_inputs(i, p.numel());
          products(i, p.size(0), l.rows(), l.cols());
          return p;
        };
        m.done = [&](int64_t j, std::size_t, const Tensor& out) {
          y.narrow(0, blocks.first(j) * L, out.size(0)).copy_(out);
        };
        wl[i]->block_products(m, false, 0);
        return y.reshape({n, static_cast<int64_t>(l.out.h), static_cast<int64_t>(l.out.w), f})
            .permute({0, 3, 1, 2})
            .contiguous();
      }
      case layer_kind::lstm:
        return lstm_forward(i, x, train);
      case layer_kind::one_hot: {
        const Tensor idx = x.reshape({n}).to(at::kLong);
        const int64_t lo = idx.min().item<int64_t>(), hi = idx.max().item<int64_t>();
        if (lo < 0 || hi >= static_cast<int64_t>(l.size)) {
          throw std::invalid_argument("layer " + std::to_string(i) + " '" + l.name +
                                      "': symbol index " + std::to_string(lo < 0 ? lo : hi) +
                                      " is outside [0, " + std::to_string(l.size) + ")");
        }
        return at::one_hot(idx, static_cast<int64_t>(l.size)).to(at::kFloat);
      }
      case layer_kind::maxpool: {
        const int64_t s = static_cast<int64_t>(l.size);
        auto [y, idx] = at::max_pool2d_with_indices(x, {s, s}, {s, s});
        aux[i] = idx;
        return y;
      }
      case layer_kind::dropout: {
        if (!train || l.rate == 0.0) {
          aux[i] = Tensor();
          return x;
        }
        Tensor mask = at::empty_like(x);
        float* m = mask.data_ptr<float>();
        const float keep = static_cast<float>(1.0 - l.rate), scale = 1.0f / keep;
        for (int64_t k = 0; k < mask.numel(); ++k) {
          m[k] = dropout_rng.uniform() < keep ? scale : 0.0f;
        }
        aux[i] = mask;
        return x * mask;
      }
      case layer_kind::flatten:
        return x.reshape({n, -1});
      case layer_kind::maxout: {
        // The largest of every group of `pieces` inputs (comparisons in the
        // digital unit); the winner's index routes the error back.
        count(digital_op::activation, x.numel());
        auto [y, idx] = x.reshape({n, -1, static_cast<int64_t>(l.pieces)}).max(2);
        aux[i] = idx;
        return y;
      }
      case layer_kind::sigmoid:
        count(digital_op::activation, x.numel());
        return aux[i] = at::sigmoid(x);
      case layer_kind::relu:
        count(digital_op::activation, x.numel());
        return aux[i] = at::relu(x);
      case layer_kind::tanh:
        count(digital_op::activation, x.numel());
        return aux[i] = at::tanh(x);
      default:  // losses: handled by the step
        return x;
    }
  }

  // Backward of layer i: g = dL/d(output) of the batch-mean loss ->
  // dL/d(input); weight layers keep dL/dW (conv: patches summed, or averaged
  // with conv_update "mean").
  Tensor backward(std::size_t i, const Tensor& g, bool need_input_grad) {
    const layer_spec& l = spec.layers[i];
    const Tensor& x = acts[i];
    const int64_t n = x.size(0);
    switch (l.kind) {
      case layer_kind::dense: {
        errs[i] = g;
        if (!need_input_grad) return Tensor();
        count_quantized(g.numel());
        products(i, n, l.cols(), l.rows() - (l.bias ? 1 : 0));
        return wl[i]->backward(g.contiguous(), l.rows() - (l.bias ? 1 : 0));
      }
      case layer_kind::conv2d: {
        const int64_t k = static_cast<int64_t>(l.kernel), pad = k / 2;
        const int64_t f = static_cast<int64_t>(l.filters);
        const int64_t ckk = static_cast<int64_t>(l.in.c) * k * k;
        const double patches = static_cast<double>(l.out.h * l.out.w);
        const double norm = cfg.conv_update == "mean" ? patches : 1.0;
        if (wl[i]->exact()) {
          const Tensor w = wl[i]->weights();
          const Tensor kw =
              w.narrow(0, 0, ckk).t().reshape({f, static_cast<int64_t>(l.in.c), k, k}).contiguous();
          std::vector<int64_t> bias_sizes{f};
          auto [gi, gw, gb] = at::convolution_backward(
              g, x, kw, l.bias ? at::OptionalIntArrayRef(bias_sizes) : at::OptionalIntArrayRef(),
              {1, 1}, {pad, pad}, {1, 1}, false, {0, 0}, 1, {need_input_grad, true, l.bias});
          if (need_input_grad) {
            products(i, n * static_cast<int64_t>(l.out.h * l.out.w), l.cols(),
                     static_cast<std::size_t>(ckk));
          }
          Tensor gw2 = gw.reshape({f, ckk}).t();
          if (l.bias) gw2 = at::cat({gw2, gb.reshape({1, f})}, 0);
          grads[i] = gw2 / norm;
          return gi;
        }
        const Tensor d = g.permute({0, 2, 3, 1}).reshape({-1, f}).contiguous();  // [n L, f]
        const int64_t L = static_cast<int64_t>(l.out.h * l.out.w);
        const image_blocks blocks(l, n);
        const std::size_t ln = lanes();
        auto errors = [&](int64_t j) {  // block j's errors [size L, f]
          return d.narrow(0, blocks.first(j) * L, blocks.size(j) * L);
        };
        // dL/dW: every block's patches^T x errors, summed in block order.
        const auto rows = static_cast<int64_t>(l.rows());
        Tensor gw = at::zeros({rows, f}, f32());
        std::vector<Tensor> part(ln);
        for (Tensor& t : part) t = at::empty({rows, f}, f32());
        in_waves(
            blocks.count(), ln,
            [&](int64_t j, std::size_t lane) {
              const Tensor p = patch_matrix(l, x, blocks.first(j), blocks.size(j), lane);
              at::mm_out(part[lane], p.t(), errors(j));
            },
            [&](int64_t, std::size_t lane) { gw.add_(part[lane]); }, nullptr);
        grads[i] = norm == 1.0 ? gw : gw / norm;
        if (!need_input_grad) return Tensor();
        // The errors of the patches, added back onto the input pixels.
        Tensor gi = at::zeros_like(x);
        mvm_blocks m;
        m.count = blocks.count();
        m.lanes = ln;
        m.in = [&](int64_t j, std::size_t) {
          Tensor dc = errors(j);
          count_quantized(dc.numel());
          products(i, dc.size(0), l.cols(), static_cast<std::size_t>(ckk));
          return dc;
        };
        m.done = [&](int64_t j, std::size_t, const Tensor& gc) {
          const Tensor g = gc.contiguous();
          float* out = gi.data_ptr<float>() + blocks.first(j) * gi.stride(0);
          if (l.kernel == 3) {
            add_patch_rows<3>(l, g.data_ptr<float>(), blocks.size(j), out);
          } else {
            add_patch_rows<0>(l, g.data_ptr<float>(), blocks.size(j), out);
          }
        };
        wl[i]->block_products(m, true, static_cast<std::size_t>(ckk));
        return gi;
      }
      case layer_kind::lstm:
        return lstm_backward(i, g, need_input_grad);
      case layer_kind::maxpool: {
        const int64_t s = static_cast<int64_t>(l.size);
        return at::max_pool2d_with_indices_backward(g, x, {s, s}, {s, s}, {0, 0}, {1, 1}, false,
                                                    aux[i]);
      }
      case layer_kind::dropout:
        return aux[i].defined() ? g * aux[i] : g;
      case layer_kind::flatten:
        return g.reshape(x.sizes());
      case layer_kind::maxout: {
        count(digital_op::derivative, g.numel());
        return at::zeros({n, g.size(1), static_cast<int64_t>(l.pieces)}, f32())
            .scatter_(2, aux[i].unsqueeze(2), g.unsqueeze(2))
            .reshape(x.sizes());
      }
      case layer_kind::sigmoid:
        count(digital_op::derivative, g.numel());
        return at::sigmoid_backward(g, aux[i]);
      case layer_kind::relu:
        count(digital_op::derivative, g.numel());
        return at::threshold_backward(g, aux[i], 0);
      case layer_kind::tanh:
        count(digital_op::derivative, g.numel());
        return at::tanh_backward(g, aux[i]);
      default:
        return g;
    }
  }

  void count(digital_op op, int64_t n) const {
    if (obs != nullptr) obs->vector_op(op, static_cast<std::size_t>(n));
  }
  // A weight layer's inputs (quantised unless they are the network's) and
  // its errors before the transposed MVMs, in the numerics that quantise.
  void quantized_inputs(std::size_t i, int64_t n) const {
    if (i != first_weight) count_quantized(n);
  }
  // A block of n products of weight layer i computed in the digital unit
  // (not on a tile).
  void products(std::size_t i, int64_t n, std::size_t in, std::size_t out) const {
    if (obs != nullptr && wl[i]->array() == nullptr) {
      obs->weight_products(wl[i]->index, static_cast<std::size_t>(n), in, out);
    }
  }
  void count_quantized(int64_t n) const {
    if (cfg.numerics != numerics_kind::fp32) count(digital_op::quantize, n);
  }
  void begin(step_stage s) const {
    if (obs != nullptr) obs->begin_stage(s);
  }
  void end(step_stage s) const {
    if (obs != nullptr) obs->end_stage(s);
  }

  Tensor input(const float* x, std::size_t n) const {
    const tensor_shape& s = spec.input;
    std::vector<int64_t> sizes{static_cast<int64_t>(n), static_cast<int64_t>(s.c)};
    if (!s.flat) sizes.insert(sizes.end(), {static_cast<int64_t>(s.h), static_cast<int64_t>(s.w)});
    return at::from_blob(const_cast<float*>(x), sizes, f32()).clone();
  }

  // Loss summed over the batch and dL/dz of the batch mean, sample by
  // sample (a batch-1 step stays a few operations).
  std::pair<batch_result, Tensor> loss(const Tensor& z, const uint8_t* labels, std::size_t n) {
    const layer_kind kind = spec.layers.back().kind;
    const Tensor zc = z.contiguous();
    const auto classes = static_cast<std::size_t>(zc.size(1));
    Tensor g = at::empty({static_cast<int64_t>(n), static_cast<int64_t>(classes)}, f32());
    const float* zp = zc.data_ptr<float>();
    float* gp = g.data_ptr<float>();
    const auto nf = static_cast<float>(n);
    batch_result r;
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t y = labels[k];
      if (y >= spec.classes()) {
        throw std::invalid_argument("label " + std::to_string(y) + " of sample " +
                                    std::to_string(k) + " in the batch is not below the " +
                                    std::to_string(spec.classes()) + " classes of the network");
      }
      const float* zk = zp + k * classes;
      float* gk = gp + k * classes;
      if (kind == layer_kind::sigmoid_cross_entropy) {
        // One logit: p = sigmoid(z), loss -y log p - (1 - y) log(1 - p) =
        // softplus(z) - y z (stable for any z); class 1 when z > 0.
        const double z = zk[0];
        r.correct += (z > 0.0) == (y == 1);
        r.loss_sum += std::max(z, 0.0) + std::log1p(std::exp(-std::abs(z))) - (y == 1 ? z : 0.0);
        gk[0] = static_cast<float>((1.0 / (1.0 + std::exp(-z)) - (y == 1 ? 1.0 : 0.0)) / n);
        continue;
      }
      // The prediction: the first largest output.
      const float* best = std::max_element(zk, zk + classes);
      r.correct += static_cast<std::size_t>(best - zk) == y;
      if (kind == layer_kind::cross_entropy) {
        const float mx = *best;
        double sum = 0.0;
        for (std::size_t c = 0; c < classes; ++c) sum += std::exp(static_cast<double>(zk[c] - mx));
        const double lse = static_cast<double>(mx) + std::log(sum);
        r.loss_sum += lse - static_cast<double>(zk[y]);
        for (std::size_t c = 0; c < classes; ++c) {
          const auto p = static_cast<float>(std::exp(static_cast<double>(zk[c]) - lse));
          gk[c] = (p - (c == y ? 1.0f : 0.0f)) / nf;
        }
      } else if (kind == layer_kind::mse) {
        for (std::size_t c = 0; c < classes; ++c) {
          const float e = zk[c] - (c == y ? 1.0f : 0.0f);
          r.loss_sum += 0.5 * static_cast<double>(e) * static_cast<double>(e);
          gk[c] = e / nf;
        }
      } else {  // l2svm: targets +-1
        for (std::size_t c = 0; c < classes; ++c) {
          const float t = c == y ? 1.0f : -1.0f;
          const float m = std::max(0.0f, 1.0f - t * zk[c]);
          r.loss_sum += static_cast<double>(m) * static_cast<double>(m);
          gk[c] = -2.0f * t * m / nf;
        }
      }
    }
    return {r, g};
  }

  // Layers before the loss (all of a generator's).
  std::size_t body() const { return spec.layers.size() - (spec.has_loss() ? 1 : 0); }

  // Through layers [0, upto) (the body unless given).
  Tensor forward_all(const float* x, std::size_t n, bool train, std::size_t upto = 0) {
    Tensor a = input(x, n);
    const std::size_t end = upto > 0 ? upto : body();
    for (std::size_t i = 0; i < end; ++i) a = forward(i, a, train);
    return a;
  }

  // Backward from g = dL/d(output) through every layer of the body; the
  // first weight layer computes its input's error only when `to_input`.
  Tensor backward_all(Tensor g, bool to_input) {
    for (std::size_t i = body(); i-- > 0;) {
      g = backward(i, g, to_input || i > first_weight);
      if (i == first_weight && !to_input) break;
    }
    return g;
  }

  // The loss of the network's loss layer on labels (one per step).
  using loss_fn = std::function<std::pair<batch_result, Tensor>(const Tensor& z)>;
  loss_fn labelled(const uint8_t* labels) {
    return [this, labels](const Tensor& z) {
      if (!spec.has_loss()) {
        throw std::invalid_argument("network '" + spec.name +
                                    "' has no loss layer: it trains through another's loss");
      }
      return loss(z, labels, static_cast<std::size_t>(z.size(0)));
    };
  }

  // One training step on n samples with the loss `lf` on the outputs.
  batch_result step(const float* x, std::size_t n, double lr, double now_s, const loss_fn& lf);
};

model::model(const network_spec& net, const network_run_config& cfg, uint64_t seed)
    : p_(std::make_unique<impl>(net, cfg, seed)) {}

model::~model() = default;

const network_spec& model::spec() const {
  return p_->spec;
}

uint64_t model::samples_trained() const {
  return p_->samples;
}

batch_result model::train_batch(const float* x, const uint8_t* labels, std::size_t n, double lr,
                                double now_s) {
  return p_->step(x, n, lr, now_s, p_->labelled(labels));
}

batch_result model::train_batch(const float* x, std::size_t n, double lr, double now_s,
                                const loss_function& loss) {
  impl& m = *p_;
  return m.step(x, n, lr, now_s, [&loss](const Tensor& z) {
    const Tensor zc = z.contiguous();
    Tensor g = at::empty_like(zc);
    const batch_result r =
        loss(zc.data_ptr<float>(), static_cast<std::size_t>(zc.size(0)), g.data_ptr<float>());
    return std::make_pair(r, g);
  });
}

batch_result model::input_gradient(const float* x, const uint8_t* labels, std::size_t n,
                                   float* gx) {
  impl& m = *p_;
  at::NoGradGuard no_grad;
  const std::size_t rows = n * m.steps;
  m.begin(step_stage::forward);
  const Tensor z = m.forward_all(x, rows, true);
  m.end(step_stage::forward);
  m.begin(step_stage::backward);
  auto [res, g] = m.labelled(labels)(z);
  m.count(digital_op::error, g.numel());
  const Tensor gi = m.backward_all(g, true).contiguous();
  std::copy(gi.data_ptr<float>(), gi.data_ptr<float>() + gi.numel(), gx);
  m.end(step_stage::backward);
  return res;
}

std::vector<float> model::outputs(const float* x, std::size_t n, std::size_t layers) {
  impl& m = *p_;
  if (layers > m.body()) {
    throw std::invalid_argument("outputs: " + std::to_string(layers) + " layers of network '" +
                                m.spec.name + "', which has " + std::to_string(m.body()) +
                                " before its loss");
  }
  at::NoGradGuard no_grad;
  m.begin(step_stage::forward);
  const Tensor z = m.forward_all(x, n * m.steps, false, layers);
  m.end(step_stage::forward);
  return to_vector(z);
}

batch_result model::impl::step(const float* x, std::size_t n, double lr, double now_s,
                               const loss_fn& lf) {
  impl& m = *this;
  at::NoGradGuard no_grad;
  bool synced = false;
  for (const auto& w : m.wl) {
    if (w) synced |= w->begin_batch(m.samples, n, now_s);
  }
  if (synced) m.share_reference();
  m.begin(step_stage::forward);
  const std::size_t rows = n * m.steps;
  const Tensor z = m.forward_all(x, rows, true);
  m.end(step_stage::forward);
  m.begin(step_stage::backward);
  auto [res, g] = lf(z);
  m.count(digital_op::error, g.numel());
  // Backward through every layer; the first weight layer needs no input error.
  m.backward_all(g, false);
  m.end(step_stage::backward);
  m.begin(step_stage::update);
  // SGD with gradient clipping, momentum and weight decay in the digital
  // unit, then the update of every weight layer in its numerics. Plain SGD
  // hands a dense or lstm layer the operands of its outer products (lstm:
  // of every step) instead of their sum.
  const bool plain = m.cfg.momentum == 0 && m.cfg.weight_decay == 0 && m.cfg.clip_norm == 0;
  auto outer = [&m](std::size_t i) {
    const layer_kind k = m.spec.layers[i].kind;
    return k == layer_kind::dense || k == layer_kind::lstm;
  };
  if (!plain) {
    for (std::size_t i = 0; i < m.wl.size(); ++i) {
      if (m.wl[i] && outer(i)) m.grads[i] = m.aux[i].t().mm(m.errs[i]);
    }
  }
  double clip = 1.0;
  if (m.cfg.clip_norm > 0) {
    double sq = 0.0;
    for (std::size_t i = 0; i < m.wl.size(); ++i) {
      if (m.wl[i]) sq += m.grads[i].square().sum().item<double>();
    }
    if (std::sqrt(sq) > m.cfg.clip_norm) clip = m.cfg.clip_norm / std::sqrt(sq);
  }
  for (std::size_t i = 0; i < m.wl.size(); ++i) {
    if (!m.wl[i]) continue;
    if (plain && outer(i)) {
      m.wl[i]->apply_outer(m.aux[i], m.errs[i], -lr, now_s);
      continue;
    }
    Tensor step = clip == 1.0 ? m.grads[i] : m.grads[i] * clip;
    if (m.cfg.weight_decay > 0) {
      const layer_spec& l = m.spec.layers[i];
      const int64_t decayed = static_cast<int64_t>(l.rows()) - (l.bias ? 1 : 0);
      step = step.clone();
      step.narrow(0, 0, decayed).add_(m.wl[i]->weights().narrow(0, 0, decayed), m.cfg.weight_decay);
    }
    if (m.cfg.momentum > 0) {
      m.velocity[i].mul_(m.cfg.momentum).add_(step);
      step = m.velocity[i];
    }
    m.wl[i]->apply(step * (-lr), now_s);
  }
  for (const auto& w : m.wl) {
    if (w) w->end_batch(m.samples, n, now_s);
  }
  m.end(step_stage::update);
  m.samples += n;
  return res;
}

void model::begin_epoch(int epoch) {
  for (const auto& w : p_->wl) {
    if (w) w->begin_epoch(epoch);
  }
}

void model::age_to(double now_s) {
  for (const auto& w : p_->wl) {
    if (crossbar* a = w ? w->array() : nullptr) a->sync(now_s);
  }
  p_->share_reference();
}

batch_result model::evaluate(const float* x, const uint8_t* labels, std::size_t n) {
  at::NoGradGuard no_grad;
  p_->begin(step_stage::forward);
  const std::size_t rows = n * p_->steps;
  const Tensor z = p_->forward_all(x, rows, false);
  p_->end(step_stage::forward);
  return p_->labelled(labels)(z).first;
}

std::vector<layer_activity> model::activity(const float* x, std::size_t n) {
  at::NoGradGuard no_grad;
  impl& m = *p_;
  // A probe, not a step: nothing reaches the observer.
  step_observer* const obs = m.obs;
  observe(nullptr);
  std::vector<layer_activity> out;
  Tensor a = m.input(x, n * m.steps);
  for (std::size_t i = 0; i < m.body(); ++i) {
    a = m.forward(i, a, false);
    const layer_spec& l = m.spec.layers[i];
    layer_activity s;
    s.name = l.name;
    s.kind = layer_kind_name(l.kind);
    const Tensor f = a.reshape({a.size(0), -1});
    s.mean = f.mean().item<double>();
    s.std = f.numel() > 1 ? f.std().item<double>() : 0.0;
    const Tensor zero = f.eq(0);
    s.zero_fraction = zero.to(at::kFloat).mean().item<double>();
    s.dead_fraction = zero.all(0).to(at::kFloat).mean().item<double>();
    if (m.wl[i]) {
      const Tensor w = m.wl[i]->weights();
      s.weight_layer = true;
      s.weight_mean = w.mean().item<double>();
      s.weight_std = w.std().item<double>();
      if (const crossbar* xb = m.wl[i]->array()) {
        const crossbar::conductance_summary g = xb->summarize(0.9 * m.cfg.mca.pcm.g_max_us);
        s.devices = true;
        s.g_pos_mean_us = g.pos_mean_us;
        s.g_pos_std_us = g.pos_std_us;
        s.g_neg_mean_us = g.neg_mean_us;
        s.g_neg_std_us = g.neg_std_us;
        s.g_high_fraction = g.high_fraction;
      }
    }
    out.push_back(s);
  }
  observe(obs);
  return out;
}

std::vector<weight_layer_stats> model::stats() const {
  std::vector<weight_layer_stats> out;
  for (std::size_t i = 0; i < p_->wl.size(); ++i) {
    if (!p_->wl[i]) continue;
    out.push_back(p_->wl[i]->stats());
    out.back().name = p_->spec.layers[i].name;
  }
  return out;
}

namespace {

std::size_t weight_layer_index(const network_spec& spec, std::size_t k) {
  const auto w = spec.weight_layers();
  if (k >= w.size()) {
    throw std::invalid_argument("weight layer " + std::to_string(k) + " of " +
                                std::to_string(w.size()));
  }
  return w[k];
}

}  // namespace

std::vector<float> model::weights(std::size_t k) const {
  return to_vector(p_->wl[weight_layer_index(p_->spec, k)]->weights());
}

void model::set_weights(std::size_t k, const std::vector<float>& w) {
  const std::size_t i = weight_layer_index(p_->spec, k);
  if (p_->wl[i]->array() != nullptr) {
    throw std::invalid_argument("set_weights: PCM weights are programmed, not written");
  }
  Tensor t = p_->wl[i]->weights();
  if (static_cast<int64_t>(w.size()) != t.numel()) {
    throw std::invalid_argument("set_weights: " + std::to_string(w.size()) + " values for " +
                                std::to_string(t.numel()) + " weights");
  }
  from_vector(t, w);
  p_->wl[i]->weights_written();
}

crossbar* model::array(std::size_t k) {
  return p_->wl[weight_layer_index(p_->spec, k)]->array();
}

analog_tile* model::analog(std::size_t k) {
  return p_->wl[weight_layer_index(p_->spec, k)]->analog();
}

const chi_memory* model::chi(std::size_t k) const {
  return p_->wl[weight_layer_index(p_->spec, k)]->chi();
}

void model::attach_tile(std::size_t k, tile_port* port) {
  const std::size_t i = weight_layer_index(p_->spec, k);
  auto* layer = dynamic_cast<mca_layer*>(p_->wl[i].get());
  if (layer == nullptr) {
    throw std::invalid_argument("attach_tile: weight layer " + std::to_string(k) + " '" +
                                p_->spec.layers[i].name + "' is not an mca layer");
  }
  layer->attach(port);
}

void model::observe(step_observer* obs) {
  p_->obs = obs;
  for (const auto& w : p_->wl) {
    if (w) w->observer = obs;
  }
}

void model::save(state_writer& w) const {
  w.put(p_->samples);
  p_->dropout_rng.save(w);
  for (std::size_t i = 0; i < p_->wl.size(); ++i) {
    if (!p_->wl[i]) continue;
    p_->wl[i]->save(w);
    w.put(to_vector(p_->velocity[i]));
  }
}

void model::load(state_reader& r) {
  r.get(p_->samples, "samples trained");
  p_->dropout_rng.load(r, "dropout stream");
  for (std::size_t i = 0; i < p_->wl.size(); ++i) {
    if (!p_->wl[i]) continue;
    p_->wl[i]->load(r);
    std::vector<float> v(static_cast<std::size_t>(p_->velocity[i].numel()));
    r.get(v, "momentum");
    from_vector(p_->velocity[i], v);
  }
}

}  // namespace mcasim
