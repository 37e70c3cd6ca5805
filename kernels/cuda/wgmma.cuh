// The sm_90a warpgroup MMA (wgmma) as inline PTX, for gptq_wgmma.cu:
// shared-memory matrix descriptors, the fences and group waits, and the
// m64n128k16 product with fp32 accumulators. Only compiled where the
// architecture-specific sm_90a features are (GPTQ_HAS_WGMMA); the kernels
// have no body elsewhere, and the host checks which binary it runs
// (gptq_wgmma_runs) before taking them.
#pragma once

#include <cstdint>
#include <type_traits>

#include "kernels/cuda/portability.h"

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define GPTQ_HAS_WGMMA 1
#else
#define GPTQ_HAS_WGMMA 0
#endif

namespace gptq::gpu {

#if GPTQ_HAS_WGMMA

// A descriptor of a K-major operand without swizzling: 8 x 8 "core
// matrices" of 8 rows by 16 bytes, each 128 contiguous bytes;
// `k_stride` bytes between core matrices neighbouring in K (the leading
// dimension offset), `mn_stride` bytes between those neighbouring in M or N
// (the stride dimension offset).
__device__ __forceinline__ uint64_t wgmma_descriptor(const void* smem, uint32_t k_stride, uint32_t mn_stride) {
  const uint32_t address = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
  return uint64_t{(address & 0x3FFFFu) >> 4} | (uint64_t{(k_stride >> 4) & 0x3FFFu} << 16) |
         (uint64_t{(mn_stride >> 4) & 0x3FFFu} << 32);
}

// Before the first wgmma of a batch: the accumulators' registers and the
// shared memory they read are ready.
__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
// Until at most `Pending` of this warpgroup's committed batches run.
template <int Pending>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(Pending) : "memory");
}
// Keeps the compiler from moving ordinary instructions that touch the
// accumulators in between the wgmmas that use them, which would make ptxas
// serialise the wgmmas (warning C7515).
__device__ __forceinline__ void wgmma_fence_operands(float (&d)[64]) {
#pragma unroll
  for (int i = 0; i < 64; ++i) asm volatile("" : "+f"(d[i])::"memory");
}

// Shared memory written by ordinary stores (and cp.async) made visible to
// the wgmma's reads, which go through the async proxy.
__device__ __forceinline__ void fence_shared_for_wgmma() {
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}

// One m64n128k16 product; TYPE is the PTX type of A and B (f16, bf16).
#define GPTQ_WGMMA_M64N128K16(TYPE)                                              \
  asm volatile(                                                                   \
      "{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"                               \
      "wgmma.mma_async.sync.aligned.m64n128k16.f32." TYPE "." TYPE " {"             \
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, " \
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, " \
      "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, " \
      "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63" \
      "}, %64, %65, p, 1, 1, 0, 0;\n}\n"                                           \
      :                                                                           \
      "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), \
      "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), \
      "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), \
      "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), \
      "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), \
      "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), \
      "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), \
      "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]) \
      : "l"(a), "l"(b), "r"(accumulate))

// d (64 x 128 per warpgroup, fp32) += A (64 x 16) B (16 x 128)^T, both from
// shared memory: d[4j + 2h + c] is row 16 (warp % 4) + lane / 4 + 8h,
// column 8j + 2 (lane % 4) + c. accumulate = 0 overwrites d.
template <typename T>
__device__ __forceinline__ void wgmma_m64n128k16(float (&d)[64], uint64_t a, uint64_t b, uint32_t accumulate = 1) {
  if constexpr (std::is_same_v<T, __half>) {
    GPTQ_WGMMA_M64N128K16("f16");
  } else {
    GPTQ_WGMMA_M64N128K16("bf16");
  }
}

#undef GPTQ_WGMMA_M64N128K16

#endif  // GPTQ_HAS_WGMMA

}  // namespace gptq::gpu
