// Prefill GEMM on GPTQ weights: the dense GEMM (gemm_impl.h) with a pack_b
// that dequantizes instead of converting.
//
// The layout already runs vector lanes along N, which is what the GEMM's B
// panels [k][NR] are, so a k block of panels is: per unit, load the words
// of the NR columns, and per value one shift + mask + convert and one FMA,
// w = q * s + s * -z (the reference's s * (q - z), rounded the same way),
// stored straight into row k of the panel. No transpose, unlike fp16
// weights. k blocks are whole units (k_align), and a block may span
// segments: the header is reloaded where the next one begins.
#pragma once

#include <cstdint>

#include "kernels/cpu/gemm_impl.h"
#include "kernels/cpu/gptq_unpack_impl.h"
#include "kernels/cpu/kernel_set.h"

namespace gptq::cpu {
namespace {  // internal linkage: see kernel_set.h

// Columns [c0, c0 + n) x packed rows [k0, k0 + kc) of the dequantized W into
// ceil(n / NR) panels of kc x NR floats. c0 is a multiple of NR, which
// divides kPanelColumns; columns past N come out zero (padded storage).
template <class V, int BITS>
void gptq_pack_b(const GptqLayout& layout, int64_t c0, int64_t n, int64_t k0, int64_t kc, float* out) {
  using vec = typename V::vec;
  using ivec = typename V::ivec;
  constexpr int W = V::W, NV = V::kNV, NR = W * NV, kValues = unit_values(BITS);
  constexpr int64_t kUnitBytes = unit_bytes(BITS);
  const int32_t u0 = static_cast<int32_t>(k0 / kValues), u1 = static_cast<int32_t>((k0 + kc) / kValues);
  int32_t first_segment = 0;
  while (layout.segment_first_unit[first_segment + 1] <= u0) ++first_segment;
  for (int64_t j = 0; j < n; j += NR) {
    const TileColumns<V, NV> tile(layout, c0 + j);
    float* panel = out + j * kc;
    int32_t s = first_segment;
    vec scale[NV], scaled_neg_zero[NV];
    tile.load_header(segment_offset(layout, s), scale, scaled_neg_zero);
    for (int32_t u = u0; u < u1; ++u) {
      if (u == layout.segment_first_unit[s + 1]) {
        ++s;  // segments are never empty
        tile.load_header(segment_offset(layout, s), scale, scaled_neg_zero);
      }
      const int64_t offset = segment_offset(layout, s) + kHeaderBytes + (u - layout.segment_first_unit[s]) * kUnitBytes;
      ivec words[NV][unit_words(BITS)];
      tile.template load_unit<BITS>(offset, words);
      float* rows = panel + int64_t{u - u0} * kValues * NR;
      unrolled<kValues>([&]<int I>() {
        for (int v = 0; v < NV; ++v) {
          V::store(rows + I * NR + v * W, V::fmadd(unit_value<V, BITS, I>(words[v]), scale[v], scaled_neg_zero[v]));
        }
      });
    }
  }
}

template <class V>
void gptq_gemm(const MatmulArgs& args, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch) {
  const GptqLayout& layout = *args.gptq;
  with_bits(layout.bits, [&]<int BITS>() {
    const auto pack = [&](int64_t c0, int64_t n, int64_t k0, int64_t kc, float* out) {
      gptq_pack_b<V, BITS>(layout, c0, n, k0, kc, out);
    };
    gemm_blocks<V>(args, m0, m1, n0, n1, unit_values(BITS), pack, scratch);
  });
}

}  // namespace
}  // namespace gptq::cpu
