#include "quant/hessian_factor.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "core/log.h"
#include "quant/linalg.h"

namespace gptq {
namespace {

// The damping AutoGPTQ adds and the upper Cholesky factor of the inverse.
std::vector<float> damped_inverse_upper(const std::vector<float>& h, int64_t n, double damp_percent,
                                        double* damp_used) {
  double mean_diag = 0.0;
  for (int64_t i = 0; i < n; ++i) mean_diag += h[i * n + i];
  mean_diag /= static_cast<double>(n);
  double damp = damp_percent * mean_diag;
  std::vector<double> factor;
  for (int attempt = 0;; ++attempt) {
    factor.assign(h.begin(), h.end());
    for (int64_t i = 0; i < n; ++i) factor[i * n + i] += damp;
    if (upper_cholesky_of_inverse(factor, n)) break;
    if (attempt == 6) fail(GPTQ_ERR_INTERNAL, "the Hessian stays singular even with damping ", damp);
    log_warn("Cholesky factorisation failed with damping ", damp, "; retrying with ", damp * 10);
    damp *= 10;
  }
  *damp_used = damp;
  return std::vector<float>(factor.begin(), factor.end());
}

}  // namespace

HessianFactor factor_hessian(std::vector<float> h, int64_t cols, bool desc_act, double damp_percent) {
  const int64_t K = cols;
  if (K <= 0 || static_cast<int64_t>(h.size()) != K * K) fail(GPTQ_ERR_INVALID_ARGUMENT, "Hessian size mismatch");
  HessianFactor f;
  f.cols = K;
  f.dead.assign(K, 0);
  for (int64_t k = 0; k < K; ++k) {
    if (h[k * K + k] == 0.0f) {
      h[k * K + k] = 1.0f;
      f.dead[k] = 1;
    }
  }
  f.perm.resize(K);
  std::iota(f.perm.begin(), f.perm.end(), 0);
  f.act_order = desc_act;
  if (desc_act) {
    std::stable_sort(f.perm.begin(), f.perm.end(), [&](int64_t a, int64_t b) { return h[a * K + a] > h[b * K + b]; });
    std::vector<float> hp(K * K);
    for (int64_t i = 0; i < K; ++i) {
      for (int64_t j = 0; j < K; ++j) hp[i * K + j] = h[f.perm[i] * K + f.perm[j]];
    }
    h.swap(hp);
  }
  f.inverse_upper = damped_inverse_upper(h, K, damp_percent, &f.damp_used);
  return f;
}

}  // namespace gptq
