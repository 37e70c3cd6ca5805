#include "backend/cpu/cpu_backend.h"

#include <algorithm>
#include <cstring>
#include <list>
#include <new>
#include <vector>

#include "backend/cpu/row_ops.h"
#include "core/error.h"
#include "model/model.h"
#include "model/rope.h"

namespace gptq::cpu {

CpuLinear::CpuLinear(const Linear& linear) {
  if (linear.is_quantized()) packed_ = pack_gptq(linear.gptq().source());
  else dense_ = linear.dense_weights();
}

int64_t CpuLinear::device_bytes() const {
  if (packed_) return packed_->bytes();
  return dense_.n_rows * dense_.n_cols * static_cast<int64_t>(float_type_size(dense_.type));
}

MatmulOutput CpuLinear::output(const Linear& linear, float* y, int64_t ldy) const {
  MatmulOutput out;
  out.w = packed_ ? DenseMatrix{nullptr, FloatType::F32, linear.out_features(), linear.in_features(), 0} : dense_;
  out.gptq = packed_.get();
  out.bias = linear.bias_or_null();
  out.y = y;
  out.ldy = ldy;
  return out;
}

namespace {

const CpuLinear& prepared_of(const Linear& linear) {
  if (linear.prepared() == nullptr) fail(GPTQ_ERR_INTERNAL, "linear '", linear.name(), "' was never prepared");
  return static_cast<const CpuLinear&>(*linear.prepared());
}

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(ThreadPool& pool) : pool_(pool) {}

  DeviceId device() const override { return kCpu; }
  FloatType activation_type() const override { return FloatType::F32; }

  Activations allocate_activations(int64_t rows, int64_t cols) override {
    std::vector<float>& buffer = buffers_.emplace_back(static_cast<size_t>(rows * cols));
    return {buffer.data(), cols, cols, 4};
  }

  // Uninitialised memory: positions never written are never touched, so a
  // large n_ctx costs address space, not resident memory.
  KvLayer allocate_kv_layer(int64_t n_kv_heads, int64_t head_dim, int32_t n_ctx, int32_t n_seq) override {
    KvLayer layer;
    layer.head_stride = int64_t{n_ctx} * head_dim;
    layer.seq_stride = layer.head_stride * n_kv_heads;
    const int64_t n = layer.seq_stride * n_seq;
    std::unique_ptr<float[]> keys(new (std::nothrow) float[n]);
    std::unique_ptr<float[]> values(new (std::nothrow) float[n]);
    if (!keys || !values) {
      fail(GPTQ_ERR_OUT_OF_MEMORY, "cannot allocate a KV cache layer of ", 2 * n * 4 / (1 << 20), " MiB (n_ctx ",
           n_ctx, ", n_seq_max ", n_seq, ")");
    }
    layer.keys = keys.get();
    layer.values = values.get();
    kv_.push_back(std::move(keys));
    kv_.push_back(std::move(values));
    return layer;
  }

  void set_alibi_slopes(std::span<const float> slopes) override { alibi_slopes_.assign(slopes.begin(), slopes.end()); }

  void stage_batch(const Batch& batch) override { batch_ = batch; }

  void embed(const Model& model, Activations out) override {
    const int64_t H = model.config().hidden_size;
    for_each_row(batch_.n_tokens, [&](int64_t t) {
      float* scratch = row_scratch(H);
      embed_token(model, batch_.tokens[t], batch_.pos[t], row(out, t), scratch);
    });
  }

  void norm(Activations x, Activations out, int64_t rows, const Norm& norm, NormKind kind, float eps) override {
    for_each_row(rows, [&](int64_t t) { norm_row(row(x, t), row(out, t), x.cols, norm, kind, eps); });
  }

  void add_residual(Activations hidden, int64_t rows, Activations a, Activations b, const Norm* post_norm,
                    NormKind kind, float eps) override {
    for_each_row(rows, [&](int64_t t) {
      float* h = row(hidden, t);
      add_row(h, row(a, t), hidden.cols);
      if (b.data != nullptr) add_row(h, row(b, t), hidden.cols);
      if (post_norm != nullptr) norm_row(h, h, hidden.cols, *post_norm, kind, eps);
    });
  }

  void matmul(Activations x, int64_t rows, std::span<const LinearOutput> outputs) override {
    MatmulOutput outs[4];
    if (outputs.size() > std::size(outs)) fail(GPTQ_ERR_INTERNAL, "more than 4 products of one input");
    for (size_t i = 0; i < outputs.size(); ++i) {
      const Linear& linear = *outputs[i].linear;
      outs[i] = prepared_of(linear).output(linear, outputs[i].y.as<float>(), outputs[i].y.stride);
    }
    matmul_multi(pool_, x.as<float>(), x.stride, rows, outs, static_cast<int>(outputs.size()));
  }

  void split_qkv(Activations qkv, int64_t rows, QkvLayout layout, const AttentionShape& shape, Activations q,
                 Activations k, Activations v) override {
    for_each_row(rows, [&](int64_t t) {
      split_qkv_row(row(qkv, t), layout, shape.n_heads, shape.n_kv_heads, shape.head_dim, row(q, t), row(k, t),
                    row(v, t));
    });
  }

  void rotate_and_store(Activations q, Activations k, Activations v, int64_t rows, const AttentionShape& shape,
                        const RotaryInputs& rotary, KvLayer& cache) override {
    const int64_t head_dim = shape.head_dim;
    float* k_cache = static_cast<float*>(cache.keys);
    float* v_cache = static_cast<float*>(cache.values);
    for_each_row(rows, [&](int64_t t) {
      float* q_row = row(q, t);
      float* k_row = row(k, t);
      if (rotary.q_norm != nullptr) norm_heads(q_row, shape.n_heads, head_dim, *rotary.q_norm, rotary.norm_eps);
      if (rotary.k_norm != nullptr) norm_heads(k_row, shape.n_kv_heads, head_dim, *rotary.k_norm, rotary.norm_eps);
      const int32_t pos = batch_.pos[t];
      if (rotary.rope != nullptr) {
        apply_rope(q_row, shape.n_heads, head_dim, *rotary.rope, pos, rotary.style);
        apply_rope(k_row, shape.n_kv_heads, head_dim, *rotary.rope, pos, rotary.style);
      }
      const int64_t base = batch_.seq[t] * cache.seq_stride + int64_t{pos} * head_dim;
      const float* v_row = row(v, t);
      for (int64_t g = 0; g < shape.n_kv_heads; ++g) {
        std::memcpy(k_cache + base + g * cache.head_stride, k_row + g * head_dim, head_dim * sizeof(float));
        std::memcpy(v_cache + base + g * cache.head_stride, v_row + g * head_dim, head_dim * sizeof(float));
      }
    });
  }

  void attention(Activations q, int64_t rows, const KvLayer& cache, const AttentionShape& shape,
                 Activations out) override {
    AttentionProblem problem;
    problem.n_tokens = static_cast<int32_t>(rows);
    problem.n_heads = shape.n_heads;
    problem.n_kv_heads = shape.n_kv_heads;
    problem.head_dim = shape.head_dim;
    problem.q = q.as<float>();
    problem.q_stride = q.stride;
    problem.out = out.as<float>();
    problem.out_stride = out.stride;
    problem.seq = batch_.seq;
    problem.pos = batch_.pos;
    problem.k = static_cast<const float*>(cache.keys);
    problem.v = static_cast<const float*>(cache.values);
    problem.seq_stride = cache.seq_stride;
    problem.head_stride = cache.head_stride;
    problem.window = shape.window;
    problem.scale = shape.scale;
    if (shape.alibi) problem.alibi_slopes = alibi_slopes_.data();
    cpu::attention(pool_, problem);
  }

  void activate(Activations gate, Activations up, int64_t rows, int64_t n, Activation activation) override {
    for_each_row(rows, [&](int64_t t) {
      activate_row(row(gate, t), up.data != nullptr ? row(up, t) : nullptr, n, activation);
    });
  }

  ExpertRoutes allocate_expert_routes(int32_t n_experts, int64_t max_rows) override {
    route_ints_.emplace_back(static_cast<size_t>(n_experts * (max_rows + 1)));
    route_floats_.emplace_back(static_cast<size_t>(n_experts * max_rows));
    ExpertRoutes routes;
    routes.counts = route_ints_.back().data();
    routes.rows = routes.counts + n_experts;
    routes.weights = route_floats_.back().data();
    routes.n_experts = n_experts;
    routes.capacity = max_rows;
    return routes;
  }

  void route_experts(Activations router_logits, int64_t rows, int32_t top_k, bool every_expert, ExpertRoutes& routes,
                     Activations out) override {
    const int32_t n = routes.n_experts;
    std::fill(routes.counts, routes.counts + n, 0);
    std::vector<int32_t> chosen(static_cast<size_t>(top_k));
    std::vector<float> weight(static_cast<size_t>(top_k)), per_expert(static_cast<size_t>(n));
    for (int64_t t = 0; t < rows; ++t) {
      route_row(row(router_logits, t), n, top_k, chosen.data(), weight.data());
      std::fill(per_expert.begin(), per_expert.end(), every_expert ? 0.0f : -1.0f);
      for (int32_t k = 0; k < top_k; ++k) per_expert[chosen[k]] = weight[k];
      for (int32_t e = 0; e < n; ++e) {
        if (per_expert[e] < 0) continue;
        const int64_t slot = e * routes.capacity + routes.counts[e]++;
        routes.rows[slot] = static_cast<int32_t>(t);
        routes.weights[slot] = per_expert[e];
      }
    }
    for_each_row(rows, [&](int64_t t) { std::fill_n(row(out, t), out.cols, 0.0f); });
  }

  int64_t gather_expert_rows(Activations x, int64_t, const ExpertRoutes& routes, int32_t expert,
                             Activations out) override {
    const int32_t* source = routes.rows + expert * routes.capacity;
    const int64_t count = routes.counts[expert];
    for_each_row(count, [&](int64_t i) { std::memcpy(row(out, i), row(x, source[i]), x.cols * sizeof(float)); });
    return count;
  }

  void add_expert_rows(Activations y, int64_t, const ExpertRoutes& routes, int32_t expert, Activations out) override {
    const int32_t* target = routes.rows + expert * routes.capacity;
    const float* weight = routes.weights + expert * routes.capacity;
    // Distinct rows: an expert takes a row at most once.
    for_each_row(routes.counts[expert], [&](int64_t i) {
      float* o = row(out, target[i]);
      const float* from = row(y, i);
      for (int64_t c = 0; c < out.cols; ++c) o[c] += weight[i] * from[c];
    });
  }

  void gather_logit_rows(Activations x, Activations out) override {
    for (int32_t r = 0; r < batch_.n_logit_rows; ++r) {
      std::memcpy(row(out, r), row(x, batch_.logit_rows[r]), x.cols * sizeof(float));
    }
  }

  void copy_to_host(Activations x, int64_t rows, float* host) override {
    for (int64_t r = 0; r < rows; ++r) std::memcpy(host + r * x.cols, row(x, r), x.cols * sizeof(float));
  }

  void score_to_host(Activations logits, int64_t rows, double* out) override {
    pool_.parallel_for(rows, 16, [&](int64_t r0, int64_t r1, int) {
      for (int64_t r = r0; r < r1; ++r) out[r] = negative_log_likelihood(row(logits, r), logits.cols, batch_.targets[r]);
    });
  }

  void copy_from(Backend& source, Activations src, Activations dst, int64_t rows) override {
    if (dst.stride != dst.cols) fail(GPTQ_ERR_INTERNAL, "copy_from needs contiguous destination rows");
    source.copy_to_host(src, rows, dst.as<float>());
  }

  void copy_kv(KvLayer& cache, int64_t head_dim, int32_t from, int32_t to, int32_t begin, int32_t end) override {
    const int64_t n_heads = cache.seq_stride / cache.head_stride;
    const size_t bytes = static_cast<size_t>((end - begin) * head_dim) * sizeof(float);
    for (void* base : {cache.keys, cache.values}) {
      float* data = static_cast<float*>(base);
      for (int64_t g = 0; g < n_heads; ++g) {
        const int64_t at = g * cache.head_stride + int64_t{begin} * head_dim;
        std::memcpy(data + to * cache.seq_stride + at, data + from * cache.seq_stride + at, bytes);
      }
    }
  }

  void synchronize() override {}

 private:
  static float* row(Activations a, int64_t r) { return a.as<float>() + r * a.stride; }

  // A per-thread row buffer for ops that need one (embedding positions).
  static float* row_scratch(int64_t n) {
    thread_local std::vector<float> scratch;
    if (static_cast<int64_t>(scratch.size()) < n) scratch.resize(n);
    return scratch.data();
  }

  // Row-wise work is cheap: one token's rows run on the calling thread, a
  // prefill's rows are spread over the pool.
  template <typename RowFn>
  void for_each_row(int64_t rows, RowFn&& fn) {
    if (rows <= 4) {
      for (int64_t r = 0; r < rows; ++r) fn(r);
      return;
    }
    pool_.parallel_for(rows, 8, [&](int64_t begin, int64_t end, int) {
      for (int64_t r = begin; r < end; ++r) fn(r);
    });
  }

  ThreadPool& pool_;
  Batch batch_;
  std::list<std::vector<float>> buffers_;
  std::vector<std::unique_ptr<float[]>> kv_;
  std::vector<float> alibi_slopes_;
  std::list<std::vector<int32_t>> route_ints_;
  std::list<std::vector<float>> route_floats_;
};

class CpuPreparer final : public WeightPreparer {
 public:
  std::shared_ptr<const PreparedWeights> linear(const Linear& linear) override {
    return std::make_shared<const CpuLinear>(linear);
  }
  std::shared_ptr<const PreparedWeights> norm(const Norm&) override { return nullptr; }
  std::shared_ptr<const PreparedWeights> table(const DenseMatrix&) override { return nullptr; }
};

}  // namespace

}  // namespace gptq::cpu

namespace gptq {

CpuKernels cpu_kernels() {
  const cpu::Isa isa = cpu::active_isa();
  return CpuKernels{cpu::isa_name(isa), isa >= cpu::Isa::Avx2, isa >= cpu::Isa::Avx512};
}

}  // namespace gptq

namespace gptq::cpu {

std::unique_ptr<Backend> make_cpu_backend(ThreadPool& pool) { return std::make_unique<CpuBackend>(pool); }
std::unique_ptr<WeightPreparer> make_cpu_preparer() { return std::make_unique<CpuPreparer>(); }

}  // namespace gptq::cpu
