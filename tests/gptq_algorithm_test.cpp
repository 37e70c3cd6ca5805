// GPTQ on small random problems: against a straightforward column-by-column
// reference, against round-to-nearest, and its corner cases.
#include <algorithm>
#include <cmath>
#include <random>

#include "core/error.h"
#include "core/thread_pool.h"
#include "quant/gptq.h"
#include "quant/group_params.h"
#include "quant/linalg.h"
#include "test_util.h"

namespace gptq {
namespace {

struct Problem {
  int64_t N, K, T;
  std::vector<float> w;  // [N][K]
  std::vector<float> x;  // [T][K] calibration inputs
  std::vector<float> h;  // 2/T X^T X
};

// Inputs with uneven column scales and correlated columns, as real
// activations have: that is where GPTQ's error feedback pays off.
Problem make_problem(int64_t N, int64_t K, int64_t T, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Problem p{N, K, T, std::vector<float>(N * K), std::vector<float>(T * K), std::vector<float>(K * K, 0.0f)};
  for (auto& v : p.w) v = 0.05f * normal(rng);
  std::vector<float> col_scale(K);
  for (auto& s : col_scale) s = std::exp(1.5f * normal(rng));
  for (int64_t t = 0; t < T; ++t) {
    const float shared = normal(rng);
    for (int64_t k = 0; k < K; ++k) p.x[t * K + k] = col_scale[k] * (0.6f * shared + normal(rng));
  }
  for (int64_t i = 0; i < K; ++i) {
    for (int64_t j = 0; j < K; ++j) {
      double s = 0;
      for (int64_t t = 0; t < T; ++t) s += double(p.x[t * K + i]) * p.x[t * K + j];
      p.h[i * K + j] = static_cast<float>(2.0 * s / T);
    }
  }
  return p;
}

// sum over tokens of ||(W - Q) x||^2
double output_error(const Problem& p, const std::vector<float>& q) {
  double total = 0;
  for (int64_t t = 0; t < p.T; ++t) {
    for (int64_t n = 0; n < p.N; ++n) {
      double s = 0;
      for (int64_t k = 0; k < p.K; ++k) s += double(p.w[n * p.K + k] - q[n * p.K + k]) * p.x[t * p.K + k];
      total += s * s;
    }
  }
  return total;
}

// The textbook algorithm: quantize column by column, push each column's
// error onto all later columns at once (no lazy blocks), groups found from
// the weights as they stand when the group starts.
std::vector<float> reference_gptq(const Problem& p, int bits, int group_size) {
  const int64_t N = p.N, K = p.K;
  std::vector<double> h(p.h.begin(), p.h.end());
  double mean = 0;
  for (int64_t i = 0; i < K; ++i) mean += h[i * K + i];
  for (int64_t i = 0; i < K; ++i) h[i * K + i] += 0.01 * mean / K;
  std::vector<double> inv = h;
  EXPECT_TRUE(upper_cholesky_of_inverse(inv, K));
  std::vector<float> wt(K * N), q(N * K);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) wt[k * N + n] = p.w[n * K + k];
  GroupParams params(N);
  const float maxq = float((1 << bits) - 1);
  for (int64_t i = 0; i < K; ++i) {
    if (i % group_size == 0) find_group_params(wt.data(), N, i, std::min(K, i + group_size), 0, N, bits, true, false, params);
    for (int64_t n = 0; n < N; ++n) {
      const float w = wt[i * N + n];
      const float code = quantize_code(w, params.scale[n], params.zero[n], maxq);
      q[n * K + i] = params.scale[n] * (code - params.zero[n]);
      const double err = (w - q[n * K + i]) / inv[i * K + i];
      for (int64_t j = i + 1; j < K; ++j) wt[j * N + n] -= static_cast<float>(err * inv[i * K + j]);
    }
  }
  return q;
}

std::vector<float> fake_quantized(const QuantizedMatrix& m) {
  // The algorithm's own fp32 scales (dequantize_matrix rounds them to fp16).
  std::vector<float> w(m.rows * m.cols);
  for (int64_t n = 0; n < m.rows; ++n)
    for (int64_t k = 0; k < m.cols; ++k) {
      const int64_t g = m.g_idx[k];
      w[n * m.cols + k] = m.scales[g * m.rows + n] * (float(m.codes[n * m.cols + k]) - float(m.zeros[g * m.rows + n]));
    }
  return w;
}

TEST(GptqAlgorithm, MatchesTheColumnByColumnReference) {
  ThreadPool pool(2);
  const Problem p = make_problem(48, 256, 512, 1);
  GptqOptions o;
  o.bits = 4;
  o.group_size = 128;  // aligned with the 128-column blocks: both variants see the same group ranges
  const QuantizedMatrix m = gptq_quantize_matrix(pool, p.w.data(), p.N, p.K, p.h, o);
  const std::vector<float> ours = fake_quantized(m), ref = reference_gptq(p, 4, 128);
  int64_t same = 0;
  for (size_t i = 0; i < ours.size(); ++i) same += std::fabs(ours[i] - ref[i]) < 1e-6f;
  EXPECT_GT(double(same) / ours.size(), 0.995);
  EXPECT_NEAR(output_error(p, ours) / output_error(p, ref), 1.0, 0.01);
}

TEST(GptqAlgorithm, BeatsRoundToNearestEverywhere) {
  ThreadPool pool(2);
  const Problem p = make_problem(40, 192, 400, 2);
  struct Setting {
    int bits, group_size;
    bool desc_act, sym, static_groups;
  };
  const Setting settings[] = {{4, 128, false, true, false}, {4, 32, true, true, false}, {4, -1, false, true, false},
                              {3, 64, true, false, false},  {2, 64, true, true, false}, {8, 128, false, false, false},
                              {4, 64, true, true, true},    {3, 100, false, true, false}};
  for (const Setting& s : settings) {
    GptqOptions o;
    o.bits = s.bits;
    o.group_size = s.group_size;
    o.desc_act = s.desc_act;
    o.sym = s.sym;
    o.static_groups = s.static_groups;
    const QuantizedMatrix g = gptq_quantize_matrix(pool, p.w.data(), p.N, p.K, p.h, o);
    const QuantizedMatrix r = rtn_quantize_matrix(pool, p.w.data(), p.N, p.K, o);
    const double eg = output_error(p, dequantize_matrix(g)), er = output_error(p, dequantize_matrix(r));
    EXPECT_LT(eg, 0.8 * er) << "bits " << s.bits << " group " << s.group_size << " act " << s.desc_act;
    for (uint8_t c : g.codes) ASSERT_LT(c, 1 << s.bits);
    const int64_t G = s.group_size > 0 ? (p.K + s.group_size - 1) / s.group_size : 1;
    EXPECT_EQ(g.n_groups(), G);
    // Every group holds group_size columns (the last may hold fewer), act-order or not.
    std::vector<int> members(G, 0);
    for (int32_t gi : g.g_idx) ++members[gi];
    for (int64_t gi = 0; gi + 1 < G; ++gi) EXPECT_EQ(members[gi], s.group_size);
    if (s.static_groups || !s.desc_act) {
      for (int64_t k = 0; k < p.K; ++k) EXPECT_EQ(g.g_idx[k], s.group_size > 0 ? k / s.group_size : 0);
    }
    if (s.sym) {
      for (int32_t z : g.zeros) EXPECT_EQ(z, 1 << (s.bits - 1));
    }
  }
}

TEST(GptqAlgorithm, ResultDoesNotDependOnThreads) {
  const Problem p = make_problem(33, 160, 200, 3);
  GptqOptions o;
  o.group_size = 32;
  o.desc_act = true;
  ThreadPool one(1), three(3);
  const QuantizedMatrix a = gptq_quantize_matrix(one, p.w.data(), p.N, p.K, p.h, o);
  const QuantizedMatrix b = gptq_quantize_matrix(three, p.w.data(), p.N, p.K, p.h, o);
  EXPECT_EQ(a.codes, b.codes);
  EXPECT_EQ(a.scales, b.scales);
  EXPECT_EQ(a.loss, b.loss);
}

// q, k and v (or gate and up) quantize from one factorisation of their
// shared Hessian: the same result as factoring it for each, act-order and
// dead inputs included.
TEST(GptqAlgorithm, SharedFactorGivesWhatEachLinearWouldGetAlone) {
  ThreadPool pool(2);
  Problem p = make_problem(24, 96, 150, 6);
  for (int64_t j = 0; j < p.K; ++j) p.h[7 * p.K + j] = p.h[j * p.K + 7] = 0.0f;
  const Problem other = make_problem(40, 96, 1, 7);  // only its weights are used
  GptqOptions o;
  o.group_size = 32;
  for (bool desc_act : {false, true}) {
    o.desc_act = desc_act;
    const HessianFactor factor = factor_hessian(p.h, p.K, o.desc_act, o.damp_percent);
    for (const Problem* weights : {static_cast<const Problem*>(&p), &other}) {
      const QuantizedMatrix alone = gptq_quantize_matrix(pool, weights->w.data(), weights->N, p.K, p.h, o);
      const QuantizedMatrix shared = gptq_quantize_matrix(pool, weights->w.data(), weights->N, p.K, factor, o);
      EXPECT_EQ(alone.codes, shared.codes);
      EXPECT_EQ(alone.scales, shared.scales);
      EXPECT_EQ(alone.g_idx, shared.g_idx);
      EXPECT_EQ(alone.loss, shared.loss);
    }
  }
  const HessianFactor wrong_width = factor_hessian(p.h, p.K, false, 0.01);
  EXPECT_THROW(gptq_quantize_matrix(pool, p.w.data(), p.N, 64, wrong_width, o), Error);
}

TEST(GptqAlgorithm, DeadColumnsQuantizeToZero) {
  ThreadPool pool(2);
  Problem p = make_problem(16, 64, 100, 4);
  for (int64_t j = 0; j < p.K; ++j) p.h[5 * p.K + j] = p.h[j * p.K + 5] = 0.0f;
  const QuantizedMatrix m = gptq_quantize_matrix(pool, p.w.data(), p.N, p.K, p.h, GptqOptions{});
  const std::vector<float> w = dequantize_matrix(m);
  for (int64_t n = 0; n < p.N; ++n) EXPECT_EQ(w[n * p.K + 5], 0.0f);
}

TEST(GptqAlgorithm, RaisesDampingWhenFactorisationFails) {
  ThreadPool pool(1);
  // Indefinite (eigenvalues -1.5 and 3.5): only a damping of 10 makes it definite.
  const std::vector<float> w = {0.1f, -0.2f, 0.3f, 0.05f};
  const std::vector<float> h = {1.0f, 2.5f, 2.5f, 1.0f};
  GptqOptions o;
  o.group_size = -1;
  const QuantizedMatrix m = gptq_quantize_matrix(pool, w.data(), 2, 2, h, o);
  EXPECT_DOUBLE_EQ(m.damp_used, 10.0);
}

TEST(GptqAlgorithm, MseSearchNeverWorsensTheGroupError) {
  ThreadPool pool(2);
  const Problem p = make_problem(24, 128, 64, 5);
  GptqOptions plain, mse;
  plain.bits = mse.bits = 3;
  plain.group_size = mse.group_size = 32;
  mse.mse = true;
  auto weight_error = [&](const QuantizedMatrix& m) {
    const std::vector<float> q = fake_quantized(m);
    double e = 0;
    for (size_t i = 0; i < q.size(); ++i) e += std::pow(std::fabs(double(q[i]) - p.w[i]), 2.4);
    return e;
  };
  EXPECT_LE(weight_error(rtn_quantize_matrix(pool, p.w.data(), p.N, p.K, mse)),
            weight_error(rtn_quantize_matrix(pool, p.w.data(), p.N, p.K, plain)) * (1 + 1e-6));
}

// U^T U A = I with U upper triangular, at sizes below and past LAPACK's
// block size (its blocked path differs from the unblocked one).
TEST(Linalg, UpperCholeskyOfInverse) {
  for (int64_t n : {1, 5, 200}) {
    std::vector<double> a(n * n);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) a[i * n + j] = (i == j ? 4.0 : 0.0) + 1.0 / (1 + i + j);
    std::vector<double> u = a;
    ASSERT_TRUE(upper_cholesky_of_inverse(u, n));
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_GT(u[i * n + i], 0.0);
      for (int64_t j = 0; j < i; ++j) EXPECT_EQ(u[i * n + j], 0.0) << i << ", " << j;
    }
    double worst = 0;
    std::vector<double> inverse(n * n, 0.0);  // U^T U
    for (int64_t k = 0; k < n; ++k)
      for (int64_t i = k; i < n; ++i)
        for (int64_t j = k; j < n; ++j) inverse[i * n + j] += u[k * n + i] * u[k * n + j];
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t k = 0; k < n; ++k) s += inverse[i * n + k] * a[k * n + j];
        worst = std::max(worst, std::fabs(s - (i == j ? 1.0 : 0.0)));
      }
    EXPECT_LT(worst, 1e-12) << "n = " << n;
  }
}

TEST(Linalg, RefusesMatricesThatAreNotPositiveDefinite) {
  std::vector<double> indefinite = {1, 2, 2, 1};
  EXPECT_FALSE(upper_cholesky_of_inverse(indefinite, 2));
  std::vector<double> singular = {1, 1, 1, 1};
  EXPECT_FALSE(upper_cholesky_of_inverse(singular, 2));
}

}  // namespace
}  // namespace gptq
