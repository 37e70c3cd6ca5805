// GPTQ's linear algebra on one K x K Hessian: damped H -> upper Cholesky
// factor of H^-1, at the widths of real models' linears.
//
//   bench_linalg [--sizes 1024,2048,...] [--landed-max N] [--reps N]
//
// Three ways, each timed on the same matrix:
//   landed:  the hand-written row-oriented Cholesky, inverse and upper
//            Cholesky libgptq shipped before LAPACK (kept here as the
//            baseline; run up to --landed-max, default 4096, as it takes
//            minutes past that);
//   3-step:  what AutoGPTQ does, through LAPACK: dpotrf, dpotri, dpotrf;
//   libgptq: upper_cholesky_of_inverse (dpotrf + dtrtri on the reversed
//            matrix), what the quantizer runs.
// The last column is the largest |difference| between the 3-step's factor
// and libgptq's, relative to the factor's largest entry. Timings are
// printed, never asserted; run with OPENBLAS_NUM_THREADS to pin threads.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "quant/lapack.h"
#include "quant/linalg.h"

extern "C" char* openblas_get_config() __attribute__((weak));
extern "C" int openblas_get_num_threads() __attribute__((weak));

namespace {

using Matrix = std::vector<double>;

// The code libgptq shipped first (src/quant/linalg.cpp before LAPACK).
namespace landed {

bool cholesky_lower(Matrix& a, int64_t n) {
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

void inverse_from_cholesky(const Matrix& l, int64_t n, Matrix& inverse) {
  Matrix x(n * n, 0.0);
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
    for (int64_t i = 0; i <= k; ++i) {
      const double v = row[i];
      if (v == 0.0) continue;
      double* out = &inverse[i * n];
      for (int64_t j = 0; j <= k; ++j) out[j] += v * row[j];
    }
  }
}

bool upper_cholesky_of_inverse(Matrix& a, int64_t n) {
  Matrix inverse;
  if (!cholesky_lower(a, n)) return false;
  inverse_from_cholesky(a, n, inverse);
  if (!cholesky_lower(inverse, n)) return false;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = i + 1; j < n; ++j) {
      inverse[i * n + j] = inverse[j * n + i];
      inverse[j * n + i] = 0.0;
    }
  }
  a.swap(inverse);
  return true;
}

}  // namespace landed

// AutoGPTQ's sequence through LAPACK. Row-major symmetric reads the same
// column-major; LAPACK's column-major 'L' is our row-major upper triangle.
bool three_step(Matrix& a, int64_t n) {
  const int dim = static_cast<int>(n);
  int info = 0;
  dpotrf_("U", &dim, a.data(), &dim, &info, 1);  // row-major lower L, A = L L^T
  if (info != 0) return false;
  dpotri_("U", &dim, a.data(), &dim, &info, 1);  // row-major lower triangle of A^-1
  if (info != 0) return false;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) a[i * n + j] = a[j * n + i];
  dpotrf_("L", &dim, a.data(), &dim, &info, 1);  // row-major upper U, A^-1 = U^T U
  if (info != 0) return false;
  for (int64_t i = 0; i < n; ++i) std::fill(&a[i * n], &a[i * n + i], 0.0);
  return true;
}

// Hessian-like: a well-spread spectrum (Kac-Murdock-Szegö, 0.9^|i-j|) plus
// a random low-rank part as correlated activations give, damped by 1% of the
// mean diagonal as GPTQ does.
Matrix make_hessian(int64_t n, uint64_t seed) {
  constexpr int kRank = 8;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<double> g(kRank * n);
  for (double& v : g) v = normal(rng);
  std::vector<double> decay(n, 1.0);  // 0.9^d
  for (int64_t d = 1; d < n; ++d) decay[d] = decay[d - 1] * 0.9;
  Matrix a(n * n);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j <= i; ++j) {
      double s = decay[i - j];
      for (int r = 0; r < kRank; ++r) s += g[r * n + i] * g[r * n + j] / kRank;
      a[i * n + j] = a[j * n + i] = s;
    }
  }
  double mean = 0;
  for (int64_t i = 0; i < n; ++i) mean += a[i * n + i];
  for (int64_t i = 0; i < n; ++i) a[i * n + i] += 0.01 * mean / static_cast<double>(n);
  return a;
}

// Best of `reps` runs on fresh copies of `source`; the last result in `out`.
double time_factor(const std::function<bool(Matrix&, int64_t)>& factor, const Matrix& source, int64_t n, int reps,
                   Matrix& out) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    out = source;
    const auto start = std::chrono::steady_clock::now();
    if (!factor(out, n)) {
      std::fprintf(stderr, "factorisation failed at n = %lld\n", static_cast<long long>(n));
      std::exit(1);
    }
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

double relative_difference(const Matrix& a, const Matrix& b) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::fabs(a[i] - b[i]));
    scale = std::max(scale, std::fabs(b[i]));
  }
  return diff / scale;
}

std::vector<int64_t> parse_sizes(const std::string& list) {
  std::vector<int64_t> sizes;
  std::stringstream stream(list);
  for (std::string item; std::getline(stream, item, ',');) sizes.push_back(std::stoll(item));
  return sizes;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> sizes = {1024, 2048, 4096, 11008, 14336};
  int64_t landed_max = 4096;
  int reps = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--sizes" && i + 1 < argc) sizes = parse_sizes(argv[++i]);
    else if (arg == "--landed-max" && i + 1 < argc) landed_max = std::stoll(argv[++i]);
    else if (arg == "--reps" && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    else {
      std::fprintf(stderr, "usage: bench_linalg [--sizes 1024,2048,...] [--landed-max N] [--reps N]\n");
      return 2;
    }
  }
  if (openblas_get_config != nullptr) {
    std::printf("LAPACK: OpenBLAS (%s), %d threads\n", openblas_get_config(),
                openblas_get_num_threads != nullptr ? openblas_get_num_threads() : 0);
  } else {
    std::printf("LAPACK: not OpenBLAS (reference or other)\n");
  }
  {  // OpenBLAS starts its threads on the first call
    Matrix warm = make_hessian(256, 1);
    gptq::upper_cholesky_of_inverse(warm, 256);
  }
  std::printf("| n | landed (s) | LAPACK 3-step (s) | libgptq (s) | landed / libgptq | max rel. diff |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (int64_t n : sizes) {
    const Matrix h = make_hessian(n, 0);
    Matrix ours, reference, old;
    const double t_ours = time_factor(gptq::upper_cholesky_of_inverse, h, n, reps, ours);
    const double t_three = time_factor(three_step, h, n, reps, reference);
    const double t_landed = n <= landed_max ? time_factor(landed::upper_cholesky_of_inverse, h, n, reps, old) : -1;
    char landed_cell[32] = "-", ratio_cell[32] = "-";
    if (t_landed >= 0) {
      std::snprintf(landed_cell, sizeof landed_cell, "%.2f", t_landed);
      std::snprintf(ratio_cell, sizeof ratio_cell, "%.0fx", t_landed / t_ours);
    }
    std::printf("| %lld | %s | %.2f | %.2f | %s | %.1e |\n", static_cast<long long>(n), landed_cell, t_three, t_ours,
                ratio_cell, relative_difference(reference, ours));
    std::fflush(stdout);
  }
  return 0;
}
