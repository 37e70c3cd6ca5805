// The register-tiled microkernel every dense product here ends in:
//
//   C[r, 0:n) (+)= bias[0:n) + sum_k A(r, k) * B[k, 0:n)    for r < MR
//
// B rows are loaded as NV vectors (n <= NV * W columns) and each A element is
// broadcast against them, so the MR x NV accumulators never leave registers
// during the k loop: per k step, NV loads + MR broadcasts feed MR * NV FMAs.
//
// A is addressed through a layout with compile-time strides, so the k loop
// walks a single pointer with constant displacements (no per-row pointers
// competing for the 15 usable general registers):
//  - PackedA<MR>: A packed k-major, MR values per k (GEMM panels, queries);
//  - RowMajorA<LD>: A row-major with a fixed row length LD (the attention
//    probabilities, whose rows are one key block long).
// B has a run-time row stride: packed GEMM panels (ldb = NR) or the V cache
// read in place (ldb = head_dim), whose last vector may be partial
// (kMaskLast).
//
// Tables of instantiations, indexed by the number of rows, let edge tiles
// run exactly as many FMAs as they have rows instead of padding.
#pragma once

#include <cstdint>
#include <utility>

namespace gptq::cpu {
namespace {  // internal linkage: see kernel_set.h

template <int MR>
struct PackedA {
  static constexpr int64_t kRow = 1, kStep = MR;
};
template <int LD>
struct RowMajorA {
  static constexpr int64_t kRow = LD, kStep = 1;
};

using MicroFn = void (*)(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc,
                         int n_valid, const float* bias, bool accumulate);

template <class V, int MR, int NV, class Layout, bool kMaskLast>
void micro(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc, int n_valid,
           const float* bias, bool accumulate) {
  using vec = typename V::vec;
  constexpr int W = V::W;
  vec acc[MR][NV];
#pragma GCC unroll 32
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[r][v] = V::zero();
  }
  const int last = n_valid - (NV - 1) * W;  // lanes of the last vector
  for (int64_t k = 0; k < kc; ++k) {
    vec bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = (kMaskLast && v == NV - 1) ? V::load_part(b + v * W, last) : V::load(b + v * W);
#pragma GCC unroll 32
    for (int r = 0; r < MR; ++r) {
      const vec ar = V::set1(a[r * Layout::kRow]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[r][v] = V::fmadd(ar, bv[v], acc[r][v]);
    }
    a += Layout::kStep;
    b += ldb;
  }
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) {
    const int n = n_valid - v * W;
    if (n <= 0) break;
    const bool full = n >= W;
    vec add = V::zero();
    if (bias != nullptr) add = full ? V::load(bias + v * W) : V::load_part(bias + v * W, n);
#pragma GCC unroll 32
    for (int r = 0; r < MR; ++r) {
      float* out = c + r * ldc + v * W;
      vec value = V::add(acc[r][v], add);
      if (accumulate) value = V::add(value, full ? V::load(out) : V::load_part(out, n));
      if (full) {
        V::store(out, value);
      } else {
        V::store_part(out, value, n);
      }
    }
  }
}

template <int N>
struct MicroTable {
  MicroFn fn[N];  // fn[rows - 1] runs a tile of that many rows
};

template <class V, int NV, class Layout, bool kMaskLast, int... I>
constexpr MicroTable<V::kMR> micro_table(std::integer_sequence<int, I...>) {
  return {{&micro<V, I + 1, NV, Layout, kMaskLast>...}};
}

template <class V, int NV, class Layout, bool kMaskLast>
constexpr MicroTable<V::kMR> kMicro = micro_table<V, NV, Layout, kMaskLast>(std::make_integer_sequence<int, V::kMR>{});

// The tile used by the GEMM and by the attention scores: packed A, packed B
// (zero-padded, so all NV vectors load unmasked).
template <class V>
MicroFn gemm_micro(int rows) {
  return kMicro<V, V::kNV, PackedA<V::kMR>, false>.fn[rows - 1];
}

// [nv - 1][partial]: tiles of P.V for nv vectors of columns, the last one
// partial or not.
template <class V, class Layout, int... I>
constexpr auto pv_table(std::integer_sequence<int, I...>) {
  struct Table {
    MicroTable<V::kMR> by_width[sizeof...(I)][2];
  };
  return Table{{{kMicro<V, I + 1, Layout, false>, kMicro<V, I + 1, Layout, true>}...}};
}

// The tile of P.V: rows of A one key block (LD) long, B the V cache read in
// place for n_valid (<= NV * W) of its columns.
template <class V, int LD>
MicroFn pv_micro(int rows, int n_valid) {
  static constexpr auto kTable = pv_table<V, RowMajorA<LD>>(std::make_integer_sequence<int, V::kNV>{});
  const int nv = (n_valid + V::W - 1) / V::W;
  return kTable.by_width[nv - 1][n_valid % V::W != 0 ? 1 : 0].fn[rows - 1];
}

}  // namespace
}  // namespace gptq::cpu
