// Rotary position embedding frequencies, computed the way transformers does
// (fp32 powers, then the scaling rule of the rope type), so that angles match
// the reference implementation bit for bit where possible.
#pragma once

#include <vector>

#include "core/dtype.h"
#include "model/config.h"

namespace gptq {

// rotary_dim / 2 inverse frequencies after scaling.
std::vector<float> rope_inverse_frequencies(const ModelConfig& config);

// cos and sin for positions [0, n_positions): entry (p, i) at p * half + i,
// with half = rotary_dim / 2; each rounded to `rounded_to` (see
// LoadOptions::round_rope_to_weight_dtype).
struct RopeTable {
  int64_t half = 0;
  std::vector<float> cos;
  std::vector<float> sin;
};
RopeTable build_rope_table(const std::vector<float>& inverse_frequencies, int64_t n_positions,
                           FloatType rounded_to = FloatType::F32);

// Rotates the first rotary_dim dims of each head of a [n_heads][head_dim] row.
void apply_rope(float* row, int64_t n_heads, int64_t head_dim, const RopeTable& table, int64_t position,
                RotaryStyle style);

}  // namespace gptq
