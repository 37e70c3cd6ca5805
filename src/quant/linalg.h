// The dense linear algebra GPTQ needs on a K x K Hessian: Cholesky
// factorisation, the inverse from it, and the upper factor of that inverse.
// Row-major, double precision (the Hessian of a wide layer is badly
// conditioned; fp64 leaves the damping retry for genuinely singular cases).
#pragma once

#include <cstdint>
#include <vector>

namespace gptq {

// In place: A (symmetric positive definite, n x n) becomes L with A = L L^T
// in its lower triangle (upper triangle zeroed). Returns false when A is not
// positive definite (A is then left partly overwritten).
bool cholesky_lower(std::vector<double>& a, int64_t n);

// From L (A = L L^T) computes A^-1 into `inverse`.
void inverse_from_cholesky(const std::vector<double>& l, int64_t n, std::vector<double>& inverse);

// In place: A (SPD) becomes U, upper triangular, with A = U^T U.
// Returns false when A is not positive definite.
bool cholesky_upper(std::vector<double>& a, int64_t n);

}  // namespace gptq
