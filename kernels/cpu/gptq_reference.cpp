// The definition of what the GPTQ kernels compute, read straight from the
// checkpoint format (not from our layout): dequantize each weight, multiply.
#include <cstring>

#include "core/half.h"
#include "kernels/cpu/gptq_kernels.h"

namespace gptq::cpu::reference {

float gptq_weight(const GptqSource& w, int64_t n, int64_t k) {
  // Value k of column n: bits [k*b, k*b + b) of the column's little-endian
  // stream of words, which may straddle two words.
  const int64_t first_bit = k * w.bits;
  uint32_t q = 0;
  for (int b = 0; b < w.bits; ++b) {
    const int64_t bit = first_bit + b;
    const uint32_t word = static_cast<uint32_t>(w.qweight[(bit / 32) * w.out_features + n]);
    q |= ((word >> (bit % 32)) & 1u) << b;
  }
  const int64_t g = w.g_idx[k];
  const float scale = fp16_to_float(w.scales_fp16[g * w.out_features + n]);
  return scale * static_cast<float>(static_cast<int32_t>(q) - w.zeros[g * w.out_features + n]);
}

void matmul_gptq(const float* x, int64_t ldx, int64_t M, const GptqSource& w, const float* bias, float* y,
                 int64_t ldy) {
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t n = 0; n < w.out_features; ++n) {
      float acc = 0.0f;
      for (int64_t k = 0; k < w.in_features; ++k) acc += x[m * ldx + k] * gptq_weight(w, n, k);
      y[m * ldy + n] = acc + (bias != nullptr ? bias[n] : 0.0f);
    }
  }
}

}  // namespace gptq::cpu::reference
