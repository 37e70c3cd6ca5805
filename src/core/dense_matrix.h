// A borrowed row-major matrix of floats in their stored type: weights read
// in place from a mapped checkpoint (rows need not be aligned), or held in
// memory by whoever lent the view.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace gptq {

struct DenseMatrix {
  const void* data = nullptr;
  FloatType type = FloatType::F32;
  int64_t n_rows = 0;      // N: output features of a weight matrix
  int64_t n_cols = 0;      // K: input features
  int64_t row_stride = 0;  // elements from one row to the next (>= n_cols)
};

}  // namespace gptq
