#include "quant/linalg.h"

#include <algorithm>
#include <climits>

#include "core/error.h"
#include "quant/lapack.h"

namespace gptq {

// AutoGPTQ forms H^-1 (Cholesky, then the inverse from it) and factors it
// again: 4/3 n^3 flops. With J the reversal permutation, J A J = M M^T gives
// A = R R^T with R = J M J upper triangular, so A^-1 = R^-T R^-1 and R^-1
// is already the upper factor wanted: one Cholesky and one triangular
// inverse, 2/3 n^3 flops, and no explicit inverse to lose accuracy in.
// Reversing a row-major buffer is J A J; a symmetric matrix reads the same
// in either order, so LAPACK's column-major 'U' factor is our row-major
// lower one.
bool upper_cholesky_of_inverse(std::vector<double>& a, int64_t n) {
  if (n > INT_MAX / 2 || static_cast<int64_t>(a.size()) != n * n) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, "a ", n, " x ", n, " matrix is out of the linear algebra's range");
  }
  if (n == 0) return true;
  const int dim = static_cast<int>(n);
  int info = 0;
  std::reverse(a.begin(), a.end());
  dpotrf_("U", &dim, a.data(), &dim, &info, 1);
  if (info != 0) return false;
  dtrtri_("U", "N", &dim, a.data(), &dim, &info, 1, 1);
  if (info != 0) return false;
  // The row-major lower triangle now holds M^-1; the upper one, untouched
  // by LAPACK, still holds the input.
  for (int64_t i = 0; i < n; ++i) std::fill(&a[i * n + i + 1], &a[(i + 1) * n], 0.0);
  std::reverse(a.begin(), a.end());
  return true;
}

}  // namespace gptq
