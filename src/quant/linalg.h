// The dense linear algebra GPTQ needs on a K x K Hessian: the upper Cholesky
// factor of its inverse, through LAPACK (OpenBLAS where the build found it).
// Double precision: the Hessian of a wide layer is badly conditioned, and
// fp64 leaves the damping retry for genuinely singular cases.
#pragma once

#include <cstdint>
#include <vector>

namespace gptq {

// In place: A (symmetric positive definite, n x n, row-major) becomes U,
// upper triangular with a positive diagonal and A^-1 = U^T U (the lower
// triangle is zeroed). Returns false when A is not positive definite; A is
// then left partly overwritten. Fails with GPTQ_ERR_INVALID_ARGUMENT when n
// exceeds LAPACK's 32-bit index range.
bool upper_cholesky_of_inverse(std::vector<double>& a, int64_t n);

}  // namespace gptq
