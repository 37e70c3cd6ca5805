#include "backend/cuda/cuda_backend.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "backend/cuda/gpu_blas.h"
#include "backend/cuda/gptq_matmul.h"
#include "backend/cuda/gpu_runtime.h"
#include "backend/cuda/gpu_weights.h"
#include "core/error.h"
#include "kernels/cuda/attention.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/expert_routing.h"
#include "kernels/cuda/gptq_gemm.h"
#include "model/model.h"
#include "model/rope.h"

namespace gptq::cuda {
namespace {

// Tokens the split-KV attention may split for (its scratch is sized for them).
constexpr int32_t kSplitTokens = 64;
constexpr int kMaxRecordedSteps = 64;

const GpuLinear& gpu_linear(const Linear& linear) {
  if (linear.prepared() == nullptr) fail(GPTQ_ERR_INTERNAL, "linear '", linear.name(), "' was never prepared");
  return static_cast<const GpuLinear&>(*linear.prepared());
}

const float* norm_weight(const Norm* norm) {
  if (norm == nullptr) return nullptr;
  return static_cast<const GpuNorm&>(*norm->prepared).weight.as<float>();
}

const float* norm_bias(const Norm* norm) {
  if (norm == nullptr) return nullptr;
  const GpuNorm& prepared = static_cast<const GpuNorm&>(*norm->prepared);
  return prepared.bias.bytes() > 0 ? prepared.bias.as<float>() : nullptr;
}

// The scratch the model's linears on `device` need at most.
struct LinearNeeds {
  int64_t max_k_padded = 0;
  int32_t max_strips = 0;  // column strips of one launch: a layer's GPTQ linears at most
};

LinearNeeds linear_needs(const Model& model, DeviceId device) {
  LinearNeeds needs;
  auto visit = [&](const std::vector<const Linear*>& linears) {
    int32_t strips = 0;
    for (const Linear* linear : linears) {
      const GpuLinear& g = gpu_linear(*linear);
      if (!g.quantized()) continue;
      needs.max_k_padded = std::max<int64_t>(needs.max_k_padded, g.tiles.k_padded);
      strips += g.tiles.n_tiles();
    }
    needs.max_strips = std::max(needs.max_strips, strips);
  };
  const Placement& placement = model.placement();
  const std::vector<LayerLinear> entries = layer_linears(model.config());
  for (size_t l = 0; l < model.layers().size(); ++l) {
    if (placement.layers[l] != device) continue;
    std::vector<const Linear*> linears;
    for (const LayerLinear& entry : entries) linears.push_back(&entry.of(model.layers()[l]));
    visit(linears);
  }
  if (placement.head == device) visit({&model.lm_head()});
  return needs;
}

class GpuBackend final : public Backend {
 public:
  GpuBackend(DeviceId device, const BackendOptions& options)
      : device_(device),
        type_(options.gpu_compute),
        kv_type_(options.gpu_kv),
        max_tokens_(std::max(1, options.max_tokens)),
        model_(*options.model) {
    DeviceScope scope(device);
    check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    check(cudaEventCreate(&staged_), "cudaEventCreate");
    blas_ = std::make_unique<DenseGemm>(device, stream_, type_);
    const ModelConfig& c = model_.config();
    const int64_t t = max_tokens_;
    // The batch as staged: tokens, seq, pos, logit rows, targets, attention tiles.
    staging_ints_ = 5 * t + 4 * t;
    staging_host_ = PinnedBuffer(staging_ints_ * 4);
    staging_device_ = DeviceBuffer(device, staging_ints_ * 4, "the batch staging area", true);
    int32_t* base = staging_device_.as<int32_t>();
    d_tokens_ = base;
    d_seq_ = base + t;
    d_pos_ = base + 2 * t;
    d_logit_rows_ = base + 3 * t;
    d_targets_ = base + 4 * t;
    d_tiles_ = reinterpret_cast<gpu::AttentionTile*>(base + 5 * t);

    const LinearNeeds needs = linear_needs(model_, device);
    gptq_ = std::make_unique<GptqMatmul>(device, stream_, type_, *blas_, max_tokens_, needs.max_k_padded,
                                         needs.max_strips);
    const int64_t partial = gpu::attention_partial_floats(std::min<int32_t>(kSplitTokens, max_tokens_),
                                                          static_cast<int32_t>(c.n_heads),
                                                          static_cast<int32_t>(c.head_dim));
    attention_partial_ = DeviceBuffer(device, static_cast<size_t>(std::max<int64_t>(partial, 1)) * 4,
                                      "attention partial sums", true);
    nll_ = DeviceBuffer(device, static_cast<size_t>(t) * sizeof(double), "log-likelihoods", true);
    nll_host_ = PinnedBuffer(static_cast<size_t>(t) * sizeof(double));
#if GPTQ_GPU_CUDA
    graphs_enabled_ = std::getenv("GPTQ_GPU_NO_GRAPHS") == nullptr;
#endif
  }

  ~GpuBackend() override {
    DeviceScope scope(device_);
    (void)cudaStreamSynchronize(stream_);
    for (auto& [key, exec] : graphs_) (void)cudaGraphExecDestroy(exec);
    gptq_.reset();
    blas_.reset();
    (void)cudaEventDestroy(staged_);
    (void)cudaStreamDestroy(stream_);
  }

  DeviceId device() const override { return device_; }
  FloatType activation_type() const override { return type_; }
  cudaStream_t stream() const { return stream_; }

  Activations allocate_activations(int64_t rows, int64_t cols) override {
    DeviceScope scope(device_);
    const int32_t element = static_cast<int32_t>(float_type_size(type_));
    // Rows 16-byte aligned, so the tensor-core kernels read any of them in place.
    const int64_t stride = (cols + 7) / 8 * 8;
    owned_.emplace_back(device_, static_cast<size_t>(rows * stride) * element, "activations", true);
    return {owned_.back().get(), cols, stride, element};
  }

  KvLayer allocate_kv_layer(int64_t n_kv_heads, int64_t head_dim, int32_t n_ctx, int32_t n_seq) override {
    DeviceScope scope(device_);
    KvLayer layer;
    layer.type = kv_type_;
    layer.head_stride = int64_t{n_ctx} * head_dim;
    layer.seq_stride = layer.head_stride * n_kv_heads;
    const size_t bytes = static_cast<size_t>(layer.seq_stride * n_seq) * float_type_size(kv_type_);
    // Zeroed: the tiled attention reads whole key blocks, masked but multiplied.
    owned_.emplace_back(device_, bytes, "the KV cache", true);
    layer.keys = owned_.back().get();
    owned_.emplace_back(device_, bytes, "the KV cache", true);
    layer.values = owned_.back().get();
    return layer;
  }

  void set_rope_table(const RopeTable& table) override {
    DeviceScope scope(device_);
    rope_half_ = static_cast<int32_t>(table.half);
    rope_cos_ = upload(table.cos, "the rotary table");
    rope_sin_ = upload(table.sin, "the rotary table");
  }

  void set_alibi_slopes(std::span<const float> slopes) override {
    DeviceScope scope(device_);
    alibi_slopes_ = upload(slopes, "the ALiBi slopes");
  }

  void stage_batch(const Batch& batch) override {
    DeviceScope scope(device_);
    flush();
    fill_staging(batch);
    check(cudaMemcpyAsync(staging_device_.get(), staging_host_.get(), staging_ints_ * 4, cudaMemcpyHostToDevice,
                          stream_),
          "staging the batch");
    if (!recording_) check(cudaEventRecord(staged_, stream_), "cudaEventRecord");
  }

  void embed(const Model& model, Activations out) override {
    DeviceScope scope(device_);
    flush();
    gpu::EmbedArgs args;
    args.out = out.data;
    args.ld_out = out.stride;
    args.tokens_table = static_cast<const GpuTable&>(*model.embed_tokens_prepared()).matrix->get();
    if (model.position_embeddings_prepared() != nullptr) {
      args.positions_table = static_cast<const GpuTable&>(*model.position_embeddings_prepared()).matrix->get();
      args.position_offset = static_cast<int32_t>(model.arch().position_offset);
    }
    args.tokens = d_tokens_;
    args.positions = d_pos_;
    args.n_tokens = n_tokens_;
    args.hidden = static_cast<int32_t>(model.config().hidden_size);
    args.scale = model.embedding_scale();
    check(gpu::launch_embed(type_, args, stream_), "the embedding kernel");
  }

  // A residual add followed by the norm of the same rows (the next block's
  // input) runs as one kernel: add_residual holds its work back until the
  // next op shows whether it can join it.
  void norm(Activations x, Activations out, int64_t rows, const Norm& norm, NormKind kind, float eps) override {
    DeviceScope scope(device_);
    gpu::ResidualNormArgs args;
    if (pending_add_ && pending_.hidden == x.data && pending_.rows == rows && pending_.ld_hidden == x.stride) {
      args = pending_;
      pending_add_ = false;
    } else {
      flush();
      args.hidden = x.data;
      args.ld_hidden = x.stride;
      args.rows = static_cast<int32_t>(rows);
      args.n = static_cast<int32_t>(x.cols);
    }
    with_norm(args, out, &norm, kind, eps);
    check(gpu::launch_residual_norm(type_, args, stream_), "the norm kernel");
  }

  void add_residual(Activations hidden, int64_t rows, Activations a, Activations b, const Norm* post_norm,
                    NormKind kind, float eps) override {
    DeviceScope scope(device_);
    flush();
    gpu::ResidualNormArgs args;
    args.hidden = hidden.data;
    args.ld_hidden = hidden.stride;
    args.add = a.data;
    args.ld_add = a.stride;
    args.add2 = b.data;
    args.ld_add2 = b.stride;
    args.rows = static_cast<int32_t>(rows);
    args.n = static_cast<int32_t>(hidden.cols);
    if (post_norm == nullptr) {
      pending_ = args;
      pending_add_ = true;
      return;
    }
    with_norm(args, hidden, post_norm, kind, eps);
    check(gpu::launch_residual_norm(type_, args, stream_), "the residual kernel");
  }

  void finish_step() override {
    DeviceScope scope(device_);
    flush();
  }

  void matmul(Activations x, int64_t rows, std::span<const LinearOutput> outputs) override {
    DeviceScope scope(device_);
    flush();
    const int32_t m = static_cast<int32_t>(rows);
    // GPTQ outputs that share their input order run as one launch.
    std::vector<GptqProduct> pending;
    auto flush = [&] {
      gptq_->run(x.data, x.stride, m, pending);
      pending.clear();
    };
    for (const LinearOutput& output : outputs) {
      const GpuLinear& g = gpu_linear(*output.linear);
      if (!g.quantized()) {
        blas_->multiply_transposed(x.data, x.stride, m, g.dense->get(), g.in_features,
                                   static_cast<int32_t>(g.out_features), static_cast<int32_t>(g.in_features),
                                   output.y.data, output.y.stride, g.bias.bytes() > 0 ? g.bias.get() : nullptr);
        continue;
      }
      if (!pending.empty() && !GptqMatmul::same_input_order(*pending.front().linear, g)) flush();
      pending.push_back({&g, output.y.data, output.y.stride});
      if (pending.size() == gpu::kMaxGemmOutputs) flush();
    }
    if (!pending.empty()) flush();
  }

  void split_qkv(Activations qkv, int64_t rows, QkvLayout layout, const AttentionShape& shape, Activations q,
                 Activations k, Activations v) override {
    DeviceScope scope(device_);
    flush();
    gpu::SplitQkvArgs args;
    args.qkv = qkv.data;
    args.ld_qkv = qkv.stride;
    args.rows = static_cast<int32_t>(rows);
    args.head_interleaved = layout == QkvLayout::HeadInterleaved;
    args.n_heads = shape.n_heads;
    args.n_kv_heads = shape.n_kv_heads;
    args.head_dim = shape.head_dim;
    args.q = q.data;
    args.ld_q = q.stride;
    args.k = k.data;
    args.ld_k = k.stride;
    args.v = v.data;
    args.ld_v = v.stride;
    check(gpu::launch_split_qkv(type_, args, stream_), "the q/k/v split kernel");
  }

  void rotate_and_store(Activations q, Activations k, Activations v, int64_t rows, const AttentionShape& shape,
                        const RotaryInputs& rotary, KvLayer& cache) override {
    DeviceScope scope(device_);
    flush();
    gpu::RotateStoreArgs args;
    args.q = q.data;
    args.ld_q = q.stride;
    args.k = k.data;
    args.ld_k = k.stride;
    args.v = v.data;
    args.ld_v = v.stride;
    args.rows = static_cast<int32_t>(rows);
    args.n_heads = shape.n_heads;
    args.n_kv_heads = shape.n_kv_heads;
    args.head_dim = shape.head_dim;
    args.q_norm = norm_weight(rotary.q_norm);
    args.k_norm = norm_weight(rotary.k_norm);
    args.norm_eps = rotary.norm_eps;
    if (rotary.rope != nullptr) {
      args.rope_cos = rope_cos_.as<float>();
      args.rope_sin = rope_sin_.as<float>();
      args.rope_half = rope_half_;
    }
    args.interleaved = rotary.style == RotaryStyle::Interleaved;
    args.seq = d_seq_;
    args.pos = d_pos_;
    args.k_cache = cache.keys;
    args.v_cache = cache.values;
    args.kv_type = cache.type;
    args.seq_stride = cache.seq_stride;
    args.head_stride = cache.head_stride;
    check(gpu::launch_rotate_and_store(type_, args, stream_), "the rotary / KV store kernel");
  }

  void attention(Activations q, int64_t rows, const KvLayer& cache, const AttentionShape& shape,
                 Activations out) override {
    DeviceScope scope(device_);
    flush();
    gpu::AttentionArgs args;
    args.q = q.data;
    args.ld_q = q.stride;
    args.out = out.data;
    args.ld_out = out.stride;
    args.k_cache = cache.keys;
    args.v_cache = cache.values;
    args.kv_type = cache.type;
    args.seq_stride = cache.seq_stride;
    args.head_stride = cache.head_stride;
    args.n_ctx = static_cast<int32_t>(cache.head_stride / shape.head_dim);
    args.seq = d_seq_;
    args.pos = d_pos_;
    args.n_tokens = static_cast<int32_t>(rows);
    args.n_heads = shape.n_heads;
    args.n_kv_heads = shape.n_kv_heads;
    args.head_dim = shape.head_dim;
    args.window = shape.window;
    args.scale = shape.scale;
    if (shape.alibi) args.alibi_slopes = alibi_slopes_.as<float>();
    if (tiled_attention_ && gpu::attention_tiled_supported(type_, cache.type, shape.head_dim)) {
      args.tiles = d_tiles_;
      args.n_tiles = n_tiles_;
      check(gpu::launch_attention_tiled(type_, args, stream_), "the attention kernel");
      return;
    }
    args.splits = rows <= kSplitTokens ? gpu::attention_splits(args.n_tokens, shape.n_heads, args.n_ctx) : 1;
    args.partial = attention_partial_.as<float>();
    check(gpu::launch_attention_split(type_, args, stream_), "the attention kernel");
  }

  void activate(Activations gate, Activations up, int64_t rows, int64_t n, Activation activation) override {
    DeviceScope scope(device_);
    flush();
    check(gpu::launch_activate(type_, gate.data, gate.stride, up.data, up.stride, static_cast<int32_t>(rows),
                               static_cast<int32_t>(n), activation, stream_),
          "the activation kernel");
  }

  ExpertRoutes allocate_expert_routes(int32_t n_experts, int64_t max_rows) override {
    DeviceScope scope(device_);
    const size_t slots = static_cast<size_t>(n_experts * max_rows);
    owned_.emplace_back(device_, (n_experts + 2 * slots) * 4, "expert routes", true);
    ExpertRoutes routes;
    routes.counts = owned_.back().as<int32_t>();
    routes.rows = routes.counts + n_experts;
    routes.weights = reinterpret_cast<float*>(routes.rows + slots);
    routes.n_experts = n_experts;
    routes.capacity = max_rows;
    return routes;
  }

  void route_experts(Activations router_logits, int64_t rows, int32_t top_k, bool every_expert, ExpertRoutes& routes,
                     Activations out) override {
    DeviceScope scope(device_);
    flush();
    gpu::RouteArgs args;
    args.scores = router_logits.data;
    args.ld_scores = router_logits.stride;
    args.rows = static_cast<int32_t>(rows);
    args.n_experts = routes.n_experts;
    args.top_k = top_k;
    args.every_expert = every_expert;
    args.counts = routes.counts;
    args.route_rows = routes.rows;
    args.route_weights = routes.weights;
    args.capacity = routes.capacity;
    args.out = out.data;
    args.ld_out = out.stride;
    args.out_cols = static_cast<int32_t>(out.cols);
    check(gpu::launch_route_experts(type_, args, stream_), "the expert routing kernel");
  }

  // Every row of the batch is a bound on the expert's: the GEMMs after the
  // gather run over all of them (the rows past its count are zeros), which
  // keeps the host from reading the count and the step recordable. Tiles of
  // zero rows are wasted work at large batches; the weights are read once
  // per expert either way.
  int64_t gather_expert_rows(Activations x, int64_t rows, const ExpertRoutes& routes, int32_t expert,
                             Activations out) override {
    DeviceScope scope(device_);
    flush();
    check(gpu::launch_gather_expert_rows(type_, x.data, x.stride, routes.counts, routes.rows, routes.capacity, expert,
                                         static_cast<int32_t>(rows), static_cast<int32_t>(x.cols), out.data,
                                         out.stride, stream_),
          "the expert row gather kernel");
    return rows;
  }

  void add_expert_rows(Activations y, int64_t rows, const ExpertRoutes& routes, int32_t expert,
                       Activations out) override {
    DeviceScope scope(device_);
    flush();
    check(gpu::launch_add_expert_rows(type_, y.data, y.stride, routes.counts, routes.rows, routes.weights,
                                      routes.capacity, expert, static_cast<int32_t>(rows), static_cast<int32_t>(out.cols), out.data,
                                      out.stride, stream_),
          "the expert row add kernel");
  }

  void gather_logit_rows(Activations x, Activations out) override {
    DeviceScope scope(device_);
    flush();
    check(gpu::launch_gather_rows(type_, x.data, x.stride, d_logit_rows_, n_logit_rows_, static_cast<int32_t>(x.cols),
                                  out.data, out.stride, stream_),
          "the row gather kernel");
  }

  void copy_to_host(Activations x, int64_t rows, float* host) override {
    DeviceScope scope(device_);
    flush();
    const size_t bytes = static_cast<size_t>(rows * x.cols) * 4;
    if (bytes == 0) return synchronize();
    if (host_floats_.bytes() < bytes) host_floats_ = DeviceBuffer(device_, bytes, "fp32 copies for the host");
    check(gpu::launch_to_float(type_, x.data, x.stride, static_cast<int32_t>(rows), static_cast<int32_t>(x.cols),
                               host_floats_.as<float>(), stream_),
          "the fp32 conversion kernel");
    // Small copies (a decode step's logits) through pinned memory; large ones straight.
    constexpr size_t kPinnedLimit = size_t{64} << 20;
    if (bytes <= kPinnedLimit) {
      if (pinned_floats_.bytes() < bytes) pinned_floats_ = PinnedBuffer(bytes);
      check(cudaMemcpyAsync(pinned_floats_.get(), host_floats_.get(), bytes, cudaMemcpyDeviceToHost, stream_),
            "copying to the host");
      synchronize();
      std::memcpy(host, pinned_floats_.get(), bytes);
    } else {
      check(cudaMemcpyAsync(host, host_floats_.get(), bytes, cudaMemcpyDeviceToHost, stream_), "copying to the host");
      synchronize();
    }
  }

  void score_to_host(Activations logits, int64_t rows, double* out) override {
    DeviceScope scope(device_);
    flush();
    check(gpu::launch_token_nll(type_, logits.data, logits.stride, static_cast<int32_t>(rows),
                                static_cast<int32_t>(logits.cols), d_targets_, nll_.as<double>(), stream_),
          "the log-likelihood kernel");
    const size_t bytes = static_cast<size_t>(rows) * sizeof(double);
    check(cudaMemcpyAsync(nll_host_.get(), nll_.get(), bytes, cudaMemcpyDeviceToHost, stream_), "copying to the host");
    synchronize();
    std::memcpy(out, nll_host_.get(), bytes);
  }

  void copy_from(Backend& source, Activations src, Activations dst, int64_t rows) override {
    DeviceScope scope(device_);
    flush();
    const size_t bytes = static_cast<size_t>(rows * dst.cols) * 4;
    if (bytes == 0) return;
    std::vector<float> host_copy;
    const float* host = nullptr;
    if (!source.device().is_gpu() && src.stride == src.cols) {
      host = src.as<const float>();
    } else {
      // Another GPU: through the host (peer copies are the multi-GPU issue's).
      host_copy.resize(static_cast<size_t>(rows * dst.cols));
      source.copy_to_host(src, rows, host_copy.data());
      host = host_copy.data();
    }
    if (host_floats_.bytes() < bytes) host_floats_ = DeviceBuffer(device_, bytes, "fp32 copies from the host");
    check(cudaMemcpyAsync(host_floats_.get(), host, bytes, cudaMemcpyHostToDevice, stream_), "copying to the GPU");
    check(gpu::launch_from_float(type_, host_floats_.as<float>(), static_cast<int32_t>(rows),
                                 static_cast<int32_t>(dst.cols), dst.data, dst.stride, stream_),
          "the conversion kernel");
    // The host buffer may be reused as soon as this returns.
    synchronize();
  }

  void copy_kv(KvLayer& cache, int64_t head_dim, int32_t from, int32_t to, int32_t begin, int32_t end) override {
    DeviceScope scope(device_);
    flush();
    // One 2D copy per tensor: a row per kv head, head_stride apart.
    const size_t element = float_type_size(cache.type);
    const size_t pitch = static_cast<size_t>(cache.head_stride) * element;
    const size_t width = static_cast<size_t>((end - begin) * head_dim) * element;
    const size_t heads = static_cast<size_t>(cache.seq_stride / cache.head_stride);
    const size_t offset = static_cast<size_t>(int64_t{begin} * head_dim) * element;
    const size_t seq_bytes = static_cast<size_t>(cache.seq_stride) * element;
    for (void* base : {cache.keys, cache.values}) {
      char* data = static_cast<char*>(base);
      check(cudaMemcpy2DAsync(data + to * seq_bytes + offset, pitch, data + from * seq_bytes + offset, pitch, width,
                              heads, cudaMemcpyDeviceToDevice, stream_),
            "copying KV cache positions between sequences");
    }
  }

  void synchronize() override {
    DeviceScope scope(device_);
    flush();
    check(cudaStreamSynchronize(stream_), "a step on the GPU");
  }

  bool records_steps() const override { return graphs_enabled_; }

  bool try_replay(uint64_t key, const Batch& batch) override {
    auto it = graphs_.find(key);
    if (it == graphs_.end()) return false;
    DeviceScope scope(device_);
    fill_staging(batch);
    check(cudaGraphLaunch(it->second, stream_), "replaying a decode step");
    check(cudaEventRecord(staged_, stream_), "cudaEventRecord");
    return true;
  }

  void begin_recording() override {
    DeviceScope scope(device_);
    check(cudaEventSynchronize(staged_), "staging the batch");
    check(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
    recording_ = true;
  }

  bool end_recording(uint64_t key) override {
    DeviceScope scope(device_);
    flush();
    cudaGraph_t graph = nullptr;
    recording_ = false;
    if (cudaStreamEndCapture(stream_, &graph) != cudaSuccess || graph == nullptr) {
      (void)cudaGetLastError();
      graphs_enabled_ = false;
      return false;
    }
    cudaGraphExec_t exec = nullptr;
    const cudaError_t status = cudaGraphInstantiateWithFlags(&exec, graph, 0);
    (void)cudaGraphDestroy(graph);
    if (status != cudaSuccess) {
      (void)cudaGetLastError();
      graphs_enabled_ = false;
      return false;
    }
    if (graphs_.size() >= kMaxRecordedSteps) {
      (void)cudaGraphExecDestroy(graphs_.begin()->second);
      graphs_.erase(graphs_.begin());
    }
    graphs_.emplace(key, exec);
    check(cudaGraphLaunch(exec, stream_), "running a decode step");
    check(cudaEventRecord(staged_, stream_), "cudaEventRecord");
    return true;
  }

  void abort_recording() override {
    DeviceScope scope(device_);
    recording_ = false;
    pending_add_ = false;  // the interrupted step's, never to run
    cudaGraph_t graph = nullptr;
    if (cudaStreamEndCapture(stream_, &graph) == cudaSuccess && graph != nullptr) (void)cudaGraphDestroy(graph);
    (void)cudaGetLastError();
  }

 private:
  // A table the kernels read, copied once (before any step is recorded).
  DeviceBuffer upload(std::span<const float> values, const char* what) {
    DeviceBuffer buffer(device_, values.size() * 4, what);
    check(cudaMemcpy(buffer.get(), values.data(), values.size() * 4, cudaMemcpyHostToDevice), "cudaMemcpy");
    return buffer;
  }

  // The norm part of a residual-norm launch: out = norm(hidden).
  static void with_norm(gpu::ResidualNormArgs& args, Activations out, const Norm* norm, NormKind kind, float eps) {
    args.out = out.data;
    args.ld_out = out.stride;
    args.weight = norm_weight(norm);
    args.bias = norm_bias(norm);
    args.layer_norm = kind == NormKind::LayerNorm;
    args.eps = eps;
  }

  // Enqueues a residual add held back by add_residual.
  void flush() {
    if (!pending_add_) return;
    pending_add_ = false;
    check(gpu::launch_residual_norm(type_, pending_, stream_), "the residual kernel");
  }

  // The batch into pinned memory, with the attention tiles it cuts into.
  void fill_staging(const Batch& batch) {
    // The last step's copy out of the pinned area must be done before it is refilled.
    if (!recording_) check(cudaEventSynchronize(staged_), "staging the batch");
    const int64_t t = max_tokens_;
    int32_t* host = staging_host_.as<int32_t>();
    n_tokens_ = batch.n_tokens;
    n_logit_rows_ = batch.n_logit_rows;
    std::memcpy(host, batch.tokens, batch.n_tokens * 4);
    std::memcpy(host + t, batch.seq, batch.n_tokens * 4);
    std::memcpy(host + 2 * t, batch.pos, batch.n_tokens * 4);
    if (batch.n_logit_rows > 0) std::memcpy(host + 3 * t, batch.logit_rows, batch.n_logit_rows * 4);
    if (batch.targets != nullptr) std::memcpy(host + 4 * t, batch.targets, batch.n_logit_rows * 4);
    n_tiles_ = gpu::build_attention_tiles(batch.seq, batch.pos, batch.n_tokens,
                                          reinterpret_cast<gpu::AttentionTile*>(host + 5 * t));
    // Tiles pay off when they hold several query rows each.
    tiled_attention_ = n_tiles_ * 4 <= batch.n_tokens;
  }

  DeviceId device_;
  FloatType type_, kv_type_;
  int32_t max_tokens_;
  const Model& model_;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t staged_ = nullptr;  // after the last copy out of staging_host_
  bool recording_ = false;
  std::unique_ptr<DenseGemm> blas_;
  std::unique_ptr<GptqMatmul> gptq_;
  std::vector<DeviceBuffer> owned_;

  size_t staging_ints_ = 0;
  PinnedBuffer staging_host_;
  DeviceBuffer staging_device_;
  int32_t *d_tokens_ = nullptr, *d_seq_ = nullptr, *d_pos_ = nullptr, *d_logit_rows_ = nullptr, *d_targets_ = nullptr;
  gpu::AttentionTile* d_tiles_ = nullptr;
  int32_t n_tokens_ = 0, n_logit_rows_ = 0, n_tiles_ = 0;
  bool tiled_attention_ = false;
  gpu::ResidualNormArgs pending_;
  bool pending_add_ = false;

  DeviceBuffer attention_partial_, nll_;
  PinnedBuffer nll_host_;
  DeviceBuffer rope_cos_, rope_sin_;
  DeviceBuffer alibi_slopes_;  // per head, models with ALiBi only
  int32_t rope_half_ = 0;
  DeviceBuffer host_floats_;
  PinnedBuffer pinned_floats_;

  bool graphs_enabled_ = false;
  std::unordered_map<uint64_t, cudaGraphExec_t> graphs_;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(DeviceId device, const BackendOptions& options) {
  return std::make_unique<GpuBackend>(device, options);
}

std::unique_ptr<WeightPreparer> make_cuda_preparer(DeviceId device, FloatType compute) {
  return make_gpu_preparer(device, compute);
}

cudaStream_t backend_stream(const Backend& backend) {
  if (!backend.device().is_gpu()) fail(GPTQ_ERR_INTERNAL, "the CPU backend has no stream");
  return static_cast<const GpuBackend&>(backend).stream();
}

}  // namespace gptq::cuda
