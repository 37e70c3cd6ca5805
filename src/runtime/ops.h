// Row-wise element operations of the forward pass. They are a small share
// of the time next to the matmuls, so plain loops the compiler vectorises.
#pragma once

#include <cstdint>

#include "model/config.h"
#include "model/model.h"

namespace gptq {

// out = norm(x) * weight (+ bias) for one row of `n` values.
void norm_row(const float* x, float* out, int64_t n, const Norm& norm, NormKind kind, float eps);

// gate[i] = act(gate[i]) * up[i] (gated MLP), or gate[i] = act(gate[i]) when up is null.
void activate_row(float* gate, const float* up, int64_t n, Activation activation);

// y[i] += x[i]
void add_row(float* y, const float* x, int64_t n);

// -log softmax(logits)[target], computed in double.
double negative_log_likelihood(const float* logits, int64_t n, int32_t target);

}  // namespace gptq
