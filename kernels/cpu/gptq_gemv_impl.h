// Decode GEMV on GPTQ weights: y[0:M, n0:n1] = x . W^T + bias for a few
// rows of x, streaming the packed weights (gptq_layout.h) once.
//
// A tile is NV vectors of columns (up to a panel) x MB rows of x. Per
// unit it loads the words of every vector, takes value I of each with a
// shift and a mask, converts it, and FMAs it against x[m][k + I] broadcast:
// the inner loop is pure q * x. Scale and zero come in once per segment
// (group): out += s * acc - s * z * sum(x over the segment), the sums of x
// computed once per piece. With few accumulators (one row of x) they are
// split in two by the parity of I, so enough independent FMA chains cover
// the FMA latency. A software prefetch runs kGptqPrefetchBytes ahead in the
// panel stream (and on into the next panel, which is the thread's next).
//
// Each output is one tile's sum over K, in a fixed order: the result does
// not depend on how the columns are split among threads.
#pragma once

#include <cstdint>

#include "kernels/cpu/gptq_unpack_impl.h"
#include "kernels/cpu/kernel_set.h"

namespace gptq::cpu {
namespace {  // internal linkage: see kernel_set.h

// Bytes ahead of the current unit to prefetch in the panel stream.
// Measured on Zen 5 (8-bit 1024 x 384 from memory): 2 KiB streamed 39
// GB/s, 8 KiB 47 GB/s; 4-bit is bound by unpacking either way.
constexpr int64_t kGptqPrefetchBytes = 8192;

// Columns of a tile, in vectors: all of a panel while the accumulators
// (NV x MB, twice that when split) fit the registers (AVX-512: 32, AVX2
// and scalar: 16), else a part of it.
template <class V, int MB>
constexpr int gptq_tile_vectors() {
  if constexpr (V::W == 1) return 4;
  constexpr int panel = static_cast<int>(kPanelColumns / V::W);
  if constexpr (V::W == 16) return MB <= 2 ? panel : panel / 2;
  return MB == 1 ? panel : MB == 2 ? panel / 2 : panel / 4;
}

// x and xsum point at row 0 of the tile's rows; xsum has n_segments floats
// per row. n_valid: columns of the tile to store.
template <class V, int BITS, int NV, int MB>
void gptq_gemv_tile(const GptqLayout& layout, int64_t col, const float* x, int64_t ldx, const float* xsum,
                    const float* bias, float* y, int64_t ldy, int n_valid) {
  using vec = typename V::vec;
  using ivec = typename V::ivec;
  constexpr int W = V::W, kValues = unit_values(BITS), kSplit = NV * MB < 8 ? 2 : 1;
  constexpr int64_t kUnitBytes = unit_bytes(BITS), kWordRowBytes = kPanelColumns * 4;
  constexpr int64_t kTileLineBytes = (NV * W * 4 + 63) / 64 * 64;
  const TileColumns<V, NV> tile(layout, col);
  vec out[MB][NV];
  for (int m = 0; m < MB; ++m) {
    for (int v = 0; v < NV; ++v) out[m][v] = V::zero();
  }
  int64_t offset = 0;
  const float* xk = x;
  for (int32_t s = 0; s < layout.n_segments; ++s) {
    vec scale[NV], scaled_neg_zero[NV];
    tile.load_header(offset, scale, scaled_neg_zero);
    offset += kHeaderBytes;
    vec acc[kSplit][MB][NV];
    for (int h = 0; h < kSplit; ++h) {
      for (int m = 0; m < MB; ++m) {
        for (int v = 0; v < NV; ++v) acc[h][m][v] = V::zero();
      }
    }
    for (int32_t u = 0; u < layout.segment_units[s]; ++u) {
      for (int64_t row = 0; row < kUnitBytes; row += kWordRowBytes) {
        for (int64_t line = 0; line < kTileLineBytes; line += 64) {
          __builtin_prefetch(tile.words + offset + kGptqPrefetchBytes + row + line);
        }
      }
      ivec words[NV][unit_words(BITS)];
      tile.template load_unit<BITS>(offset, words);
      unrolled<kValues>([&]<int I>() {
        vec xv[MB];
        for (int m = 0; m < MB; ++m) xv[m] = V::set1(xk[m * ldx + I]);
        // Each value is used as soon as it is unpacked: AVX2 has no
        // registers to hold a whole panel's worth.
        for (int v = 0; v < NV; ++v) {
          const vec q = unit_value<V, BITS, I>(words[v]);
          for (int m = 0; m < MB; ++m) acc[I % kSplit][m][v] = V::fmadd(xv[m], q, acc[I % kSplit][m][v]);
        }
      });
      offset += kUnitBytes;
      xk += kValues;
    }
    for (int m = 0; m < MB; ++m) {
      const vec sum_x = V::set1(xsum[m * layout.n_segments + s]);
      for (int v = 0; v < NV; ++v) {
        const vec dot = kSplit == 2 ? V::add(acc[0][m][v], acc[kSplit - 1][m][v]) : acc[0][m][v];
        out[m][v] = V::fmadd(scaled_neg_zero[v], sum_x, V::fmadd(scale[v], dot, out[m][v]));
      }
    }
  }
  for (int v = 0; v < NV; ++v) {
    const int n = n_valid - v * W;
    if (n <= 0) break;
    const vec b = bias == nullptr ? V::zero() : n >= W ? V::load(bias + v * W) : V::load_part(bias + v * W, n);
    for (int m = 0; m < MB; ++m) {
      if (n >= W) {
        V::store(y + m * ldy + v * W, V::add(out[m][v], b));
      } else {
        V::store_part(y + m * ldy + v * W, V::add(out[m][v], b), n);
      }
    }
  }
}

// Columns [n0, n1) for MB rows (the storage is padded to whole panels, so
// the last tile may compute columns past n1; it stores none of them).
template <class V, int BITS, int MB>
void gptq_gemv_rows(const MatmulArgs& a, const float* x, const float* xsum, float* y, int64_t n0, int64_t n1) {
  constexpr int NV = gptq_tile_vectors<V, MB>();
  for (int64_t col = n0; col < n1; col += NV * V::W) {
    gptq_gemv_tile<V, BITS, NV, MB>(*a.gptq, col, x, a.ldx, xsum, a.bias != nullptr ? a.bias + col : nullptr, y + col,
                                    a.ldy, static_cast<int>(n1 - col));
  }
}

// Sums of each row of x over each segment, for the zero-point term.
template <class V>
void segment_sums(const GptqLayout& layout, const float* x, int64_t ldx, int64_t M, float* out) {
  const int64_t values = unit_values(layout.bits);
  for (int64_t m = 0; m < M; ++m) {
    for (int32_t s = 0; s < layout.n_segments; ++s) {
      const float* begin = x + m * ldx + layout.segment_first_unit[s] * values;
      const int64_t n = layout.segment_units[s] * values;  // a multiple of 4
      typename V::vec sum = V::zero();
      int64_t k = 0;
      for (; k + V::W <= n; k += V::W) sum = V::add(sum, V::load(begin + k));
      float total = V::reduce_add(sum);
      for (; k < n; ++k) total += begin[k];
      out[m * layout.n_segments + s] = total;
    }
  }
}

template <class V, int BITS>
void gptq_gemv_bits(const MatmulArgs& a, int64_t n0, int64_t n1, float* scratch) {
  segment_sums<V>(*a.gptq, a.x, a.ldx, a.M, scratch);
  const int64_t n_segments = a.gptq->n_segments;
  for (int64_t m = 0; m < a.M; m += 4) {
    const float* x = a.x + m * a.ldx;
    const float* xsum = scratch + m * n_segments;
    float* y = a.y + m * a.ldy;
    switch (a.M - m) {
      case 1: gptq_gemv_rows<V, BITS, 1>(a, x, xsum, y, n0, n1); break;
      case 2: gptq_gemv_rows<V, BITS, 2>(a, x, xsum, y, n0, n1); break;
      case 3: gptq_gemv_rows<V, BITS, 3>(a, x, xsum, y, n0, n1); break;
      default: gptq_gemv_rows<V, BITS, 4>(a, x, xsum, y, n0, n1); break;
    }
  }
}

template <class V>
void gptq_gemv(const MatmulArgs& args, int64_t n0, int64_t n1, float* scratch) {
  with_bits(args.gptq->bits, [&]<int BITS>() { gptq_gemv_bits<V, BITS>(args, n0, n1, scratch); });
}

}  // namespace
}  // namespace gptq::cpu
