// y = x . W^T + bias for GPTQ-quantized W in the GPU layout
// (gptq_layout.h), on the device.
//
// Data: x is [M][K'] row-major in the compute type, its columns in the
// layout's row order (gather it with launch_gather_columns when the layout
// has a row_source; x may be read in place otherwise, with ld_x a multiple
// of 8 and x 16-byte aligned for the tiled kernel); y is [M][N] (ld_y),
// bias [N], both in the compute type. fp32 accumulation everywhere.
//
// Kernels, chosen per call by M and type:
//  - decode (fp16/bf16, up to 16 rows; Auto takes it where it pays, see
//    gptq_decode_pays): gptq_decode.h.
//  - streaming (fp16/bf16): the tensor cores on 32 or 64-row blocks (two
//    or four m16 tiles share each dequantized fragment); up to 16 rows
//    take the product transposed (weights as A, x as one or two n8 B
//    tiles sharing each fragment) and, when groups are whole 64-row
//    tiles, sum (magic + q) x and -(magic + z) x on
//    the tensor cores, scaling each tile's sums once per column; each warp
//    keeping its next tile's weights and scales in flight; up to 64 rows,
//    K is split over blocks so every SM streams weights, each split's
//    partial sums go to its own workspace slot and the last block of a
//    column strip adds them in order (one launch, deterministic). More rows
//    run more m blocks over the same weights (from L2).
//  - tiled (fp16/bf16, from 65 rows): gptq_tiled.h.
//  - warpgroup (fp16/bf16, from wgmma_min_rows() rows, H100/H200 with an
//    sm_90a build): gptq_wgmma.h.
//  - SIMT (fp32, HIP): the streaming kernel's structure with fp32 FMAs
//    instead of the tensor cores, 4 rows per block, any M.
// Several outputs of the same x (q, k, v; gate, up) run as one launch.
// Minimum GPU for the tensor-core kernels: sm_80.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "kernels/cuda/gptq_layout.h"
#include "kernels/cuda/portability.h"

namespace gptq::gpu {

constexpr int kMaxGemmOutputs = 3;

struct GptqGemmOutput {
  GptqTiles w;
  void* y = nullptr;
  int64_t ld_y = 0;
  const void* bias = nullptr;  // compute type, or null
};

struct GptqGemmArgs {
  const void* x = nullptr;
  int64_t ld_x = 0;
  int32_t m = 0;
  GptqGemmOutput outputs[kMaxGemmOutputs];
  int32_t n_outputs = 0;  // all with the same bits, K' and row order
  // Split-K scratch: workspace_floats floats (K is split only as far as
  // they hold, gptq_workspace_floats recommends a size) and gptq_counters
  // zeroed ints (left zeroed).
  float* workspace = nullptr;
  int64_t workspace_floats = 0;
  int32_t* counters = nullptr;
  int32_t sm_count = 132;
};

enum class GptqKernel : uint8_t { Auto, Decode, Stream, Tiled, Wgmma, Simt };

// The kernel Auto picks for these rows, outputs and type.
GptqKernel choose_gptq_kernel(FloatType type, const GptqGemmArgs& args);

// For any M (they depend on the outputs only).
int64_t gptq_workspace_floats(const GptqGemmArgs& args);
int64_t gptq_counters(const GptqGemmArgs& args);

cudaError_t launch_gptq_gemm(FloatType type, const GptqGemmArgs& args, GptqKernel kernel, cudaStream_t stream);

// The dequantized weights of column strips [first_tile, first_tile +
// n_tiles) as a dense [K'][n_tiles * 64] matrix (ld_out elements per row),
// rounded as the tensor-core kernels round them: for cuBLAS at large M,
// and for tests.
cudaError_t launch_gptq_dequantize(FloatType type, const GptqTiles& w, int32_t first_tile, int32_t n_tiles, void* out,
                                   int64_t ld_out, cudaStream_t stream);

}  // namespace gptq::gpu
