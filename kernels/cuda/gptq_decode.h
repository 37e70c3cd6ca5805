// The decode GEMM: y = x . W^T + bias for up to kDecodeMaxRows rows of x
// (decode steps, small batches), fp16/bf16 compute, sm_80 or newer; the
// arguments and data are gptq_gemm.h's.
//
// At these rows the time is the weights' bytes, so the kernel is built to
// keep the memory system full from the first cycle to the last:
//  - Every warp is its own worker over a contiguous run of the tiles in
//    strip-major order (Marlin's striped partition): all workers are
//    resident at once, each streams the same number of tiles whatever the
//    shape, and no wave is left half empty.
//  - A worker's tiles (and the tile's scales and zero points) travel into
//    a private ring of shared memory by cp.async, several tiles ahead:
//    bytes in flight cost no registers, and each lane copies exactly the
//    16-byte words it reads back, so no block-wide barrier is needed.
//  - The product is taken transposed (weights as the m16 A, x as n8 B
//    tiles). With groups of whole tiles and (magic + q) exact in the type,
//    the tensor cores sum (magic + q) x and, once per tile, the x values
//    themselves (a ones matrix as A); each column's tile sum is then
//    s (sum - (magic + z) sum x), two FMAs: no dequantization arithmetic
//    beyond a mask and an OR per pair of codes.
//  - A strip shared by several workers gets one partial-sum slot per
//    worker; the last to finish (a counter per strip) adds them in worker
//    order and writes y, so results do not depend on timing.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "kernels/cuda/gptq_gemm.h"

namespace gptq::gpu {

constexpr int kDecodeMaxRows = 16;

// Whether the decode kernel beats the streaming one (gptq_gemm.h) here.
// Measured on the H200 (bench/gpu/NOTES.md): only where every resident
// worker streams dozens of tiles, so its start and its share of the split
// sums vanish: at M = 1, 1.09x faster on 8192x57344 (54 tiles a worker),
// 0.85x on 28672x8192 (27), slower still on smaller layers; and for up to
// 8 rows (16 rows take twice the MMAs a tile and lose everywhere).
bool gptq_decode_pays(const GptqGemmArgs& args);

// Floats of workspace the decode kernel may use for these outputs at most.
int64_t gptq_decode_workspace_floats(const GptqGemmArgs& args);

// cudaErrorInvalidValue where the kernel does not run (HIP, fp32, more rows).
cudaError_t launch_gptq_decode(FloatType type, const GptqGemmArgs& args, cudaStream_t stream);

}  // namespace gptq::gpu
