// GPTQ on the CPU: the calibration pass through the CPU backend in fp32,
// Hessians through the CPU GEMM, LAPACK's factorisation (quant/linalg.cpp)
// and the column loop of quant/gptq.cpp.
#include <chrono>
#include <utility>

#include "backend/prepare.h"
#include "core/error.h"
#include "kernels/cpu/cpu_kernels.h"
#include "quant/gptq_device.h"

namespace gptq {
namespace {

// `replacement` with `original`'s bias.
Linear with_bias_of(const Linear& original, Linear replacement) {
  replacement.set_bias(original.bias());
  return replacement;
}

struct CpuHessian final : GptqDevice::Hessian {
  int64_t cols = 0;
  std::vector<float> sum;  // [cols][cols]
};

struct CpuFactor final : GptqDevice::Factor {
  HessianFactor factor;
};

class CpuGptqDevice final : public GptqDevice {
 public:
  CpuGptqDevice(ThreadPool& pool, const Model& model)
      : pool_(pool), model_(model), preparer_(make_preparer(kCpu, FloatType::F32)) {
    BackendOptions options;
    options.pool = &pool;
    backends_.add(make_backend(kCpu, options));
  }

  const BackendSet& backends() const override { return backends_; }

  // Every linear copied to fp32 in memory, so quantized weights can replace them one by one.
  DecoderLayer working_copy(const DecoderLayer& layer, const std::vector<LayerLinear>& linears) override {
    DecoderLayer copy = layer;
    for (const LayerLinear& entry : linears) {
      Linear& linear = entry.of(copy);
      const int64_t rows = linear.out_features(), cols = linear.in_features();
      std::vector<float> values(rows * cols);
      for (int64_t r = 0; r < rows; ++r) cpu::dense_row_to_float(linear.dense_weights(), r, &values[r * cols]);
      linear = with_bias_of(linear, Linear::dense(linear.name(), std::move(values), rows, cols));
    }
    prepare_layer(copy, model_.config(), *preparer_);
    return copy;
  }

  void embed(ForwardPass& forward, const CalibrationSet& calibration) override {
    const int64_t H = model_.config().hidden_size;
    hidden_.assign(calibration.size(), {});
    for (size_t s = 0; s < calibration.size(); ++s) {
      const int32_t n = static_cast<int32_t>(calibration[s].size());
      const SampleBatch sample(calibration[s].data(), n);
      hidden_[s].resize(n * H);
      backend().stage_batch(sample.batch());
      forward.embed(backend(), rows_of(hidden_[s]), n);
    }
  }

  Activations sample(size_t s, bool update) override {
    if (update) return rows_of(hidden_[s]);
    scratch_ = hidden_[s];
    return rows_of(scratch_);
  }

  std::unique_ptr<Hessian> new_hessian(int64_t cols) override {
    auto h = std::make_unique<CpuHessian>();
    h->cols = cols;
    h->sum.assign(cols * cols, 0.0f);
    return h;
  }

  // sum over tokens of x^T x through the GEMM: X^T (as [k][rows]) times itself.
  void accumulate(Hessian& sum, const Activations& rows, int64_t n_rows) override {
    CpuHessian& h = static_cast<CpuHessian&>(sum);
    const int64_t k = h.cols;
    const float* x = rows.as<const float>();
    transposed_.resize(k * n_rows);
    for (int64_t r = 0; r < n_rows; ++r)
      for (int64_t c = 0; c < k; ++c) transposed_[c * n_rows + r] = x[r * rows.stride + c];
    gram_.resize(k * k);
    const DenseMatrix xt{transposed_.data(), FloatType::F32, k, n_rows, n_rows};
    cpu::matmul(pool_, transposed_.data(), n_rows, k, xt, nullptr, gram_.data(), k);
    for (int64_t i = 0; i < k * k; ++i) h.sum[i] += gram_[i];
  }

  std::unique_ptr<Factor> factor(std::unique_ptr<Hessian> sum, float scale, bool desc_act,
                                 double damp_percent) override {
    CpuHessian& h = static_cast<CpuHessian&>(*sum);
    for (float& v : h.sum) v *= scale;
    auto f = std::make_unique<CpuFactor>();
    f->factor = factor_hessian(std::move(h.sum), h.cols, desc_act, damp_percent);
    f->damp_used = f->factor.damp_used;
    return f;
  }

  QuantizedResult quantize(Linear& working, const Factor* factor, const GptqOptions& options,
                           int group_size) override {
    const float* w = static_cast<const float*>(working.dense_weights().data);  // fp32: a working copy
    const int64_t rows = working.out_features(), cols = working.in_features();
    const auto start = std::chrono::steady_clock::now();
    const QuantizedMatrix q =
        factor == nullptr
            ? rtn_quantize_matrix(pool_, w, rows, cols, options)
            : gptq_quantize_matrix(pool_, w, rows, cols, static_cast<const CpuFactor&>(*factor).factor, options);
    QuantizedResult result;
    result.gptq_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    result.linear = std::make_shared<const QuantizedLinear>(quantized_linear_from_matrix(q, group_size));
    result.loss = q.loss;
    result.damp_used = q.damp_used;
    working = with_bias_of(working, Linear::dense(working.name(), result.linear->dequantize(), rows, cols));
    working.set_prepared(preparer_->linear(working));
    return result;
  }

 private:
  Activations rows_of(std::vector<float>& v) const {
    const int64_t H = model_.config().hidden_size;
    return Activations{v.data(), H, H, 4};
  }

  ThreadPool& pool_;
  const Model& model_;
  std::unique_ptr<WeightPreparer> preparer_;
  BackendSet backends_;
  std::vector<std::vector<float>> hidden_;
  std::vector<float> scratch_, transposed_, gram_;
};

}  // namespace

std::unique_ptr<GptqDevice> make_cpu_gptq_device(ThreadPool& pool, const Model& model) {
  return std::make_unique<CpuGptqDevice>(pool, model);
}

}  // namespace gptq
