// The warpgroup GEMM: y = x . W^T + bias for many rows of x (prefill,
// large batches), fp16/bf16 compute on Hopper's wgmma (sm_90a only); the
// arguments and data are gptq_gemm.h's.
//
// Why: mma.sync kernels issue their own dequantization beside every MMA
// from few warps and reached a quarter of the tensor cores' rate
// (bench/gpu/NOTES.md, fifth pass), and dequantizing whole matrices for
// cuBLAS costs a write and a read of the fp16 weights per call. Here a
// block dequantizes each weight tile once into shared memory, where one
// asynchronous wgmma per warpgroup and k16 step reads it for 64 rows of x,
// so a tile's dequantization serves 128 rows and overlaps the products of
// the tile before:
//  - A block computes two column strips (128 columns) for 128 rows (two
//    warpgroups of 64 rows), or 64 rows (one warpgroup), over its share
//    of K.
//  - Per 64-row k tile, x's rows, the strips' weight tiles and their group
//    parameters travel into shared memory by cp.async, kWgmmaStages - 1
//    tiles ahead; each warp then dequantizes one (strip, k16 step) of the
//    tile into the B operand's layout, double-buffered, so the wgmmas of
//    tile i run while tile i + 1 is dequantized.
//  - Operands are K-major without swizzling: 8 x 8 core matrices of 128
//    contiguous bytes. A warp's dequantized fragment register is exactly
//    one core matrix (lane l holds row l / 4, bytes 4 (l % 4)), so the
//    stores are conflict-free.
//  - Where blocks leave resident slots empty, K is split over blocks as
//    in the tiled kernel (gptq_tiled.h).
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "kernels/cuda/gptq_gemm.h"

namespace gptq::gpu {

// The fewest rows Auto gives the warpgroup kernel where it runs (below,
// the tiled and streaming kernels: measured on the H200, bench/gpu/NOTES.md).
int32_t wgmma_min_rows();

// Whether the warpgroup kernel runs on the current device: a compute
// capability 9.0 GPU and a library built with sm_90a code.
bool gptq_wgmma_runs();

// cudaErrorInvalidValue where it does not run (see above, HIP, fp32).
cudaError_t launch_gptq_wgmma(FloatType type, const GptqGemmArgs& args, cudaStream_t stream);

}  // namespace gptq::gpu
