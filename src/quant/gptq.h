// GPTQ (Frantar et al. 2022) on one weight matrix, as AutoGPTQ runs it:
// dead columns, damping of mean(diag H), optional act-order permutation,
// upper Cholesky factor of H^-1, lazy-batch updates in blocks of 128
// columns, group parameters found when a group's first column comes up
// (from the weights as updated by earlier blocks), static groups fixed up
// front. Round-to-nearest with the same grouping is the baseline.
#pragma once

#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "quant/hessian_factor.h"

namespace gptq {

struct GptqOptions {
  int bits = 4;
  int group_size = 128;  // -1: one group
  bool desc_act = false;
  bool sym = true;
  bool static_groups = false;
  double damp_percent = 0.01;
  int block_size = 128;
  bool mse = false;  // grid-search scales (AutoGPTQ's mse option: norm 2.4, grid 100, shrink to 0.2)
};

struct QuantizedMatrix {
  int64_t rows = 0;  // N: output features
  int64_t cols = 0;  // K: input features
  int bits = 4;
  std::vector<uint8_t> codes;    // [N][K], original column order
  std::vector<float> scales;     // [G][N], as the algorithm used them (fp32)
  std::vector<int32_t> zeros;    // [G][N], true zero points
  std::vector<int32_t> g_idx;    // [K]
  double loss = 0;               // sum over the matrix of (w - q)^2 / d^2 / 2 (AutoGPTQ's Losses)
  double damp_used = 0;          // damping finally added to the diagonal

  int64_t n_groups() const { return rows == 0 ? 0 : static_cast<int64_t>(scales.size()) / rows; }
};

// W is [N][K] row-major; `factor` is the Hessian's, from factor_hessian
// (linears that share an input share it): its act-order and damping stand
// in for the options'.
QuantizedMatrix gptq_quantize_matrix(ThreadPool& pool, const float* weights, int64_t rows, int64_t cols,
                                     const HessianFactor& factor, const GptqOptions& options);

// The same from H, the K x K Hessian 2/n * sum x x^T (consumed).
QuantizedMatrix gptq_quantize_matrix(ThreadPool& pool, const float* weights, int64_t rows, int64_t cols,
                                     std::vector<float> hessian, const GptqOptions& options);

// Round-to-nearest with the same grouping (no Hessian).
QuantizedMatrix rtn_quantize_matrix(ThreadPool& pool, const float* weights, int64_t rows, int64_t cols,
                                    const GptqOptions& options);

// [N][K] weights as the checkpoint will hold them: scales rounded to fp16.
std::vector<float> dequantize_matrix(const QuantizedMatrix& q);

}  // namespace gptq
