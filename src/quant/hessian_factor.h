// The Hessian's share of GPTQ: everything that depends on H alone, computed
// once per input and reused by each linear reading that input (q, k and v
// share one; gate and up share one).
#pragma once

#include <cstdint>
#include <vector>

namespace gptq {

struct HessianFactor {
  int64_t cols = 0;                  // K: input features
  std::vector<uint8_t> dead;         // [K]: the input never fired (diag H == 0); its weights quantize to zero
  bool act_order = false;            // columns taken by decreasing diag H
  std::vector<int64_t> perm;         // [K]: position -> input column (act-order, else identity)
  std::vector<float> inverse_upper;  // [K][K]: U with (H + damp I)^-1 = U^T U, rows and columns in `perm` order
  double damp_used = 0;              // damping finally added to the diagonal
};

// From the K x K Hessian 2/n * sum x x^T (consumed): dead inputs, the
// act-order permutation (columns by decreasing diag H, stable) when
// `desc_act`, then damping of `damp_percent` * mean(diag H), raised tenfold
// while the Cholesky factorisation fails.
HessianFactor factor_hessian(std::vector<float> hessian, int64_t cols, bool desc_act, double damp_percent);

}  // namespace gptq
