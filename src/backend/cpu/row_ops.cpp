#include "backend/cpu/row_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>

#include "kernels/cpu/cpu_kernels.h"

namespace gptq {

void norm_row(const float* x, float* out, int64_t n, const Norm& norm, NormKind kind, float eps) {
  double mean = 0.0;
  if (kind == NormKind::LayerNorm) {
    for (int64_t i = 0; i < n; ++i) mean += x[i];
    mean /= static_cast<double>(n);
  }
  double sum_squares = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double centered = x[i] - mean;
    sum_squares += centered * centered;
  }
  const float inv_rms = static_cast<float>(1.0 / std::sqrt(sum_squares / static_cast<double>(n) + eps));
  const float shift = static_cast<float>(mean);
  const float* weight = norm.weight.data();
  if (norm.bias.empty()) {
    for (int64_t i = 0; i < n; ++i) out[i] = weight[i] * ((x[i] - shift) * inv_rms);
  } else {
    const float* bias = norm.bias.data();
    for (int64_t i = 0; i < n; ++i) out[i] = weight[i] * ((x[i] - shift) * inv_rms) + bias[i];
  }
}

void norm_heads(float* row, int64_t n_heads, int64_t head_dim, const Norm& norm, float eps) {
  for (int64_t h = 0; h < n_heads; ++h) norm_row(row + h * head_dim, row + h * head_dim, head_dim, norm, NormKind::RmsNorm, eps);
}

void split_qkv_row(const float* qkv, QkvLayout layout, int64_t n_heads, int64_t n_kv_heads, int64_t head_dim,
                   float* q, float* k, float* v) {
  const size_t head_bytes = head_dim * sizeof(float);
  if (layout == QkvLayout::HeadInterleaved) {  // n_kv_heads == n_heads, checked with the config
    for (int64_t h = 0; h < n_heads; ++h) {
      const float* block = qkv + 3 * h * head_dim;
      std::memcpy(q + h * head_dim, block, head_bytes);
      std::memcpy(k + h * head_dim, block + head_dim, head_bytes);
      std::memcpy(v + h * head_dim, block + 2 * head_dim, head_bytes);
    }
    return;
  }
  const int64_t q_dim = n_heads * head_dim, kv_dim = n_kv_heads * head_dim;
  std::memcpy(q, qkv, q_dim * sizeof(float));
  std::memcpy(k, qkv + q_dim, kv_dim * sizeof(float));
  std::memcpy(v, qkv + q_dim + kv_dim, kv_dim * sizeof(float));
}

void embed_token(const Model& model, int32_t token, int32_t position, float* out, float* scratch) {
  const ModelConfig& c = model.config();
  cpu::dense_row_to_float(model.embed_tokens(), token, out);
  if (const float scale = model.embedding_scale(); scale != 1.0f) {
    for (int64_t i = 0; i < c.hidden_size; ++i) out[i] *= scale;
  }
  if (model.position_embeddings().data != nullptr) {
    cpu::dense_row_to_float(model.position_embeddings(), position + model.arch().position_offset, scratch);
    add_row(out, scratch, c.hidden_size);
  }
}

namespace {

template <typename Act>
void apply(float* gate, const float* up, int64_t n, Act act) {
  if (up != nullptr) {
    for (int64_t i = 0; i < n; ++i) gate[i] = act(gate[i]) * up[i];
  } else {
    for (int64_t i = 0; i < n; ++i) gate[i] = act(gate[i]);
  }
}

}  // namespace

void activate_row(float* gate, const float* up, int64_t n, Activation activation) {
  switch (activation) {
    case Activation::Silu:
      apply(gate, up, n, [](float v) { return v / (1.0f + std::exp(-v)); });
      break;
    case Activation::GeluErf:
      apply(gate, up, n, [](float v) { return 0.5f * v * (1.0f + std::erf(v * static_cast<float>(std::numbers::sqrt2 / 2))); });
      break;
    case Activation::GeluTanh:
      apply(gate, up, n, [](float v) {
        const float c = 0.7978845608028654f;  // sqrt(2 / pi)
        return 0.5f * v * (1.0f + std::tanh(c * (v + 0.044715f * v * v * v)));
      });
      break;
    case Activation::Relu:
      apply(gate, up, n, [](float v) { return std::max(v, 0.0f); });
      break;
  }
}

void route_row(const float* scores, int32_t n, int32_t top_k, int32_t* experts, float* weights) {
  const float max = *std::max_element(scores, scores + n);
  float total = 0;
  for (int32_t e = 0; e < n; ++e) total += std::exp(scores[e] - max);
  float chosen_total = 0;
  for (int32_t k = 0; k < top_k; ++k) {
    int32_t best = -1;
    for (int32_t e = 0; e < n; ++e) {
      if (std::find(experts, experts + k, e) != experts + k) continue;
      if (best < 0 || scores[e] > scores[best]) best = e;
    }
    experts[k] = best;
    weights[k] = std::exp(scores[best] - max) / total;
    chosen_total += weights[k];
  }
  for (int32_t k = 0; k < top_k; ++k) weights[k] /= chosen_total;
}

void add_row(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

double negative_log_likelihood(const float* logits, int64_t n, int32_t target) {
  float max_logit = logits[0];
  for (int64_t i = 1; i < n; ++i) max_logit = std::max(max_logit, logits[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i]) - max_logit);
  return std::log(sum) + max_logit - logits[target];
}

}  // namespace gptq
