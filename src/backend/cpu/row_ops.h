// Row-wise element operations of the CPU backend. They are a small share of
// the time next to the matmuls, so plain loops the compiler vectorises.
#pragma once

#include <cstdint>

#include "model/config.h"
#include "model/model.h"

namespace gptq {

// out = norm(x) * weight (+ bias) for one row of `n` values.
void norm_row(const float* x, float* out, int64_t n, const Norm& norm, NormKind kind, float eps);

// norm_row over each of the n_heads heads of a row, in place (qwen3's q/k
// norms: RMS over head_dim with one weight vector shared by the heads).
void norm_heads(float* row, int64_t n_heads, int64_t head_dim, const Norm& norm, float eps);

// Splits one token's fused q/k/v projection output into q [n_heads * head_dim]
// and k, v [n_kv_heads * head_dim] as `layout` arranges them.
void split_qkv_row(const float* qkv, QkvLayout layout, int64_t n_heads, int64_t n_kv_heads, int64_t head_dim,
                   float* q, float* k, float* v);

// The first layer's input for `token` at `position`: its embedding, scaled
// as the model says, plus the learned position row where it has one.
// `scratch` holds hidden_size floats.
void embed_token(const Model& model, int32_t token, int32_t position, float* out, float* scratch);

// gate[i] = act(gate[i]) * up[i] (gated MLP), or gate[i] = act(gate[i]) when up is null.
void activate_row(float* gate, const float* up, int64_t n, Activation activation);

// A router's choice for one token: softmax of its n scores, the top_k
// experts (ties to the lower index, in decreasing order), their
// probabilities renormalised to sum to 1.
void route_row(const float* scores, int32_t n, int32_t top_k, int32_t* experts, float* weights);

// y[i] += x[i]
void add_row(float* y, const float* x, int64_t n);

// -log softmax(logits)[target], computed in double.
double negative_log_likelihood(const float* logits, int64_t n, int32_t target);

}  // namespace gptq
