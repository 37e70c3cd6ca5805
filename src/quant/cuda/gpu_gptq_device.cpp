#include "quant/cuda/gpu_gptq_device.h"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <vector>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/gpu_runtime.h"
#include "backend/cuda/gpu_weights.h"
#include "core/error.h"
#include "core/half.h"
#include "core/log.h"
#include "kernels/cuda/gptq_solve.h"
#include "quant/pack.h"

#if GPTQ_WITH_CUBLAS
#include <cusolverDn.h>

#include "backend/cuda/cublas_util.h"
#endif

namespace gptq::cuda {

#if GPTQ_WITH_CUBLAS
namespace {

using Clock = std::chrono::steady_clock;

void check_solver(cusolverStatus_t status, const char* what) {
  if (status != CUSOLVER_STATUS_SUCCESS) {
    fail(status == CUSOLVER_STATUS_ALLOC_FAILED ? GPTQ_ERR_OUT_OF_MEMORY : GPTQ_ERR_DEVICE, what,
         " failed: cuSOLVER status ", static_cast<int>(status));
  }
}

// A buffer that only grows: GPTQ's scratch, reused by every linear.
void ensure(DeviceBuffer& buffer, DeviceId device, size_t bytes, const char* what) {
  if (buffer.bytes() < bytes) {
    buffer = DeviceBuffer();
    buffer = DeviceBuffer(device, bytes, what);
  }
}

template <typename T>
void upload(const std::vector<T>& host, DeviceBuffer& buffer, DeviceId device, cudaStream_t stream, const char* what) {
  ensure(buffer, device, std::max<size_t>(host.size() * sizeof(T), 1), what);
  check(cudaMemcpyAsync(buffer.get(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice, stream), what);
}

template <typename T>
std::vector<T> download(const void* device_data, size_t count, cudaStream_t stream, const char* what) {
  std::vector<T> host(count);
  check(cudaMemcpyAsync(host.data(), device_data, count * sizeof(T), cudaMemcpyDeviceToHost, stream), what);
  check(cudaStreamSynchronize(stream), what);
  return host;
}

struct GpuHessian final : GptqDevice::Hessian {
  int64_t cols = 0;
  DeviceBuffer sum;  // [cols][cols] fp32
};

struct GpuFactor final : GptqDevice::Factor {
  int64_t cols = 0;
  bool act_order = false;
  std::vector<int32_t> positions;  // position -> column
  std::vector<uint8_t> dead;
  DeviceBuffer positions_device, dead_device;
  DeviceBuffer inverse_upper;  // [cols][cols] fp32, by position
};

// Where the samples' hidden states live between layers: on the GPU when
// they fit beside a layer's working set, else in pinned host memory, moved
// through one device buffer a sample at a time.
class SampleStore {
 public:
  void allocate(DeviceId device, const std::vector<int32_t>& lengths, int64_t cols, int64_t stride,
                int32_t element_size, bool on_device) {
    cols_ = cols;
    stride_ = stride;
    element_ = element_size;
    on_device_ = on_device;
    int64_t longest = 1;
    for (int32_t n : lengths) {
      const size_t bytes = static_cast<size_t>(n) * stride * element_size;
      if (on_device) device_.emplace_back(device, bytes, "the calibration samples' hidden states");
      else host_.emplace_back(bytes);
      bytes_.push_back(bytes);
      longest = std::max<int64_t>(longest, n);
    }
    work_ = DeviceBuffer(device, static_cast<size_t>(longest) * stride * element_size, "a calibration sample");
  }

  bool on_device() const { return on_device_; }

  // The sample's rows on the device (a copy unless `update`), valid until the next call.
  Activations rows(size_t s, bool update, cudaStream_t stream) {
    write_back(stream);
    if (on_device_ && update) return view(device_[s].get());
    const void* from = on_device_ ? device_[s].get() : host_[s].get();
    check(cudaMemcpyAsync(work_.get(), from, bytes_[s], on_device_ ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice,
                          stream),
          "staging a calibration sample");
    if (update) pending_ = static_cast<int64_t>(s);
    return view(work_.get());
  }

  // Copies an updated host-held sample back (in stream order, after the layer).
  void write_back(cudaStream_t stream) {
    if (pending_ < 0) return;
    check(cudaMemcpyAsync(host_[pending_].get(), work_.get(), bytes_[pending_], cudaMemcpyDeviceToHost, stream),
          "keeping a calibration sample on the host");
    pending_ = -1;
  }

  Activations view(void* data) const { return Activations{data, cols_, stride_, element_}; }
  // Where sample s is written first; a host-held one goes back on write_back.
  Activations destination(size_t s, cudaStream_t stream) {
    if (on_device_) return view(device_[s].get());
    write_back(stream);
    pending_ = static_cast<int64_t>(s);
    return view(work_.get());
  }

 private:
  int64_t cols_ = 0, stride_ = 0;
  int32_t element_ = 2;
  bool on_device_ = true;
  std::vector<DeviceBuffer> device_;
  std::vector<PinnedBuffer> host_;
  std::vector<size_t> bytes_;
  DeviceBuffer work_;
  int64_t pending_ = -1;
};

class GpuGptqDevice final : public GptqDevice {
 public:
  GpuGptqDevice(DeviceId device, ThreadPool& pool, const Model& model, int32_t max_tokens,
                const GptqDeviceOptions& options)
      : device_(device), model_(model), compute_(options.gpu_compute), max_device_bytes_(options.max_device_bytes) {
    const FloatType compute = compute_;
    DeviceScope scope(device);
    BackendOptions backend;
    backend.pool = &pool;
    backend.model = &model;
    backend.gpu_compute = compute;
    backend.gpu_kv = compute;
    backend.max_tokens = max_tokens;
    backends_.add(make_backend(device, backend));
    cpu_ = make_backend(kCpu, backend);
    stream_ = backend_stream(GptqDevice::backend());
    preparer_ = make_cuda_preparer(device, compute);
    cublasHandle_t blas = nullptr;
    check_blas(cublasCreate(&blas), "cublasCreate");
    blas_ = blas;
    check_blas(cublasSetStream(blas, stream_), "cublasSetStream");
    cusolverDnHandle_t solver = nullptr;
    check_solver(cusolverDnCreate(&solver), "cusolverDnCreate");
    solver_ = solver;
    check_solver(cusolverDnSetStream(solver, stream_), "cusolverDnSetStream");
    info_ = DeviceBuffer(device, sizeof(int), "cuSOLVER's status");
  }

  ~GpuGptqDevice() override {
    DeviceScope scope(device_);
    (void)cudaStreamSynchronize(stream_);
    if (solver_ != nullptr) (void)cusolverDnDestroy(solver_);
    if (blas_ != nullptr) (void)cublasDestroy(blas_);
  }

  const BackendSet& backends() const override { return backends_; }

  DecoderLayer working_copy(const DecoderLayer& layer, const std::vector<LayerLinear>&) override {
    DeviceScope scope(device_);
    DecoderLayer copy = layer;
    prepare_layer(copy, model_.config(), *preparer_);
    preparer_->finish();
    preparer_->forget_shared();  // else every layer's weights stay on the device
    return copy;
  }

  // Embeddings on the CPU (the model's tables stay there), uploaded in the compute type.
  void embed(ForwardPass& forward, const CalibrationSet& calibration) override {
    DeviceScope scope(device_);
    const int64_t H = model_.config().hidden_size;
    const Activations shape = backend().allocate_activations(1, H);
    std::vector<int32_t> lengths;
    for (const auto& sample : calibration) lengths.push_back(static_cast<int32_t>(sample.size()));
    samples_.allocate(device_, lengths, H, shape.stride, shape.element_size, keep_samples_on_device(lengths, shape));
    if (!samples_.on_device()) {
      log_info("the calibration samples' hidden states stay in pinned host memory (they do not fit on ",
               device_name(device_), " beside a layer)");
    }
    std::vector<float> host;
    for (size_t s = 0; s < calibration.size(); ++s) {
      const int32_t n = lengths[s];
      const SampleBatch sample(calibration[s].data(), n);
      host.assign(static_cast<size_t>(n) * H, 0.0f);
      cpu_->stage_batch(sample.batch());
      const Activations rows{host.data(), H, H, 4};
      forward.embed(*cpu_, rows, n);
      backend().copy_from(*cpu_, rows, samples_.destination(s, stream_), n);
    }
    samples_.write_back(stream_);
    check(cudaStreamSynchronize(stream_), "embedding the calibration samples");
  }

  Activations sample(size_t s, bool update) override { return samples_.rows(s, update, stream_); }
  void end_pass() override { samples_.write_back(stream_); }
  void synchronize() override { check(cudaStreamSynchronize(stream_), "the calibration pass"); }

  std::unique_ptr<Hessian> new_hessian(int64_t cols) override {
    auto h = std::make_unique<GpuHessian>();
    h->cols = cols;
    h->sum = DeviceBuffer(device_, static_cast<size_t>(cols * cols) * 4, "a Hessian", true);
    return h;
  }

  // sum += X^T X: fp32 accumulation; fp16 products are exact in it, and
  // fp32 inputs keep their precision (no TF32).
  void accumulate(Hessian& sum, const Activations& rows, int64_t n_rows) override {
    GpuHessian& h = static_cast<GpuHessian&>(sum);
    const int k = static_cast<int>(h.cols);
    const float one = 1.0f;
    const cudaDataType_t t = blas_data_type(compute_);
    check_blas(cublasGemmEx(blas_, CUBLAS_OP_N, CUBLAS_OP_T, k, k, static_cast<int>(n_rows), &one, rows.data, t,
                            static_cast<int>(rows.stride), rows.data, t, static_cast<int>(rows.stride), &one,
                            h.sum.get(), CUDA_R_32F, k,
                            compute_ == FloatType::F32 ? CUBLAS_COMPUTE_32F_PEDANTIC : CUBLAS_COMPUTE_32F,
                            CUBLAS_GEMM_DEFAULT),
               "summing a Hessian");
  }

  std::unique_ptr<Factor> factor(std::unique_ptr<Hessian> sum, float scale, bool desc_act,
                                 double damp_percent) override {
    DeviceScope scope(device_);
    GpuHessian& h = static_cast<GpuHessian&>(*sum);
    const int64_t K = h.cols;
    if (K > 46340) fail(GPTQ_ERR_UNSUPPORTED, "a ", K, "-input Hessian is beyond cuSOLVER's 32-bit factorisation");
    auto f = std::make_unique<GpuFactor>();
    f->cols = K;
    f->act_order = desc_act;
    ensure(diag_, device_, static_cast<size_t>(K) * 4, "the Hessian's diagonal");
    check(gpu::launch_hessian_diagonal(h.sum.as<float>(), static_cast<int32_t>(K), scale, diag_.as<float>(), stream_),
          "the Hessian diagonal kernel");
    std::vector<float> diag = download<float>(diag_.get(), K, stream_, "reading the Hessian's diagonal");
    // The CPU's order of operations (quant/hessian_factor.cpp), on the diagonal alone.
    f->dead.assign(K, 0);
    for (int64_t k = 0; k < K; ++k) {
      if (diag[k] == 0.0f) {
        diag[k] = 1.0f;
        f->dead[k] = 1;
      }
    }
    f->positions.resize(K);
    std::iota(f->positions.begin(), f->positions.end(), 0);
    if (desc_act) {
      std::stable_sort(f->positions.begin(), f->positions.end(), [&](int32_t a, int32_t b) { return diag[a] > diag[b]; });
    }
    double mean_diag = 0.0;
    for (int64_t i = 0; i < K; ++i) mean_diag += diag[f->positions[i]];
    mean_diag /= static_cast<double>(K);
    upload(f->positions, f->positions_device, device_, stream_, "the act-order permutation");
    upload(f->dead, f->dead_device, device_, stream_, "the dead inputs");

    ensure(reversed_, device_, static_cast<size_t>(K * K) * 8, "the Hessian's fp64 factorisation");
    double* a = reversed_.as<double>();
    const int n = static_cast<int>(K);
    double damp = damp_percent * mean_diag;
    for (int attempt = 0;; ++attempt) {
      check(gpu::launch_hessian_damped_reversed(h.sum.as<float>(), n, scale, f->positions_device.as<int32_t>(),
                                                f->dead_device.as<uint8_t>(), damp, a, stream_),
            "the Hessian damping kernel");
      if (cholesky_and_inverse(a, n)) break;
      if (attempt == 6) fail(GPTQ_ERR_INTERNAL, "the Hessian stays singular even with damping ", damp);
      log_warn("Cholesky factorisation failed with damping ", damp, "; retrying with ", damp * 10);
      damp *= 10;
    }
    f->damp_used = damp;
    sum.reset();  // the fp32 sum is no longer needed: free it before the factor's own
    f->inverse_upper = DeviceBuffer(device_, static_cast<size_t>(K * K) * 4, "the inverse Hessian's factor");
    check(gpu::launch_inverse_upper_from_reversed(a, n, f->inverse_upper.as<float>(), stream_),
          "the inverse factor kernel");
    return f;
  }

  QuantizedResult quantize(Linear& working, const Factor* factor, const GptqOptions& o, int group_size) override {
    if (factor == nullptr) fail(GPTQ_ERR_INTERNAL, "round-to-nearest runs on the CPU");
    if (o.block_size <= 0 || o.block_size > gpu::kGptqMaxBlock) {
      fail(GPTQ_ERR_UNSUPPORTED, "GPU GPTQ takes blocks of 1 to ", gpu::kGptqMaxBlock, " columns, not ", o.block_size);
    }
    DeviceScope scope(device_);
    const GpuFactor& f = static_cast<const GpuFactor&>(*factor);
    const DenseMatrix& source = working.dense_weights();
    const int64_t N = working.out_features(), K = working.in_features();
    if (f.cols != K) fail(GPTQ_ERR_INTERNAL, "the Hessian factor is for ", f.cols, " inputs, the matrix has ", K);
    const auto start = Clock::now();
    const int32_t n = static_cast<int32_t>(N), k = static_cast<int32_t>(K);
    const int64_t gs = group_size > 0 ? group_size : K;
    const int64_t n_groups = group_size > 0 ? (K + gs - 1) / gs : 1;
    const bool fixed_groups = group_size <= 0 || o.static_groups;

    // The float weights, column-major in fp32 with dead inputs zeroed.
    const size_t source_bytes = static_cast<size_t>(N * source.row_stride) * float_type_size(source.type);
    ensure(source_, device_, source_bytes, "a linear's float weights");
    check(cudaMemcpyAsync(source_.get(), source.data, source_bytes, cudaMemcpyHostToDevice, stream_),
          "uploading a linear's weights");
    const size_t matrix_floats = static_cast<size_t>(N * K);
    ensure(wt_original_, device_, matrix_floats * 4, "GPTQ's working weights");
    check(gpu::launch_gptq_load_weights(source.type, source_.get(), source.row_stride, n, k, f.dead_device.as<uint8_t>(),
                                        wt_original_.as<float>(), stream_),
          "the weight loading kernel");

    ensure(scales_, device_, static_cast<size_t>(n_groups * N) * 4, "group scales");
    ensure(zeros_, device_, static_cast<size_t>(n_groups * N) * 4, "group zero points");
    float* scales = scales_.as<float>();
    float* zeros = zeros_.as<float>();
    // Whole-row and static groups are found up front, before any permutation.
    for (int64_t g = 0; fixed_groups && g < n_groups; ++g) {
      const int64_t first = g * gs, count = std::min(gs, K - first);
      check(gpu::launch_gptq_group_params(wt_original_.as<float>(), n, first, count, o.bits, o.sym, o.mse,
                                          scales + g * N, zeros + g * N, stream_),
            "the group statistics kernel");
    }
    std::vector<int32_t> column_group(K), position(K), g_idx(K);
    for (int64_t p = 0; p < K; ++p) {
      const int64_t column = f.positions[p];
      position[column] = static_cast<int32_t>(p);
      column_group[p] = static_cast<int32_t>(group_size <= 0 ? 0 : (o.static_groups ? column / gs : p / gs));
      g_idx[column] = column_group[p];
    }
    upload(column_group, column_group_, device_, stream_, "the columns' groups");
    upload(position, position_, device_, stream_, "the columns' positions");

    float* wt = wt_original_.as<float>();
    if (f.act_order) {
      ensure(wt_permuted_, device_, matrix_floats * 4, "GPTQ's permuted weights");
      check(gpu::launch_gptq_gather_rows(wt, f.positions_device.as<int32_t>(), k, n, wt_permuted_.as<float>(), stream_),
            "the act-order permutation kernel");
      wt = wt_permuted_.as<float>();
    }
    ensure(codes_, device_, matrix_floats, "GPTQ's codes");
    ensure(err_, device_, static_cast<size_t>(gpu::kGptqMaxBlock) * N * 4, "GPTQ's block errors");
    ensure(row_loss_, device_, static_cast<size_t>(N) * 8, "GPTQ's losses");
    check(cudaMemsetAsync(row_loss_.get(), 0, static_cast<size_t>(N) * 8, stream_), "clearing the losses");

    const float* u = f.inverse_upper.as<float>();
    gpu::GptqBlockArgs args;
    args.wt = wt;
    args.u = u;
    args.n = n;
    args.k = k;
    args.bits = o.bits;
    args.sym = o.sym;
    args.mse = o.mse;
    args.column_group = column_group_.as<int32_t>();
    args.find_groups = !fixed_groups;
    args.group_size = static_cast<int32_t>(gs);
    args.scales = scales;
    args.zeros = zeros;
    args.codes = codes_.as<uint8_t>();
    args.err = err_.as<float>();
    args.row_loss = row_loss_.as<double>();
    for (int64_t i1 = 0; i1 < K; i1 += o.block_size) {
      const int64_t i2 = std::min(K, i1 + o.block_size), count = i2 - i1;
      args.i1 = i1;
      args.count = static_cast<int32_t>(count);
      check(gpu::launch_gptq_block(args, stream_), "the GPTQ block kernel");
      if (i2 == K) break;
      // Lazy batch: W[:, i2:] -= Err1 . Hinv[i1:i2, i2:], column-major.
      const float minus_one = -1.0f, one = 1.0f;
      check_blas(cublasSgemm(blas_, CUBLAS_OP_N, CUBLAS_OP_T, n, static_cast<int>(K - i2), static_cast<int>(count),
                             &minus_one, err_.as<float>(), n, u + i1 * K + i2, k, &one, wt + i2 * N, n),
                 "GPTQ's lazy-batch update");
    }
    check(cudaStreamSynchronize(stream_), "GPTQ's column loop");
    QuantizedResult result;
    result.gptq_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    result.damp_used = f.damp_used;

    // The working layer goes on with the quantized weights, in the compute type.
    auto replacement = std::make_shared<GpuLinear>();
    replacement->in_features = K;
    replacement->out_features = N;
    auto dense = std::make_shared<DeviceBuffer>(device_, matrix_floats * float_type_size(compute_),
                                                "a quantized linear's working weights");
    check(gpu::launch_gptq_dequantize(compute_, codes_.as<uint8_t>(), f.positions_device.as<int32_t>(),
                                      column_group_.as<int32_t>(), scales, zeros, n, k, dense->get(), stream_),
          "the dequantization kernel");
    replacement->dense = std::move(dense);
    const GpuLinear* previous = static_cast<const GpuLinear*>(working.prepared());
    if (previous != nullptr && previous->bias.bytes() > 0) {
      replacement->bias = DeviceBuffer(device_, previous->bias.bytes(), "a bias");
      check(cudaMemcpyAsync(replacement->bias.get(), previous->bias.get(), previous->bias.bytes(),
                            cudaMemcpyDeviceToDevice, stream_),
            "copying a bias");
    }

    // The checkpoint's form: packed on the device, scales in fp16 on the host.
    const int64_t words = packed_words(K, o.bits) * N;
    ensure(qweight_, device_, static_cast<size_t>(words) * 4, "packed weights");
    check(gpu::launch_gptq_pack(codes_.as<uint8_t>(), position_.as<int32_t>(), n, k, o.bits, qweight_.as<int32_t>(),
                                stream_),
          "the packing kernel");
    auto packed = std::make_shared<std::vector<int32_t>>(words);
    check(cudaMemcpyAsync(packed->data(), qweight_.get(), static_cast<size_t>(words) * 4, cudaMemcpyDeviceToHost,
                          stream_),
          "reading the packed weights");
    const std::vector<float> host_scales = download<float>(scales, n_groups * N, stream_, "reading the scales");
    const std::vector<float> host_zeros = download<float>(zeros, n_groups * N, stream_, "reading the zero points");
    const std::vector<double> row_loss = download<double>(row_loss_.get(), N, stream_, "reading the losses");
    result.loss = std::accumulate(row_loss.begin(), row_loss.end(), 0.0);

    auto q = std::make_shared<QuantizedLinear>();
    q->bits = o.bits;
    q->group_size = group_size;
    q->in_features = K;
    q->out_features = N;
    q->n_groups = n_groups;
    q->qweight = packed->data();
    q->qweight_storage = std::move(packed);
    q->zeros.resize(host_zeros.size());
    q->scales.resize(host_scales.size());
    for (size_t i = 0; i < host_scales.size(); ++i) {
      q->zeros[i] = static_cast<int32_t>(host_zeros[i]);
      q->scales[i] = float_to_fp16(host_scales[i]);
    }
    q->g_idx = std::move(g_idx);
    result.linear = std::move(q);
    working.set_prepared(std::move(replacement));
    return result;
  }

 private:
  // One Cholesky factorisation and one triangular inverse (quant/linalg.cpp's
  // scheme) in place; false when the matrix is not positive definite.
  bool cholesky_and_inverse(double* a, int n) {
    int lwork = 0;
    check_solver(cusolverDnDpotrf_bufferSize(solver_, CUBLAS_FILL_MODE_UPPER, n, a, n, &lwork),
                 "cusolverDnDpotrf_bufferSize");
    ensure(solver_work_, device_, static_cast<size_t>(std::max(lwork, 1)) * 8, "cuSOLVER's workspace");
    check_solver(cusolverDnDpotrf(solver_, CUBLAS_FILL_MODE_UPPER, n, a, n, solver_work_.as<double>(), lwork,
                                  info_.as<int>()),
                 "cusolverDnDpotrf");
    if (download<int>(info_.get(), 1, stream_, "reading cuSOLVER's status")[0] != 0) return false;
    size_t device_bytes = 0, host_bytes = 0;
    check_solver(cusolverDnXtrtri_bufferSize(solver_, CUBLAS_FILL_MODE_UPPER, CUBLAS_DIAG_NON_UNIT, n, CUDA_R_64F, a,
                                             n, &device_bytes, &host_bytes),
                 "cusolverDnXtrtri_bufferSize");
    ensure(solver_work_, device_, std::max<size_t>(device_bytes, 8), "cuSOLVER's workspace");
    solver_host_work_.resize(std::max<size_t>(host_bytes, 1));
    check_solver(cusolverDnXtrtri(solver_, CUBLAS_FILL_MODE_UPPER, CUBLAS_DIAG_NON_UNIT, n, CUDA_R_64F, a, n,
                                  solver_work_.get(), device_bytes, solver_host_work_.data(), host_bytes,
                                  info_.as<int>()),
                 "cusolverDnXtrtri");
    return download<int>(info_.get(), 1, stream_, "reading cuSOLVER's status")[0] == 0;
  }

  // The samples stay on the device when they leave room for one layer's
  // working set: its float weights twice over (the layer and its quantized
  // replacements), GPTQ's fp32 copies of the widest linear, and the widest
  // input's Hessian in fp32 and fp64 twice over.
  bool keep_samples_on_device(const std::vector<int32_t>& lengths, const Activations& shape) const {
    const ModelConfig& c = model_.config();
    int64_t samples = 0;
    for (int32_t n : lengths) samples += int64_t{n} * shape.stride * shape.element_size;
    int64_t layer_weights = 0, widest = 0, max_k = 0;
    for (const LayerLinear& l : layer_linears(c)) {
      layer_weights += l.in_features * l.out_features;
      widest = std::max(widest, l.in_features * l.out_features);
      max_k = std::max(max_k, l.in_features);
    }
    const int64_t working_set = 2 * layer_weights * static_cast<int64_t>(float_type_size(compute_)) + 4 * widest * 4 +
                                max_k * max_k * (4 + 4 + 8) * 2 + (int64_t{1} << 30);
    int64_t free_bytes = 0, total_bytes = 0;
    if (!gpu::memory(device_.index, &free_bytes, &total_bytes)) free_bytes = INT64_MAX;
    if (max_device_bytes_ > 0) free_bytes = std::min(free_bytes, max_device_bytes_);
    return samples + working_set <= free_bytes;
  }

  DeviceId device_;
  const Model& model_;
  FloatType compute_;
  int64_t max_device_bytes_;
  BackendSet backends_;
  std::unique_ptr<Backend> cpu_;
  cudaStream_t stream_ = nullptr;
  std::unique_ptr<WeightPreparer> preparer_;
  cublasHandle_t blas_ = nullptr;
  cusolverDnHandle_t solver_ = nullptr;
  SampleStore samples_;
  DeviceBuffer info_, diag_, reversed_, solver_work_;
  std::vector<char> solver_host_work_;
  DeviceBuffer source_, wt_original_, wt_permuted_, scales_, zeros_, column_group_, position_, codes_, err_,
      row_loss_, qweight_;
};

}  // namespace

std::unique_ptr<GptqDevice> make_gpu_gptq_device(DeviceId device, ThreadPool& pool, const Model& model,
                                                 int32_t max_tokens, const GptqDeviceOptions& options) {
  return std::make_unique<GpuGptqDevice>(device, pool, model, max_tokens, options);
}

#else

std::unique_ptr<GptqDevice> make_gpu_gptq_device(DeviceId device, ThreadPool&, const Model&, int32_t,
                                                 const GptqDeviceOptions&) {
  fail(GPTQ_ERR_UNSUPPORTED, "quantizing on '", device_name(device),
       "' needs cuBLAS and cuSOLVER, which this build (HIP) lacks: quantize on the CPU");
}

#endif

}  // namespace gptq::cuda
