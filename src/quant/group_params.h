// Scale and zero point of one quantization group for every output row,
// AutoGPTQ's Quantizer.find_params(weight=True) and quantize().
#pragma once

#include <cstdint>
#include <vector>

#include "quant/group_range.h"

namespace gptq {

struct GroupParams {
  explicit GroupParams(int64_t n_rows = 0) : scale(n_rows), zero(n_rows) {}
  std::vector<float> scale;  // per row
  std::vector<float> zero;   // per row, an integer value
};

// Rows [row_begin, row_end) of the columns [col_begin, col_end) of a
// column-major ("transposed", [K][N]) weight matrix with `n_rows` rows.
// `out` must already hold n_rows entries (threads fill disjoint rows).
void find_group_params(const float* wt, int64_t n_rows, int64_t col_begin, int64_t col_end, int64_t row_begin,
                       int64_t row_end, int bits, bool sym, bool mse, GroupParams& out);

}  // namespace gptq
