// Builds the KernelSet of one ISA from the kernel templates; each
// kernel_set_<isa>.cpp instantiates it on its vector traits.
#pragma once

#include "kernels/cpu/attention_impl.h"
#include "kernels/cpu/gemm_impl.h"
#include "kernels/cpu/gemv_impl.h"
#include "kernels/cpu/gptq_gemm_impl.h"
#include "kernels/cpu/gptq_gemv_impl.h"
#include "kernels/cpu/kernel_set.h"

namespace gptq::cpu {
namespace {  // internal linkage: see kernel_set.h

// gemv_max_m: the M up to which streaming W unpacked (GEMV) beats packing
// it for the register-tiled GEMM. Measured on Zen 5 for a 1024 x 384 fp16
// matrix streamed from memory: AVX-512 crosses over between M = 32 and 40,
// AVX2 near 16, scalar (software fp16 conversion in every GEMV pass) at 4.
// gptq_gemv_max_m: the same for GPTQ weights.
template <class V>
constexpr KernelSet make_kernel_set(Isa isa, int64_t gemv_max_m, int64_t gptq_gemv_max_m) {
  return KernelSet{
      .isa = isa,
      .mr = V::kMR,
      .nr = V::W * V::kNV,
      .gemv_max_m = gemv_max_m,
      // Eight micro-panels of queries per tile: enough rows to amortize
      // packing each key block, few enough to share a prefill among threads.
      .attention_rows = 8 * V::kMR,
      .gemv = &gemv<V>,
      .gemm = &gemm<V>,
      .gptq_gemv_max_m = gptq_gemv_max_m,
      .gptq_gemv = &gptq_gemv<V>,
      .gptq_gemm = &gptq_gemm<V>,
      .row_to_float = &row_to_float<V>,
      .attention = &attention_tile<V>,
  };
}

}  // namespace
}  // namespace gptq::cpu
