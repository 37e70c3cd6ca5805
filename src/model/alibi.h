// ALiBi (attention with linear biases, Press et al. 2022) as BLOOM uses it:
// head h adds slope(h) * (key position - query position) to its scores.
// transformers adds slope(h) * key position; the two differ by a constant
// per query row, which the softmax cancels.
#pragma once

#include <cstdint>
#include <vector>

namespace gptq {

// The n_heads slopes of transformers' build_alibi_tensor: a geometric
// series over the largest power of two of heads, the remaining heads
// interleaved from the series of twice as many.
std::vector<float> alibi_slopes(int64_t n_heads);

}  // namespace gptq
