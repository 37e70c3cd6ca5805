// Plain reference kernels: the definition of what the fast kernels compute.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/half.h"
#include "kernels/cpu/cpu_kernels.h"

namespace gptq::cpu {
namespace {

float weight_at(const DenseMatrix& w, int64_t n, int64_t k) {
  const int64_t index = n * w.row_stride + k;
  switch (w.type) {
    case FloatType::F32: {
      float f;
      std::memcpy(&f, static_cast<const uint8_t*>(w.data) + 4 * index, 4);
      return f;
    }
    case FloatType::F16: {
      uint16_t h;
      std::memcpy(&h, static_cast<const uint8_t*>(w.data) + 2 * index, 2);
      return fp16_to_float(h);
    }
    case FloatType::BF16: {
      uint16_t b;
      std::memcpy(&b, static_cast<const uint8_t*>(w.data) + 2 * index, 2);
      return bf16_to_float(b);
    }
  }
  return 0.0f;
}

}  // namespace

namespace reference {

void dense_row_to_float(const DenseMatrix& w, int64_t row, float* out) {
  for (int64_t k = 0; k < w.n_cols; ++k) out[k] = weight_at(w, row, k);
}

void matmul(const float* x, int64_t ldx, int64_t M, const DenseMatrix& w, const float* bias, float* y, int64_t ldy) {
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t n = 0; n < w.n_rows; ++n) {
      float acc = 0.0f;
      for (int64_t k = 0; k < w.n_cols; ++k) acc += x[m * ldx + k] * weight_at(w, n, k);
      y[m * ldy + n] = acc + (bias != nullptr ? bias[n] : 0.0f);
    }
  }
}

void attention(const AttentionProblem& p) {
  const int group = p.n_heads / p.n_kv_heads;
  std::vector<float> scores;
  for (int32_t t = 0; t < p.n_tokens; ++t) {
    const int32_t last = p.pos[t];
    const int32_t first = p.window > 0 ? std::max(0, last - p.window + 1) : 0;
    for (int32_t h = 0; h < p.n_heads; ++h) {
      const float* q = p.q + t * p.q_stride + h * p.head_dim;
      const int64_t base = p.seq[t] * p.seq_stride + (h / group) * p.head_stride;
      scores.assign(last - first + 1, 0.0f);
      float max_score = -INFINITY;
      for (int32_t j = first; j <= last; ++j) {
        const float* k = p.k + base + int64_t{j} * p.head_dim;
        float dot = 0.0f;
        for (int32_t d = 0; d < p.head_dim; ++d) dot += q[d] * k[d];
        const float bias = p.alibi_slopes != nullptr ? p.alibi_slopes[h] * static_cast<float>(j - last) : 0.0f;
        scores[j - first] = dot * p.scale + bias;
        max_score = std::max(max_score, scores[j - first]);
      }
      float sum = 0.0f;
      for (float& s : scores) sum += (s = std::exp(s - max_score));
      float* out = p.out + t * p.out_stride + h * p.head_dim;
      std::fill(out, out + p.head_dim, 0.0f);
      for (int32_t j = first; j <= last; ++j) {
        const float* v = p.v + base + int64_t{j} * p.head_dim;
        const float weight = scores[j - first] / sum;
        for (int32_t d = 0; d < p.head_dim; ++d) out[d] += weight * v[d];
      }
    }
  }
}

}  // namespace reference
}  // namespace gptq::cpu
