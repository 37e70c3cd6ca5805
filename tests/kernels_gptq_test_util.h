// Random GPTQ layers in the checkpoint format, packed by the library's own
// writer (quant/pack.h), for the GPTQ kernel tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <ostream>
#include <random>
#include <vector>

#include "core/half.h"
#include "kernels/cpu/gptq_kernels.h"
#include "quant/pack.h"

namespace gptq::test {

struct GptqShape {
  int bits;
  int64_t K, N;
  int group_size;  // -1: one group
  bool act_order;
};

inline std::ostream& operator<<(std::ostream& out, const GptqShape& s) {
  return out << s.bits << "-bit K=" << s.K << " N=" << s.N << " group=" << s.group_size
             << (s.act_order ? " act-order" : "");
}

// A layer's tensors, owned; source() borrows them.
struct GptqLayer {
  GptqShape shape;
  int64_t n_groups = 0;
  std::vector<int32_t> qweight, zeros, g_idx;
  std::vector<uint16_t> scales;

  GptqSource source() const {
    return {shape.bits, shape.K, shape.N, n_groups, qweight.data(), zeros.data(), scales.data(), g_idx.data()};
  }
};

// Random values, zero points over all of [0, 2^bits] with 2^bits (what v1
// checkpoints store for a true zero of 0) at every 7th, scales of either
// sign, and with act-order a g_idx derived from a random column order as
// GPTQ does: g_idx[perm[p]] = p / group_size.
inline GptqLayer random_gptq_layer(const GptqShape& shape, std::mt19937& rng) {
  GptqLayer layer;
  layer.shape = shape;
  const int64_t K = shape.K, N = shape.N;
  const int64_t group = shape.group_size > 0 ? shape.group_size : K;
  layer.n_groups = (K + group - 1) / group;
  const int32_t levels = 1 << shape.bits;
  std::uniform_int_distribution<int32_t> value(0, levels - 1), zero(0, levels);
  std::vector<uint8_t> q(static_cast<size_t>(K * N));
  for (uint8_t& v : q) v = static_cast<uint8_t>(value(rng));
  layer.qweight = pack_qweight(q, K, N, shape.bits);
  layer.zeros.resize(static_cast<size_t>(layer.n_groups * N));
  for (size_t i = 0; i < layer.zeros.size(); ++i) layer.zeros[i] = i % 7 == 3 ? levels : zero(rng);
  std::uniform_real_distribution<float> scale(0.001f, 0.05f);
  layer.scales.resize(layer.zeros.size());
  for (size_t i = 0; i < layer.scales.size(); ++i) {
    layer.scales[i] = float_to_fp16(i % 5 == 1 ? -scale(rng) : scale(rng));
  }
  std::vector<int32_t> perm(static_cast<size_t>(K));
  std::iota(perm.begin(), perm.end(), 0);
  if (shape.act_order) std::shuffle(perm.begin(), perm.end(), rng);
  layer.g_idx.resize(static_cast<size_t>(K));
  for (int64_t p = 0; p < K; ++p) layer.g_idx[perm[p]] = static_cast<int32_t>(p / group);
  return layer;
}

// What the outputs of the factored kernels may be off by: they sum q * x
// and z * x apart (then scale), so rounding is relative to
// sum_k |s| (q + z) |x|, plus the bias. magnitudes() is [N][K] of |s| (q + z).
class GptqErrorBound {
 public:
  explicit GptqErrorBound(const GptqSource& w) : K_(w.in_features), magnitude_(w.out_features * K_) {
    for (int64_t n = 0; n < w.out_features; ++n) {
      for (int64_t k = 0; k < K_; ++k) {
        const int64_t g = w.g_idx[k];
        const double s = std::fabs(fp16_to_float(w.scales_fp16[g * w.out_features + n]));
        const double q = stream_value(w.qweight + n, w.out_features, k, w.bits);
        magnitude_[n * K_ + k] = s * (q + w.zeros[g * w.out_features + n]);
      }
    }
  }
  double operator()(const float* x, int64_t n, const float* bias) const {
    double sum = bias != nullptr ? std::fabs(bias[n]) : 0.0;
    for (int64_t k = 0; k < K_; ++k) sum += magnitude_[n * K_ + k] * std::fabs(x[k]);
    return 1e-5 * sum + 1e-30;
  }

 private:
  int64_t K_;
  std::vector<double> magnitude_;
};

}  // namespace gptq::test
