// Cache-blocked GEMM for prefill: y[m0:m1, n0:n1] = x . W^T + bias, one
// thread's block, complete over K.
//
// Loop nest (the BLIS order), outermost first:
//   column blocks of <= kGemmNc
//     k blocks of <= kGemmKc    pack B: W[cols, k-block] -> fp32 panels
//                               [k][NR], converted once per call (L2);
//                               GPTQ weights are dequantized here
//                               (gptq_gemm_impl.h)
//       row blocks of kGemmMc   pack A: x rows -> micro-panels [k][MR] (L2)
//         column panels (NR)    one B micro-panel is reused ...
//           row panels (MR)     ... by every A micro-panel of the row block
//             microkernel: MR x NR tile accumulated in registers over k.
// The first k block writes y (adding the bias), later ones accumulate, so
// every output is summed in the same order whatever the thread split.
#pragma once

#include <cstdint>

#include "kernels/cpu/kernel_set.h"
#include "kernels/cpu/micro_impl.h"
#include "kernels/cpu/pack_impl.h"

namespace gptq::cpu {
namespace {  // internal linkage: see kernel_set.h

// One column block (n <= kGemmNc) of the thread's part of y.
// pack_b(c0, n, k0, kc, out) packs columns [c0, c0 + n) of y (rows of W)
// over k in [k0, k0 + kc) into fp32 panels [k][NR]; k blocks start at
// multiples of k_align.
template <class V, class PackB>
void gemm_columns(const MatmulArgs& args, int64_t m0, int64_t m1, int64_t n0, int64_t n, int64_t k_align,
                  const PackB& pack_b, float* scratch) {
  constexpr int MR = V::kMR, NR = V::W * V::kNV;
  constexpr int64_t MC = kGemmMc / MR * MR;
  const int64_t K = args.w.n_cols;
  float* b_pack = scratch;
  float* a_pack = scratch + kGemmKc * kGemmNc;

  // Equal k blocks: K = 1000 runs as 2 x 500 rather than 512 + 488.
  // (kGemmKc is a multiple of any k_align, so aligned blocks still fit.)
  const int64_t k_blocks = (K + kGemmKc - 1) / kGemmKc;
  const int64_t k_step = round_up((K + k_blocks - 1) / k_blocks, k_align);
  for (int64_t k0 = 0; k0 < K; k0 += k_step) {
    const int64_t kc = K - k0 < k_step ? K - k0 : k_step;
    const bool first = k0 == 0;
    pack_b(n0, n, k0, kc, b_pack);
    for (int64_t i0 = m0; i0 < m1; i0 += MC) {
      const int64_t mc = m1 - i0 < MC ? m1 - i0 : MC;
      for (int64_t p = 0; p * MR < mc; ++p) {
        const float* rows[MR];
        const int valid = static_cast<int>(mc - p * MR < MR ? mc - p * MR : MR);
        for (int i = 0; i < valid; ++i) rows[i] = args.x + (i0 + p * MR + i) * args.ldx + k0;
        pack_a<V, MR>(rows, valid, kc, 1.0f, a_pack + p * MR * kc);
      }
      for (int64_t j = 0; j < n; j += NR) {
        const int cols = static_cast<int>(n - j < NR ? n - j : NR);
        const float* bias = first && args.bias != nullptr ? args.bias + n0 + j : nullptr;
        const float* b = b_pack + j * kc;
        for (int64_t p = 0; p * MR < mc; ++p) {
          const int valid = static_cast<int>(mc - p * MR < MR ? mc - p * MR : MR);
          float* c = args.y + (i0 + p * MR) * args.ldy + n0 + j;
          gemm_micro<V>(valid)(kc, a_pack + p * MR * kc, b, NR, c, args.ldy, cols, bias, !first);
        }
      }
    }
  }
}

// The block [m0, m1) x [n0, n1) of y, in column blocks of <= kGemmNc.
template <class V, class PackB>
void gemm_blocks(const MatmulArgs& args, int64_t m0, int64_t m1, int64_t n0, int64_t n1, int64_t k_align,
                 const PackB& pack_b, float* scratch) {
  // Equal column blocks of whole panels, so no block is a sliver.
  constexpr int NR = V::W * V::kNV;
  const int64_t panels = (n1 - n0 + NR - 1) / NR, max_panels = kGemmNc / NR;
  const int64_t blocks = (panels + max_panels - 1) / max_panels;
  const int64_t step = (panels + blocks - 1) / blocks * NR;
  for (int64_t j0 = n0; j0 < n1; j0 += step) {
    gemm_columns<V>(args, m0, m1, j0, n1 - j0 < step ? n1 - j0 : step, k_align, pack_b, scratch);
  }
}

template <class V>
void gemm(const MatmulArgs& args, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch) {
  with_weight_type(args.w.type, [&]<FloatType T>() {
    constexpr int64_t esize = weight_bytes(T);
    const int64_t row_bytes = args.w.row_stride * esize;
    const uint8_t* w = static_cast<const uint8_t*>(args.w.data);
    const auto pack = [&](int64_t c0, int64_t n, int64_t k0, int64_t kc, float* out) {
      pack_b<V, T>(w + c0 * row_bytes + k0 * esize, row_bytes, n, kc, out);
    };
    gemm_blocks<V>(args, m0, m1, n0, n1, 1, pack, scratch);
  });
}

}  // namespace
}  // namespace gptq::cpu
