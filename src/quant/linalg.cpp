#include "quant/linalg.h"

#include <cmath>

namespace gptq {

bool cholesky_lower(std::vector<double>& a, int64_t n) {
  // Row-oriented Cholesky–Crout: row i of L needs rows < i, read
  // contiguously, so the inner loops are dot products over rows.
  for (int64_t i = 0; i < n; ++i) {
    double* row_i = &a[i * n];
    for (int64_t j = 0; j <= i; ++j) {
      const double* row_j = &a[j * n];
      double sum = row_i[j];
      for (int64_t k = 0; k < j; ++k) sum -= row_i[k] * row_j[k];
      if (i == j) {
        if (!(sum > 0.0) || !std::isfinite(sum)) return false;
        row_i[i] = std::sqrt(sum);
      } else {
        row_i[j] = sum / row_j[j];
      }
    }
    for (int64_t j = i + 1; j < n; ++j) row_i[j] = 0.0;
  }
  return true;
}

void inverse_from_cholesky(const std::vector<double>& l, int64_t n, std::vector<double>& inverse) {
  // X = L^-1 (lower triangular), then A^-1 = X^T X.
  std::vector<double> x(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    x[i * n + i] = 1.0 / l[i * n + i];
    for (int64_t j = 0; j < i; ++j) {
      double sum = 0.0;
      for (int64_t k = j; k < i; ++k) sum += l[i * n + k] * x[k * n + j];
      x[i * n + j] = -sum / l[i * n + i];
    }
  }
  inverse.assign(n * n, 0.0);
  for (int64_t k = 0; k < n; ++k) {
    const double* row = &x[k * n];
    // Row k of X contributes row[i] * row[j] for i, j <= k.
    for (int64_t i = 0; i <= k; ++i) {
      const double v = row[i];
      if (v == 0.0) continue;
      double* out = &inverse[i * n];
      for (int64_t j = 0; j <= k; ++j) out[j] += v * row[j];
    }
  }
}

bool cholesky_upper(std::vector<double>& a, int64_t n) {
  // A = U^T U with U = L^T of the lower factorisation.
  if (!cholesky_lower(a, n)) return false;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = i + 1; j < n; ++j) {
      a[i * n + j] = a[j * n + i];
      a[j * n + i] = 0.0;
    }
  }
  return true;
}

}  // namespace gptq
