#include "runtime/forward.h"

#include <cstring>

#include "core/error.h"
#include "runtime/ops.h"

namespace gptq {

ForwardPass::ForwardPass(const Model& model, int32_t max_tokens, int32_t n_ctx)
    : model_(model), config_(model.config()), max_tokens_(max_tokens) {
  if (model.arch().positions == PositionKind::Learned && n_ctx > config_.max_position_embeddings) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, "sequences of up to ", n_ctx, " tokens need more than the ",
         config_.max_position_embeddings, " positions ", config_.model_type, " has learned embeddings for");
  }
  if (model.arch().positions == PositionKind::Rotary) rope_ = build_rope_table(model.rope_inverse_frequencies(), n_ctx);
  const int64_t t = max_tokens;
  hidden_.resize(t * config_.hidden_size);
  normed_.resize(t * config_.hidden_size);
  if (model.arch().qkv_layout != QkvLayout::Separate) qkv_.resize(t * config_.qkv_dim());
  q_.resize(t * config_.q_dim());
  k_.resize(t * config_.kv_dim());
  v_.resize(t * config_.kv_dim());
  attn_.resize(t * config_.q_dim());
  // FusedGated keeps [gate | up] rows in gate_.
  gate_.resize(t * config_.intermediate_size * (model.arch().mlp == MlpKind::FusedGated ? 2 : 1));
  if (model.arch().mlp == MlpKind::Gated) up_.resize(t * config_.intermediate_size);
  attn_out_.resize(t * config_.hidden_size);
  mlp_out_.resize(t * config_.hidden_size);
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
  const cpu::MatmulOutput out = linear.output(y, ldy);
  cpu::matmul_multi(pool, x, ldx, rows, &out, 1);
}

const float* ForwardPass::block_input(ThreadPool& pool, int64_t rows, const float* hidden, const Norm& norm) {
  if (!config_.norm_before) return hidden;
  const int64_t H = config_.hidden_size;
  const float eps = static_cast<float>(config_.norm_eps);
  for_each_row(pool, rows, [&](int64_t t) { norm_row(&hidden[t * H], &normed_[t * H], H, norm, model_.arch().norm, eps); });
  return normed_.data();
}

void ForwardPass::add_to_residual(ThreadPool& pool, int64_t rows, float* hidden, const float* delta, const Norm& norm) {
  const int64_t H = config_.hidden_size;
  const float eps = static_cast<float>(config_.norm_eps);
  for_each_row(pool, rows, [&](int64_t t) {
    add_row(&hidden[t * H], &delta[t * H], H);
    if (!config_.norm_before) norm_row(&hidden[t * H], &hidden[t * H], H, norm, model_.arch().norm, eps);
  });
}

// Fills q_, k_ and v_ from the separate projections, or from the fused one
// split as the architecture lays it out.
void ForwardPass::project_qkv(ThreadPool& pool, const DecoderLayer& layer, const float* input, int64_t rows) {
  const int64_t H = config_.hidden_size, q_dim = config_.q_dim(), kv_dim = config_.kv_dim();
  const QkvLayout layout = model_.arch().qkv_layout;
  if (layout == QkvLayout::Separate) {
    // One parallel step for the three products of the same input.
    const cpu::MatmulOutput outs[] = {layer.q_proj.output(q_.data(), q_dim), layer.k_proj.output(k_.data(), kv_dim),
                                      layer.v_proj.output(v_.data(), kv_dim)};
    cpu::matmul_multi(pool, input, H, rows, outs, 3);
    return;
  }
  const int64_t qkv_dim = config_.qkv_dim();
  matmul(pool, layer.qkv_proj, input, H, rows, qkv_.data(), qkv_dim);
  for_each_row(pool, rows, [&](int64_t t) {
    split_qkv_row(&qkv_[t * qkv_dim], layout, config_.n_heads, config_.n_kv_heads, config_.head_dim, &q_[t * q_dim],
                  &k_[t * kv_dim], &v_[t * kv_dim]);
  });
}

bool ForwardPass::attention_block(ThreadPool& pool, KvCache& cache, const Batch& batch, const DecoderLayer& layer,
                                  int64_t cache_layer, const float* hidden, float* out,
                                  const LayerObserver* observer) {
  const ArchSpec& arch = model_.arch();
  const int64_t T = batch.n_tokens, H = config_.hidden_size;
  const int64_t q_dim = config_.q_dim(), kv_dim = config_.kv_dim(), head_dim = config_.head_dim;
  const float eps = static_cast<float>(config_.norm_eps);

  const float* input = block_input(pool, T, hidden, layer.attn_norm);
  if (observer && !(*observer)(LayerTap::AttentionInput, input, T, H)) return false;
  project_qkv(pool, layer, input, T);

  float* k_cache = cache.keys(cache_layer);
  float* v_cache = cache.values(cache_layer);
  for_each_row(pool, T, [&](int64_t t) {
    float* q = &q_[t * q_dim];
    float* k = &k_[t * kv_dim];
    if (!layer.q_norm.weight.empty()) norm_heads(q, config_.n_heads, head_dim, layer.q_norm, eps);
    if (!layer.k_norm.weight.empty()) norm_heads(k, config_.n_kv_heads, head_dim, layer.k_norm, eps);
    const int32_t pos = batch.pos[t];
    if (arch.positions == PositionKind::Rotary) {
      apply_rope(q, config_.n_heads, head_dim, rope_, pos, arch.rotary);
      apply_rope(k, config_.n_kv_heads, head_dim, rope_, pos, arch.rotary);
    }
    const int64_t base = batch.seq[t] * cache.seq_stride() + int64_t{pos} * head_dim;
    for (int64_t g = 0; g < config_.n_kv_heads; ++g) {
      std::memcpy(k_cache + base + g * cache.head_stride(), k + g * head_dim, head_dim * sizeof(float));
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
  problem.scale = static_cast<float>(config_.attention_scale);
  cpu::attention(pool, problem);

  if (observer && !(*observer)(LayerTap::AttentionOutput, attn_.data(), T, q_dim)) return false;
  matmul(pool, layer.o_proj, attn_.data(), q_dim, T, out, H);
  return true;
}

bool ForwardPass::mlp_block(ThreadPool& pool, const Batch& batch, const DecoderLayer& layer, const float* hidden,
                            float* out, const LayerObserver* observer) {
  const int64_t T = batch.n_tokens, H = config_.hidden_size, I = config_.intermediate_size;
  const float* input = block_input(pool, T, hidden, layer.ffn_norm);
  if (observer && !(*observer)(LayerTap::MlpInput, input, T, H)) return false;
  // act(gate) (* up) lands in gate_, whose rows are `stride` apart; `up`
  // points at the first token's up values, rows `stride` apart too.
  int64_t stride = I;
  const float* up = nullptr;
  switch (model_.arch().mlp) {
    case MlpKind::Gated: {
      const cpu::MatmulOutput outs[] = {layer.gate_proj.output(gate_.data(), I), layer.up_proj.output(up_.data(), I)};
      cpu::matmul_multi(pool, input, H, T, outs, 2);
      up = up_.data();
      break;
    }
    case MlpKind::FusedGated:
      stride = 2 * I;
      matmul(pool, layer.gate_up_proj, input, H, T, gate_.data(), stride);
      up = gate_.data() + I;
      break;
    case MlpKind::Plain:
      matmul(pool, layer.up_proj, input, H, T, gate_.data(), I);
      break;
  }
  for_each_row(pool, T, [&](int64_t t) {
    activate_row(&gate_[t * stride], up != nullptr ? up + t * stride : nullptr, I, config_.activation);
  });
  if (observer && !(*observer)(LayerTap::MlpHidden, gate_.data(), T, stride)) return false;
  matmul(pool, layer.down_proj, gate_.data(), stride, T, out, H);
  return true;
}

bool ForwardPass::run_layer(ThreadPool& pool, KvCache& cache, const Batch& batch, const DecoderLayer& layer,
                            int64_t cache_layer, float* hidden, const LayerObserver* observer) {
  const int64_t T = batch.n_tokens;
  if (!attention_block(pool, cache, batch, layer, cache_layer, hidden, attn_out_.data(), observer)) return false;
  if (config_.parallel_residual) {
    // Both blocks read the layer's input; their outputs join it together.
    if (!mlp_block(pool, batch, layer, hidden, mlp_out_.data(), observer)) return false;
    const int64_t H = config_.hidden_size;
    for_each_row(pool, T, [&](int64_t t) {
      add_row(&hidden[t * H], &attn_out_[t * H], H);
      add_row(&hidden[t * H], &mlp_out_[t * H], H);
    });
    return true;
  }
  add_to_residual(pool, T, hidden, attn_out_.data(), layer.attn_norm);
  if (!mlp_block(pool, batch, layer, hidden, mlp_out_.data(), observer)) return false;
  add_to_residual(pool, T, hidden, mlp_out_.data(), layer.ffn_norm);
  return true;
}

void ForwardPass::run(ThreadPool& pool, KvCache& cache, const Batch& batch, float* logits) {
  const int64_t T = batch.n_tokens, H = config_.hidden_size;
  for_each_row(pool, T, [&](int64_t t) {
    embed_token(model_, batch.tokens[t], batch.pos[t], &hidden_[t * H], &normed_[t * H]);
  });
  for (int64_t l = 0; l < config_.n_layers; ++l) {
    run_layer(pool, cache, batch, model_.layers()[l], l, hidden_.data(), nullptr);
  }
  if (batch.n_logit_rows == 0) return;
  const float eps = static_cast<float>(config_.norm_eps);
  for_each_row(pool, batch.n_logit_rows, [&](int64_t r) {
    const float* row = &hidden_[batch.logit_rows[r] * H];
    if (config_.final_norm) norm_row(row, &normed_[r * H], H, model_.final_norm(), model_.arch().norm, eps);
    else std::memcpy(&normed_[r * H], row, H * sizeof(float));
  });
  matmul(pool, model_.lm_head(), normed_.data(), H, batch.n_logit_rows, logits, config_.vocab_size);
}

}  // namespace gptq
