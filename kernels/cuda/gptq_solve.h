// The GPU half of GPTQ's arithmetic (quant/cuda/gpu_gptq_device.cpp drives
// it; cuBLAS and cuSOLVER do the GEMMs and the factorisation): weights to
// the column-major fp32 layout the column loop walks, the Hessian's
// diagonal, damping and reversal around the Cholesky factorisation, the
// lazy-batch column loop with its group statistics, and the quantized
// weights back as dense weights (for the calibration pass) and packed
// (for the checkpoint). Each mirrors quant/gptq.cpp's and
// quant/hessian_factor.cpp's CPU code, rounding as it does
// (quant/group_range.h).
//
// Layouts: W [N][K] row-major as the checkpoint holds it; wt [K][N] (a
// column of W per row) in the order GPTQ visits the columns ("positions":
// the act-order permutation, or the identity); H [K][K] fp32.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "kernels/cuda/portability.h"

namespace gptq::gpu {

// Columns of one launch of the column loop (GPTQ's lazy-batch block) at most.
constexpr int kGptqMaxBlock = 128;

// wt[k][n] = W[n][k] as fp32 (W in `type`, rows `ld` elements apart), zero
// where dead[k] is set (inputs that never fired).
cudaError_t launch_gptq_load_weights(FloatType type, const void* w, int64_t ld, int32_t n, int32_t k,
                                     const uint8_t* dead, float* wt, cudaStream_t stream);

// out[p] = in[rows[p]] for rows of `width` floats.
cudaError_t launch_gptq_gather_rows(const float* in, const int32_t* rows, int32_t n_rows, int32_t width, float* out,
                                    cudaStream_t stream);

// Scale and zero point of every row n for the group of columns
// [col_begin, col_begin + count) of wt ([..][n_rows]).
cudaError_t launch_gptq_group_params(const float* wt, int32_t n_rows, int64_t col_begin, int64_t count, int bits,
                                     bool sym, bool mse, float* scale, float* zero, cudaStream_t stream);

// diag[i] = scale * H[i][i].
cudaError_t launch_hessian_diagonal(const float* h, int32_t k, float scale, float* diag, cudaStream_t stream);

// a = J P^T (scale * H) P J + damp I in fp64, J the reversal and P the
// positions' permutation: what one Cholesky factorisation and one
// triangular inverse turn into the upper factor of the inverse (see
// quant/linalg.cpp). A dead input's diagonal is 1 before damping.
cudaError_t launch_hessian_damped_reversed(const float* h, int32_t k, float scale, const int32_t* positions,
                                           const uint8_t* dead, double damp, double* a, cudaStream_t stream);

// u[i][j] = a[K-1-i][K-1-j] for j >= i, else 0: the reversed factor as the
// column loop reads it, in fp32.
cudaError_t launch_inverse_upper_from_reversed(const double* a, int32_t k, float* u, cudaStream_t stream);

// One lazy-batch block of GPTQ's column loop, columns [i1, i1 + count) of
// wt, for every row.
struct GptqBlockArgs {
  const float* wt = nullptr;   // [K][N], updated by the blocks before
  const float* u = nullptr;    // [K][K] upper factor of H^-1, in position order
  int32_t n = 0, k = 0;
  int64_t i1 = 0;
  int32_t count = 0;           // <= kGptqMaxBlock
  int32_t bits = 4;
  bool sym = true, mse = false;
  // Group of each position. With `find_groups`, a group's statistics are
  // found (and stored) when its first position comes up, from wt as the
  // earlier blocks left it (AutoGPTQ's order); otherwise they are read.
  const int32_t* column_group = nullptr;
  bool find_groups = false;
  int32_t group_size = 0;
  float* scales = nullptr;     // [G][N]
  float* zeros = nullptr;      // [G][N]
  uint8_t* codes = nullptr;    // [K][N], by position
  float* err = nullptr;        // [count][N]: (w - q) / d of the block's columns
  double* row_loss = nullptr;  // [N], accumulated
};
cudaError_t launch_gptq_block(const GptqBlockArgs& args, cudaStream_t stream);

// w[n][columns[p]] = fp16(scale[g][n]) * (codes[p][n] - zero[g][n]), g the
// position's group: the weights the checkpoint will hold, in `type`.
cudaError_t launch_gptq_dequantize(FloatType type, const uint8_t* codes, const int32_t* columns,
                                   const int32_t* column_group, const float* scales, const float* zeros, int32_t n,
                                   int32_t k, void* w, cudaStream_t stream);

// qweight [K*bits/32][N]: the codes of columns k = 0..K-1 (codes by
// position, position[k] the position of column k) in the GPTQ stream
// layout (quant/pack.h).
cudaError_t launch_gptq_pack(const uint8_t* codes, const int32_t* position, int32_t n, int32_t k, int bits,
                             int32_t* qweight, cudaStream_t stream);

}  // namespace gptq::gpu
