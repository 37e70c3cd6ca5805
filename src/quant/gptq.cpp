#include "quant/gptq.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "core/half.h"
#include "core/log.h"
#include "kernels/cpu/cpu_kernels.h"
#include "quant/group_params.h"
#include "quant/quantized_linear.h"

namespace gptq {
namespace {

void check_options(int64_t rows, int64_t cols, const GptqOptions& o) {
  if (rows <= 0 || cols <= 0) fail(GPTQ_ERR_INVALID_ARGUMENT, "cannot quantize an empty matrix");
  if (o.bits != 2 && o.bits != 3 && o.bits != 4 && o.bits != 8) {
    fail(GPTQ_ERR_UNSUPPORTED, o.bits, "-bit quantization is not supported (2, 3, 4 or 8)");
  }
  if (o.group_size == 0 || o.group_size < -1) fail(GPTQ_ERR_INVALID_ARGUMENT, "group_size must be -1 or positive");
  if (o.block_size <= 0) fail(GPTQ_ERR_INVALID_ARGUMENT, "block_size must be positive");
}

// Column-major copy: column k of W becomes the contiguous row k of Wt.
std::vector<float> transpose(ThreadPool& pool, const float* w, int64_t rows, int64_t cols) {
  std::vector<float> t(rows * cols);
  pool.parallel_for(cols, 64, [&](int64_t c0, int64_t c1, int) {
    for (int64_t c = c0; c < c1; ++c) {
      for (int64_t r = 0; r < rows; ++r) t[c * rows + r] = w[r * cols + c];
    }
  });
  return t;
}

}  // namespace

QuantizedMatrix gptq_quantize_matrix(ThreadPool& pool, const float* weights, int64_t rows, int64_t cols,
                                     std::vector<float> hessian, const GptqOptions& o) {
  check_options(rows, cols, o);
  const HessianFactor factor = factor_hessian(std::move(hessian), cols, o.desc_act, o.damp_percent);
  return gptq_quantize_matrix(pool, weights, rows, cols, factor, o);
}

QuantizedMatrix gptq_quantize_matrix(ThreadPool& pool, const float* weights, int64_t rows, int64_t cols,
                                     const HessianFactor& factor, const GptqOptions& o) {
  check_options(rows, cols, o);
  if (factor.cols != cols) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, "the Hessian factor is for ", factor.cols, " inputs, the matrix has ", cols);
  }
  const int64_t N = rows, K = cols;
  const int64_t gs = o.group_size > 0 ? o.group_size : K;
  const float maxq = static_cast<float>((1 << o.bits) - 1);
  std::vector<float> wt = transpose(pool, weights, N, K);

  // Inputs that never fire carry no information: quantize them to zero.
  for (int64_t k = 0; k < K; ++k) {
    if (factor.dead[k]) std::fill(&wt[k * N], &wt[(k + 1) * N], 0.0f);
  }
  GroupParams whole(N);  // one group per row when group_size is -1
  if (o.group_size <= 0) find_group_params(wt.data(), N, 0, K, 0, N, o.bits, o.sym, o.mse, whole);
  std::vector<GroupParams> fixed;  // static groups, found before any permutation
  if (o.static_groups && o.group_size > 0) {
    for (int64_t c = 0; c < K; c += gs) {
      fixed.emplace_back(N);
      find_group_params(wt.data(), N, c, std::min(K, c + gs), 0, N, o.bits, o.sym, o.mse, fixed.back());
    }
  }

  const std::vector<int64_t>& perm = factor.perm;
  if (factor.act_order) {
    std::vector<float> wp(K * N);
    for (int64_t i = 0; i < K; ++i) std::copy(&wt[perm[i] * N], &wt[(perm[i] + 1) * N], &wp[i * N]);
    wt.swap(wp);
  }

  QuantizedMatrix result;
  result.rows = N;
  result.cols = K;
  result.bits = o.bits;
  result.damp_used = factor.damp_used;
  const std::vector<float>& u = factor.inverse_upper;

  const int64_t n_groups = o.group_size > 0 ? (K + gs - 1) / gs : 1;
  std::vector<GroupParams> dynamic(o.group_size > 0 && !o.static_groups ? n_groups : 0, GroupParams(N));
  std::vector<uint8_t> codes_perm(K * N);
  std::vector<double> row_loss(N, 0.0);
  const int64_t block = o.block_size;
  std::vector<float> block_err, a, err_t, delta;
  for (int64_t i1 = 0; i1 < K; i1 += block) {
    const int64_t i2 = std::min(K, i1 + block), count = i2 - i1;
    block_err.assign(count * N, 0.0f);
    // Rows are independent within a block: each thread takes a slice.
    pool.parallel_for(N, 32, [&](int64_t n0, int64_t n1, int) {
      const int64_t width = n1 - n0;
      std::vector<float> w1(count * width), err(width);
      for (int64_t j = 0; j < count; ++j) std::copy(&wt[(i1 + j) * N + n0], &wt[(i1 + j) * N + n1], &w1[j * width]);
      for (int64_t i = 0; i < count; ++i) {
        const int64_t col = i1 + i;
        const GroupParams* params = &whole;
        if (o.group_size > 0 && !o.static_groups) {
          // A group's range comes from the weights as earlier blocks left
          // them (not this block's updates): AutoGPTQ reads W, not W1.
          if (col % gs == 0) {
            find_group_params(wt.data(), N, col, std::min(K, col + gs), n0, n1, o.bits, o.sym, o.mse,
                              dynamic[col / gs]);
          }
          params = &dynamic[col / gs];
        } else if (o.static_groups && o.group_size > 0) {
          params = &fixed[perm[col] / gs];
        }
        const float d = u[col * K + col];
        for (int64_t n = n0; n < n1; ++n) {
          float code = 0;
          err[n - n0] = gptq_weight_step(w1[i * width + (n - n0)], params->scale[n], params->zero[n], maxq, d, &code,
                                         &row_loss[n]);
          codes_perm[col * N + n] = static_cast<uint8_t>(code);
          block_err[i * N + n] = err[n - n0];
        }
        for (int64_t j = i; j < count; ++j) {
          const float hinv = u[col * K + i1 + j];
          float* row = &w1[j * width];
          for (int64_t n = 0; n < width; ++n) row[n] -= exact_mul(err[n], hinv);
        }
      }
    });
    if (i2 == K) break;
    // Lazy batch: W[:, i2:] -= Err1 @ Hinv[i1:i2, i2:], as one matmul over the rest.
    const int64_t rest = K - i2;
    a.resize(rest * count);
    for (int64_t j = 0; j < rest; ++j) {
      for (int64_t b = 0; b < count; ++b) a[j * count + b] = u[(i1 + b) * K + i2 + j];
    }
    err_t.resize(N * count);
    for (int64_t b = 0; b < count; ++b) {
      for (int64_t n = 0; n < N; ++n) err_t[n * count + b] = block_err[b * N + n];
    }
    delta.resize(rest * N);
    const DenseMatrix err_matrix{err_t.data(), FloatType::F32, N, count, count};
    cpu::matmul(pool, a.data(), count, rest, err_matrix, nullptr, delta.data(), N);
    pool.parallel_for(rest, 16, [&](int64_t j0, int64_t j1, int) {
      for (int64_t j = j0; j < j1; ++j) {
        float* row = &wt[(i2 + j) * N];
        const float* d = &delta[j * N];
        for (int64_t n = 0; n < N; ++n) row[n] -= d[n];
      }
    });
  }

  result.codes.resize(N * K);
  result.g_idx.resize(K);
  for (int64_t p = 0; p < K; ++p) {
    const int64_t k = perm[p];
    for (int64_t n = 0; n < N; ++n) result.codes[n * K + k] = codes_perm[p * N + n];
    result.g_idx[k] = static_cast<int32_t>(o.group_size <= 0 ? 0 : (o.static_groups ? k / gs : p / gs));
  }
  const std::vector<GroupParams>& groups = o.group_size <= 0 ? std::vector<GroupParams>{whole}
                                           : o.static_groups ? fixed
                                                             : dynamic;
  for (const GroupParams& g : groups) {
    result.scales.insert(result.scales.end(), g.scale.begin(), g.scale.end());
    for (float z : g.zero) result.zeros.push_back(static_cast<int32_t>(z));
  }
  result.loss = std::accumulate(row_loss.begin(), row_loss.end(), 0.0);
  return result;
}

QuantizedMatrix rtn_quantize_matrix(ThreadPool& pool, const float* weights, int64_t rows, int64_t cols,
                                    const GptqOptions& o) {
  check_options(rows, cols, o);
  const int64_t N = rows, K = cols;
  const int64_t gs = o.group_size > 0 ? o.group_size : K;
  const float maxq = static_cast<float>((1 << o.bits) - 1);
  const std::vector<float> wt = transpose(pool, weights, N, K);
  const int64_t n_groups = (K + gs - 1) / gs;
  QuantizedMatrix result;
  result.rows = N;
  result.cols = K;
  result.bits = o.bits;
  result.codes.resize(N * K);
  result.scales.resize(n_groups * N);
  result.zeros.resize(n_groups * N);
  result.g_idx.resize(K);
  for (int64_t k = 0; k < K; ++k) result.g_idx[k] = static_cast<int32_t>(k / gs);
  pool.parallel_for(N, 32, [&](int64_t n0, int64_t n1, int) {
    GroupParams params(N);
    for (int64_t g = 0; g < n_groups; ++g) {
      const int64_t c0 = g * gs, c1 = std::min(K, c0 + gs);
      find_group_params(wt.data(), N, c0, c1, n0, n1, o.bits, o.sym, o.mse, params);
      for (int64_t n = n0; n < n1; ++n) {
        result.scales[g * N + n] = params.scale[n];
        result.zeros[g * N + n] = static_cast<int32_t>(params.zero[n]);
        for (int64_t c = c0; c < c1; ++c) {
          result.codes[n * K + c] = static_cast<uint8_t>(quantize_code(wt[c * N + n], params.scale[n], params.zero[n], maxq));
        }
      }
    }
  });
  return result;
}

std::vector<float> dequantize_matrix(const QuantizedMatrix& q) {
  return quantized_linear_from_matrix(q, -1).dequantize();
}

}  // namespace gptq
