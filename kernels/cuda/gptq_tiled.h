// The tiled GEMM: y = x . W^T + bias for more than 64 rows of x (batched
// decode, short prompts), fp16/bf16 compute on the tensor cores, sm_80 or newer;
// the arguments and data are gptq_gemm.h's.
//
// From a few dozen rows on, one dequantized fragment must feed many MMAs,
// and x must come from shared memory, not from each warp's own loads:
//  - A block computes four column strips (64 columns each) for 64 rows
//    (eight warps, two per strip, 32 rows each: up to 128 rows) or 64 rows
//    (four warps, one per strip: from 129 rows) over its share of K, so a
//    fragment a warp dequantizes serves two or four m16 tiles of x.
//  - Per 64-row k tile, x's rows (16-byte chunks XOR-swizzled by row, read
//    by ldmatrix), the strips' weight tiles (copied as laid out: every
//    lane reads back its own 16-byte words, conflict-free) and, for groups
//    of whole tiles, the tile's scales and zero points travel into shared
//    memory by cp.async, kTiledStages - 1 tiles ahead of the math.
//  - Weights and scales are fetched before the previous kernel finishes
//    (launch.cuh); x only after.
//  - Where column blocks x m blocks leave resident slots empty, K is split
//    over blocks as the streaming kernel splits it: one workspace slot per
//    split, the last block of a column block adds them in split order.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "kernels/cuda/gptq_gemm.h"

namespace gptq::gpu {

// The fewest rows Auto gives the tiled kernel (below, the streaming
// kernel's m16 forms were faster on the H200 on most layer shapes).
constexpr int kTiledMinRows = 65;

// cudaErrorInvalidValue where the kernel does not run (HIP, fp32).
cudaError_t launch_gptq_tiled(FloatType type, const GptqGemmArgs& args, cudaStream_t stream);

}  // namespace gptq::gpu
