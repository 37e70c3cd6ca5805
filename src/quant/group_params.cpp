#include "quant/group_params.h"

#include <algorithm>
#include <limits>

namespace gptq {

void find_group_params(const float* wt, int64_t n_rows, int64_t col_begin, int64_t col_end, int64_t row_begin,
                       int64_t row_end, int bits, bool sym, bool mse, GroupParams& out) {
  const float maxq = static_cast<float>((1 << bits) - 1);
  for (int64_t n = row_begin; n < row_end; ++n) {
    float xmin = 0.0f, xmax = 0.0f;  // the range always includes zero
    for (int64_t c = col_begin; c < col_end; ++c) {
      xmin = std::min(xmin, wt[c * n_rows + n]);
      xmax = std::max(xmax, wt[c * n_rows + n]);
    }
    if (sym) {
      xmax = std::max(std::fabs(xmin), xmax);
      if (xmin < 0) xmin = -xmax;
    }
    if (xmin == 0.0f && xmax == 0.0f) {
      xmin = -1.0f;
      xmax = 1.0f;
    }
    float scale = (xmax - xmin) / maxq;
    float zero = sym ? (maxq + 1.0f) / 2.0f : std::nearbyint(-xmin / scale);
    if (mse) {
      // Shrink the range while the |error|^2.4 over the group drops.
      float best = std::numeric_limits<float>::infinity();
      const float sym_zero = zero;
      for (int i = 0; i < 80; ++i) {
        const float p = 1.0f - static_cast<float>(i) / 100.0f;
        const float xmin1 = p * xmin, xmax1 = p * xmax;
        const float scale1 = (xmax1 - xmin1) / maxq;
        const float zero1 = sym ? sym_zero : std::nearbyint(-xmin1 / scale1);
        float err = 0.0f;
        for (int64_t c = col_begin; c < col_end; ++c) {
          const float x = wt[c * n_rows + n];
          const float q = scale1 * (quantize_code(x, scale1, zero1, maxq) - zero1);
          err += std::pow(std::fabs(q - x), 2.4f);
        }
        if (err < best) {
          best = err;
          scale = scale1;
          zero = zero1;
        }
      }
    }
    out.scale[n] = scale;
    out.zero[n] = zero;
  }
}

}  // namespace gptq
