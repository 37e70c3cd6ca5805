#include "runtime/forward.h"

#include <cmath>
#include <cstring>

#include "runtime/ops.h"

namespace gptq {

ForwardPass::ForwardPass(const Model& model, int32_t max_tokens, int32_t n_ctx)
    : model_(model), config_(model.config()), max_tokens_(max_tokens) {
  rope_ = build_rope_table(model.rope_inverse_frequencies(), n_ctx);
  const int64_t t = max_tokens;
  hidden_.resize(t * config_.hidden_size);
  normed_.resize(t * config_.hidden_size);
  q_.resize(t * config_.q_dim());
  k_.resize(t * config_.kv_dim());
  v_.resize(t * config_.kv_dim());
  attn_.resize(t * config_.q_dim());
  gate_.resize(t * config_.intermediate_size);
  up_.resize(t * config_.intermediate_size);
  out_.resize(t * config_.hidden_size);
}

// Row-wise work is cheap: one token's rows run on the calling thread, a
// prefill's rows are spread over the pool.
template <typename RowFn>
void ForwardPass::for_each_row(ThreadPool& pool, int64_t rows, RowFn&& fn) {
  if (rows <= 4) {
    for (int64_t r = 0; r < rows; ++r) fn(r);
    return;
  }
  pool.parallel_for(rows, 8, [&](int64_t begin, int64_t end, int) {
    for (int64_t r = begin; r < end; ++r) fn(r);
  });
}

void ForwardPass::matmul(ThreadPool& pool, const Linear& linear, const float* x, int64_t ldx, int64_t rows, float* y,
                         int64_t ldy) {
  cpu::matmul(pool, x, ldx, rows, linear.weights, linear.bias_or_null(), y, ldy);
}

bool ForwardPass::attention_block(ThreadPool& pool, KvCache& cache, const Batch& batch, const DecoderLayer& layer,
                                  int64_t cache_layer, float* hidden, const LayerObserver* observer) {
  const ArchSpec& arch = model_.arch();
  const int64_t T = batch.n_tokens, H = config_.hidden_size;
  const int64_t q_dim = config_.q_dim(), kv_dim = config_.kv_dim(), head_dim = config_.head_dim;
  const float eps = static_cast<float>(config_.norm_eps);

  for_each_row(pool, T, [&](int64_t t) {
    norm_row(&hidden[t * H], &normed_[t * H], H, layer.attn_norm, arch.norm, eps);
  });
  if (observer && !(*observer)(LayerTap::AttentionInput, normed_.data(), T, H)) return false;
  matmul(pool, layer.q_proj, normed_.data(), H, T, q_.data(), q_dim);
  matmul(pool, layer.k_proj, normed_.data(), H, T, k_.data(), kv_dim);
  matmul(pool, layer.v_proj, normed_.data(), H, T, v_.data(), kv_dim);

  float* k_cache = cache.keys(cache_layer);
  float* v_cache = cache.values(cache_layer);
  for_each_row(pool, T, [&](int64_t t) {
    const int32_t pos = batch.pos[t];
    apply_rope(&q_[t * q_dim], config_.n_heads, head_dim, rope_, pos, arch.rotary);
    apply_rope(&k_[t * kv_dim], config_.n_kv_heads, head_dim, rope_, pos, arch.rotary);
    const int64_t base = batch.seq[t] * cache.seq_stride() + int64_t{pos} * head_dim;
    for (int64_t g = 0; g < config_.n_kv_heads; ++g) {
      std::memcpy(k_cache + base + g * cache.head_stride(), &k_[t * kv_dim + g * head_dim], head_dim * sizeof(float));
      std::memcpy(v_cache + base + g * cache.head_stride(), &v_[t * kv_dim + g * head_dim], head_dim * sizeof(float));
    }
  });

  cpu::AttentionProblem problem;
  problem.n_tokens = batch.n_tokens;
  problem.n_heads = static_cast<int32_t>(config_.n_heads);
  problem.n_kv_heads = static_cast<int32_t>(config_.n_kv_heads);
  problem.head_dim = static_cast<int32_t>(head_dim);
  problem.q = q_.data();
  problem.q_stride = q_dim;
  problem.out = attn_.data();
  problem.out_stride = q_dim;
  problem.seq = batch.seq;
  problem.pos = batch.pos;
  problem.k = k_cache;
  problem.v = v_cache;
  problem.seq_stride = cache.seq_stride();
  problem.head_stride = cache.head_stride();
  problem.window = static_cast<int32_t>(config_.sliding_window);
  problem.scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  cpu::attention(pool, problem);

  if (observer && !(*observer)(LayerTap::AttentionOutput, attn_.data(), T, q_dim)) return false;
  matmul(pool, layer.o_proj, attn_.data(), q_dim, T, out_.data(), H);
  for_each_row(pool, T, [&](int64_t t) { add_row(&hidden[t * H], &out_[t * H], H); });
  return true;
}

bool ForwardPass::mlp_block(ThreadPool& pool, const Batch& batch, const DecoderLayer& layer, float* hidden,
                            const LayerObserver* observer) {
  const ArchSpec& arch = model_.arch();
  const int64_t T = batch.n_tokens, H = config_.hidden_size, I = config_.intermediate_size;
  const float eps = static_cast<float>(config_.norm_eps);
  for_each_row(pool, T, [&](int64_t t) {
    norm_row(&hidden[t * H], &normed_[t * H], H, layer.ffn_norm, arch.norm, eps);
  });
  if (observer && !(*observer)(LayerTap::MlpInput, normed_.data(), T, H)) return false;
  const bool gated = arch.mlp == MlpKind::Gated;
  if (gated) {
    matmul(pool, layer.gate_proj, normed_.data(), H, T, gate_.data(), I);
    matmul(pool, layer.up_proj, normed_.data(), H, T, up_.data(), I);
  } else {
    matmul(pool, layer.up_proj, normed_.data(), H, T, gate_.data(), I);
  }
  for_each_row(pool, T, [&](int64_t t) {
    activate_row(&gate_[t * I], gated ? &up_[t * I] : nullptr, I, config_.activation);
  });
  if (observer && !(*observer)(LayerTap::MlpHidden, gate_.data(), T, I)) return false;
  matmul(pool, layer.down_proj, gate_.data(), I, T, out_.data(), H);
  for_each_row(pool, T, [&](int64_t t) { add_row(&hidden[t * H], &out_[t * H], H); });
  return true;
}

bool ForwardPass::run_layer(ThreadPool& pool, KvCache& cache, const Batch& batch, const DecoderLayer& layer,
                            int64_t cache_layer, float* hidden, const LayerObserver* observer) {
  return attention_block(pool, cache, batch, layer, cache_layer, hidden, observer) &&
         mlp_block(pool, batch, layer, hidden, observer);
}

void ForwardPass::run(ThreadPool& pool, KvCache& cache, const Batch& batch, float* logits) {
  const int64_t T = batch.n_tokens, H = config_.hidden_size;
  for_each_row(pool, T, [&](int64_t t) {
    cpu::dense_row_to_float(model_.embed_tokens(), batch.tokens[t], &hidden_[t * H]);
  });
  for (int64_t l = 0; l < config_.n_layers; ++l) {
    run_layer(pool, cache, batch, model_.layers()[l], l, hidden_.data(), nullptr);
  }
  if (batch.n_logit_rows == 0) return;
  const float eps = static_cast<float>(config_.norm_eps);
  for_each_row(pool, batch.n_logit_rows, [&](int64_t r) {
    norm_row(&hidden_[batch.logit_rows[r] * H], &normed_[r * H], H, model_.final_norm(), model_.arch().norm, eps);
  });
  matmul(pool, model_.lm_head(), normed_.data(), H, batch.n_logit_rows, logits, config_.vocab_size);
}

}  // namespace gptq
