// Decode GEMV: y[0:M, n0:n1] = x . W^T + bias for a handful of rows of x.
//
// Decoding is bound by streaming the weights, so W is read exactly once, in
// its own layout, with no packing: R rows of W at a time, W elements per
// step, converted (fp16/bf16 -> fp32) in registers and multiplied against up
// to 4 rows of x, into R x MB vector accumulators reduced horizontally at
// the end of the row. R independent accumulator chains hide the FMA latency,
// and R concurrent row streams keep the prefetchers busy. With more than 4
// rows of x, the same R rows of W are reused from L1 for the next 4 rows.
//
// Rows are short (768 bytes at K = 384), too short for the hardware
// prefetcher to ramp up on each, so every tile also prefetches the bytes
// kPrefetchBytes further on: measured on Zen 5, single-thread weight
// streaming went from ~30 to ~50 GB/s. Prefetches past the end of the
// matrix are harmless hints (they never fault).
#pragma once

#include <cstdint>

#include "kernels/cpu/kernel_set.h"
#include "kernels/cpu/pack_impl.h"

namespace gptq::cpu {
namespace {  // internal linkage: see kernel_set.h

constexpr int64_t kPrefetchBytes = 8192;

// R rows of W (from w) against MB rows of x; y points at y[0, first row].
template <class V, FloatType T, int R, int MB>
void gemv_tile(const float* x, int64_t ldx, const uint8_t* w, int64_t row_bytes, int64_t K, const float* bias,
               float* y, int64_t ldy) {
  using vec = typename V::vec;
  constexpr int W = V::W;
  constexpr int64_t esize = weight_bytes(T);
  vec acc[MB][R];
#pragma GCC unroll 16
  for (int m = 0; m < MB; ++m) {
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) acc[m][r] = V::zero();
  }
  int64_t k = 0;
  for (; k + W <= K; k += W) {
    vec wv[R];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) wv[r] = V::template load_weights<T>(w + r * row_bytes + k * esize);
#pragma GCC unroll 16
    for (int m = 0; m < MB; ++m) {
      const vec xv = V::load(x + m * ldx + k);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) acc[m][r] = V::fmadd(xv, wv[r], acc[m][r]);
    }
  }
  if (k < K) {
    const int tail = static_cast<int>(K - k);
    vec wv[R];
    for (int r = 0; r < R; ++r) wv[r] = V::template load_weights<T>(w + r * row_bytes + k * esize, tail);
    for (int m = 0; m < MB; ++m) {
      const vec xv = V::load_part(x + m * ldx + k, tail);
      for (int r = 0; r < R; ++r) acc[m][r] = V::fmadd(xv, wv[r], acc[m][r]);
    }
  }
  for (int m = 0; m < MB; ++m) {
    for (int r = 0; r < R; ++r) y[m * ldy + r] = V::reduce_add(acc[m][r]) + (bias != nullptr ? bias[r] : 0.0f);
  }
}

template <class V, FloatType T, int R>
void gemv_rows(const MatmulArgs& a, const uint8_t* w, int64_t row_bytes, int64_t n) {
  const uintptr_t ahead = reinterpret_cast<uintptr_t>(w) + kPrefetchBytes;
  for (int64_t offset = 0; offset < R * row_bytes; offset += 64) {
    __builtin_prefetch(reinterpret_cast<const void*>(ahead + offset));
  }
  const float* bias = a.bias != nullptr ? a.bias + n : nullptr;
  const int64_t K = a.w.n_cols;
  for (int64_t m = 0; m < a.M; m += 4) {
    const float* x = a.x + m * a.ldx;
    float* y = a.y + m * a.ldy + n;
    switch (a.M - m) {
      case 1: gemv_tile<V, T, R, 1>(x, a.ldx, w, row_bytes, K, bias, y, a.ldy); break;
      case 2: gemv_tile<V, T, R, 2>(x, a.ldx, w, row_bytes, K, bias, y, a.ldy); break;
      case 3: gemv_tile<V, T, R, 3>(x, a.ldx, w, row_bytes, K, bias, y, a.ldy); break;
      default: gemv_tile<V, T, R, 4>(x, a.ldx, w, row_bytes, K, bias, y, a.ldy); break;
    }
  }
}

template <class V, FloatType T>
void gemv_typed(const MatmulArgs& a, int64_t n0, int64_t n1) {
  constexpr int R = V::kGemvRows;
  const int64_t row_bytes = a.w.row_stride * weight_bytes(T);
  const uint8_t* w = static_cast<const uint8_t*>(a.w.data);
  int64_t n = n0;
  for (; n + R <= n1; n += R) gemv_rows<V, T, R>(a, w + n * row_bytes, row_bytes, n);
  for (; n < n1; ++n) gemv_rows<V, T, 1>(a, w + n * row_bytes, row_bytes, n);
}

template <class V>
void gemv(const MatmulArgs& args, int64_t n0, int64_t n1) {
  with_weight_type(args.w.type, [&]<FloatType T>() { gemv_typed<V, T>(args, n0, n1); });
}

}  // namespace
}  // namespace gptq::cpu
