// Cache-blocked GEMM for prefill: y[m0:m1, n0:n1] = x . W^T + bias, one
// thread's block, complete over K.
//
// Loop nest (the BLIS order), outermost first:
//   column blocks of <= kGemmNc
//     k blocks of <= kGemmKc    pack B: W[cols, k-block] -> fp32 panels
//                               [k][NR], converted once per call (L2)
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
template <class V, WeightType T>
void gemm_columns(const MatmulArgs& args, int64_t m0, int64_t m1, int64_t n0, int64_t n, float* scratch) {
  constexpr int MR = V::kMR, NR = V::W * V::kNV;
  constexpr int64_t MC = kGemmMc / MR * MR;
  constexpr int64_t esize = weight_bytes(T);
  const int64_t K = args.w.n_cols;
  const int64_t row_bytes = args.w.row_stride * esize;
  const uint8_t* w = static_cast<const uint8_t*>(args.w.data) + n0 * row_bytes;
  float* b_pack = scratch;
  float* a_pack = scratch + kGemmKc * kGemmNc;

  // Equal k blocks: K = 1000 runs as 2 x 500 rather than 512 + 488.
  const int64_t k_blocks = (K + kGemmKc - 1) / kGemmKc;
  const int64_t k_step = (K + k_blocks - 1) / k_blocks;
  for (int64_t k0 = 0; k0 < K; k0 += k_step) {
    const int64_t kc = K - k0 < k_step ? K - k0 : k_step;
    const bool first = k0 == 0;
    pack_b<V, T>(w + k0 * esize, row_bytes, n, kc, b_pack);
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

template <class V, WeightType T>
void gemm_typed(const MatmulArgs& args, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch) {
  // Equal column blocks of whole panels, so no block is a sliver.
  constexpr int NR = V::W * V::kNV;
  const int64_t panels = (n1 - n0 + NR - 1) / NR, max_panels = kGemmNc / NR;
  const int64_t blocks = (panels + max_panels - 1) / max_panels;
  const int64_t step = (panels + blocks - 1) / blocks * NR;
  for (int64_t j0 = n0; j0 < n1; j0 += step) {
    gemm_columns<V, T>(args, m0, m1, j0, n1 - j0 < step ? n1 - j0 : step, scratch);
  }
}

template <class V>
void gemm(const MatmulArgs& args, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch) {
  with_weight_type(args.w.type, [&]<WeightType T>() { gemm_typed<V, T>(args, m0, m1, n0, n1, scratch); });
}

}  // namespace
}  // namespace gptq::cpu
