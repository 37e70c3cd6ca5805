#include "quant/group_params.h"

namespace gptq {

void find_group_params(const float* wt, int64_t n_rows, int64_t col_begin, int64_t col_end, int64_t row_begin,
                       int64_t row_end, int bits, bool sym, bool mse, GroupParams& out) {
  for (int64_t n = row_begin; n < row_end; ++n) {
    find_row_params(wt + col_begin * n_rows + n, n_rows, col_end - col_begin, bits, sym, mse, &out.scale[n],
                    &out.zero[n]);
  }
}

}  // namespace gptq
