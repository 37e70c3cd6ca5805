// Packing: copies operands into the layouts the microkernel streams.
//
//  - pack_b: NR rows of a weight matrix W[N, K] (fp32/fp16/bf16, any row
//    stride, any alignment) become one panel P[k][NR] of fp32, so that one
//    k step of the microkernel is NV contiguous vector loads. Rows past the
//    matrix are zero, so edge panels need no masking in the k loop.
//  - pack_a: up to MR rows of activations (given as row pointers, so query
//    heads scattered over tokens pack the same way) become P[k][MR],
//    optionally scaled, zero rows past the end.
//
// Both are transposes. They go W x W at a time through registers (load W
// row vectors, converting half precision on the way, transpose, store W
// column vectors), which keeps packing at a fraction of a cycle per element;
// an element-by-element transpose would cost ~10% of the GEMM itself.
#pragma once

#include <cstdint>

#include "kernels/cpu/cpu_kernels.h"

namespace gptq::cpu {
namespace {  // internal linkage: see kernel_set.h

constexpr int64_t weight_bytes(FloatType type) { return type == FloatType::F32 ? 4 : 2; }

// Calls f.operator()<T>() for the run-time weight type, so kernels are
// instantiated per type and the inner loops carry no type switch.
template <class F>
void with_weight_type(FloatType type, F&& f) {
  switch (type) {
    case FloatType::F32: return f.template operator()<FloatType::F32>();
    case FloatType::F16: return f.template operator()<FloatType::F16>();
    case FloatType::BF16: return f.template operator()<FloatType::BF16>();
  }
}

// One whole row of W in fp32.
template <class V>
void row_to_float(const DenseMatrix& w, int64_t row, float* out) {
  with_weight_type(w.type, [&]<FloatType T>() {
    constexpr int64_t esize = weight_bytes(T);
    const uint8_t* src = static_cast<const uint8_t*>(w.data) + row * w.row_stride * esize;
    int64_t k = 0;
    for (; k + V::W <= w.n_cols; k += V::W) V::store(out + k, V::template load_weights<T>(src + k * esize));
    if (k < w.n_cols) {
      const int tail = static_cast<int>(w.n_cols - k);
      V::store_part(out + k, V::template load_weights<T>(src + k * esize, tail), tail);
    }
  });
}

// rows x kc block of W starting at `w` (row stride in bytes) into
// ceil(rows / NR) panels of kc x NR floats.
template <class V, FloatType T>
void pack_b(const uint8_t* w, int64_t row_bytes, int64_t rows, int64_t kc, float* out) {
  using vec = typename V::vec;
  constexpr int W = V::W, NR = V::W * V::kNV;
  constexpr int64_t esize = weight_bytes(T);
  for (int64_t r0 = 0; r0 < rows; r0 += W) {
    const int64_t valid = rows - r0 < W ? rows - r0 : W;
    float* panel = out + (r0 / NR) * kc * NR + r0 % NR;
    const uint8_t* src = w + r0 * row_bytes;
    for (int64_t k = 0; k < kc; k += W) {
      const int kn = static_cast<int>(kc - k < W ? kc - k : W);
      vec t[W];
      for (int i = 0; i < W; ++i) {
        const uint8_t* p = src + i * row_bytes + k * esize;
        t[i] = i >= valid ? V::zero() : kn == W ? V::template load_weights<T>(p) : V::template load_weights<T>(p, kn);
      }
      V::transpose(t);
      for (int i = 0; i < kn; ++i) V::store(panel + (k + i) * NR, t[i]);
    }
  }
  // Rows past the end of the last panel read as zero.
  const int64_t padded = (rows + NR - 1) / NR * NR;
  for (int64_t r0 = (rows + W - 1) / W * W; r0 < padded; r0 += W) {
    float* panel = out + (r0 / NR) * kc * NR + r0 % NR;
    for (int64_t k = 0; k < kc; ++k) V::store(panel + k * NR, V::zero());
  }
}

// `rows` (<= MR) rows, row i at src[i] (kc floats each), into one panel of
// kc x MR floats, multiplied by `scale`.
template <class V, int MR>
void pack_a(const float* const* src, int rows, int64_t kc, float scale, float* out) {
  using vec = typename V::vec;
  constexpr int W = V::W;
  const vec s = V::set1(scale);
  for (int r0 = 0; r0 < MR; r0 += W) {
    const int lanes = MR - r0 < W ? MR - r0 : W;  // lanes of each stored column
    const typename V::mask lane_mask = V::make_mask(lanes);
    for (int64_t k = 0; k < kc; k += W) {
      const int kn = static_cast<int>(kc - k < W ? kc - k : W);
      vec t[W];
      for (int i = 0; i < W; ++i) {
        const int r = r0 + i;
        t[i] = r >= rows ? V::zero() : V::mul(s, kn == W ? V::load(src[r] + k) : V::load_part(src[r] + k, kn));
      }
      V::transpose(t);
      for (int i = 0; i < kn; ++i) {
        if (lanes == W) {
          V::store(out + (k + i) * MR + r0, t[i]);
        } else {
          // Masked-out lanes past MR fall on the next column or the
          // scratch slack: inside the buffer, as store_lanes requires.
          V::store_lanes(out + (k + i) * MR + r0, t[i], lane_mask);
        }
      }
    }
  }
}

}  // namespace
}  // namespace gptq::cpu
