// The few LAPACK routines libgptq calls, declared by hand: Debian's
// liblapack-dev and OpenBLAS ship no C prototypes for the Fortran symbols
// that every LAPACK (reference, OpenBLAS, MKL) exports. Column-major,
// arguments by pointer, hidden string lengths last (gfortran's convention).
#pragma once

#include <cstddef>

extern "C" {
// Cholesky factorisation of an SPD matrix; info > 0: not positive definite.
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info, size_t uplo_len);
// Inverse of an SPD matrix from its Cholesky factor.
void dpotri_(const char* uplo, const int* n, double* a, const int* lda, int* info, size_t uplo_len);
// Inverse of a triangular matrix in place.
void dtrtri_(const char* uplo, const char* diag, const int* n, double* a, const int* lda, int* info, size_t uplo_len,
             size_t diag_len);
}
