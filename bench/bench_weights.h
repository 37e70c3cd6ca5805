// Random weights for the kernel benchmarks: fp16 matrices and GPTQ layers
// (random codes, zero points and fp16 scales, groups of 128 by default),
// each able to describe itself as one output of matmul_multi.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

#include "core/half.h"
#include "kernels/cpu/gptq_kernels.h"

namespace bench {

using namespace gptq;
using namespace gptq::cpu;

inline std::vector<float> random_vector(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& f : v) f = dist(rng);
  return v;
}

// A fp16 weight matrix with random values.
struct Matrix {
  std::vector<uint16_t> data;
  DenseMatrix w;
  Matrix(int64_t n, int64_t k, std::mt19937& rng) : data(n * k) {
    std::uniform_real_distribution<float> dist(-0.05f, 0.05f);
    for (uint16_t& h : data) h = gptq::float_to_fp16(dist(rng));
    w = DenseMatrix{data.data(), FloatType::F16, n, k, k};
  }
};

// A random GPTQ layer, repacked.
inline std::shared_ptr<const PackedGptq> random_gptq(int64_t n, int64_t k, int bits, int group_size, bool act_order,
                                                   std::mt19937& rng) {
  const int64_t group = group_size > 0 ? group_size : k, groups = (k + group - 1) / group;
  std::vector<int32_t> qweight(k * bits / 32 * n), zeros(groups * n), g_idx(k), order(k);
  std::uniform_int_distribution<int32_t> word(INT32_MIN, INT32_MAX), zero(0, (1 << bits) - 1);
  std::uniform_real_distribution<float> scale(0.001f, 0.01f);
  for (int32_t& w : qweight) w = word(rng);
  for (int32_t& z : zeros) z = zero(rng);
  std::vector<uint16_t> scales(groups * n);
  for (uint16_t& s : scales) s = gptq::float_to_fp16(scale(rng));
  std::iota(order.begin(), order.end(), 0);
  if (act_order) std::shuffle(order.begin(), order.end(), rng);
  for (int64_t p = 0; p < k; ++p) g_idx[order[p]] = static_cast<int32_t>(p / group);
  return pack_gptq({bits, k, n, groups, qweight.data(), zeros.data(), scales.data(), g_idx.data()});
}

// Either kind of weights, as matmul_multi takes them.
struct Linear {
  std::unique_ptr<Matrix> dense;
  std::shared_ptr<const PackedGptq> gptq;

  // bits 0: fp16.
  Linear(int64_t n, int64_t k, int bits, std::mt19937& rng, int group_size = 128, bool act_order = false) {
    if (bits == 0) {
      dense = std::make_unique<Matrix>(n, k, rng);
    } else {
      gptq = random_gptq(n, k, bits, group_size, act_order, rng);
    }
  }
  MatmulOutput output(float* y, int64_t ldy) const {
    return gptq ? MatmulOutput{{}, nullptr, y, ldy, gptq.get()} : MatmulOutput{dense->w, nullptr, y, ldy};
  }
  int64_t bytes() const { return gptq ? gptq->bytes() : dense->w.n_rows * dense->w.n_cols * 2; }
};

}  // namespace bench
