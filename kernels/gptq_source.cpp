#include "kernels/gptq_source.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"

namespace gptq {

void validate_gptq_source(const GptqSource& s) {
  const auto invalid = [](const auto&... parts) { fail(GPTQ_ERR_INVALID_ARGUMENT, "GPTQ weights: ", parts...); };
  if (s.bits != 2 && s.bits != 3 && s.bits != 4 && s.bits != 8) invalid("bits must be 2, 3, 4 or 8, not ", s.bits);
  if (s.in_features <= 0 || s.out_features <= 0 || s.n_groups <= 0) {
    invalid("in_features (", s.in_features, "), out_features (", s.out_features, ") and n_groups (", s.n_groups,
            ") must be positive");
  }
  if (s.in_features * s.bits % 32 != 0) {
    invalid("in_features ", s.in_features, " cannot be packed at ", s.bits, " bits (K * bits must be a multiple of 32)");
  }
  if (s.n_groups > s.in_features) invalid(s.n_groups, " groups for ", s.in_features, " input columns");
  if (s.qweight == nullptr || s.zeros == nullptr || s.scales_fp16 == nullptr || s.g_idx == nullptr) {
    invalid("qweight, zeros, scales and g_idx are all required");
  }
  const int64_t K = s.in_features, N = s.out_features, G = s.n_groups;
  for (int64_t k = 0; k < K; ++k) {
    if (s.g_idx[k] < 0 || s.g_idx[k] >= G) invalid("g_idx sends input column ", k, " to group ", s.g_idx[k], " of ", G);
  }
  const int32_t max_zero = 1 << s.bits;
  for (int64_t i = 0; i < G * N; ++i) {
    if (s.zeros[i] < 0 || s.zeros[i] > max_zero) {
      invalid("zero point ", s.zeros[i], " of group ", i / N, ", column ", i % N, " is outside [0, ", max_zero, "]");
    }
    if ((s.scales_fp16[i] & 0x7c00u) == 0x7c00u) invalid("scale of group ", i / N, ", column ", i % N, " is not finite");
  }
}

std::vector<uint8_t> unpack_gptq_codes(const GptqSource& s) {
  const int64_t K = s.in_features, N = s.out_features;
  const uint32_t mask = (1u << s.bits) - 1u;
  std::vector<uint8_t> q(static_cast<size_t>(K * N));
  for (int64_t k = 0; k < K; ++k) {
    const int64_t bit = k * s.bits, word = bit >> 5;
    const int shift = static_cast<int>(bit & 31);
    const uint32_t* row = reinterpret_cast<const uint32_t*>(s.qweight) + word * N;
    for (int64_t n = 0; n < N; ++n) {
      uint64_t v = row[n] >> shift;
      if (shift + s.bits > 32) v |= static_cast<uint64_t>(row[n + N]) << (32 - shift);
      q[k * N + n] = static_cast<uint8_t>(v & mask);
    }
  }
  return q;
}

GptqSegmentPlan plan_gptq_segments(const GptqSource& s, int64_t row_multiple) {
  const int64_t K = s.in_features;
  std::vector<int32_t> order(static_cast<size_t>(K));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return s.g_idx[a] < s.g_idx[b]; });
  GptqSegmentPlan plan;
  for (int64_t i = 0; i < K;) {
    const int32_t group = s.g_idx[order[i]];
    int64_t end = i;
    while (end < K && s.g_idx[order[end]] == group) ++end;
    const int64_t units = (end - i + row_multiple - 1) / row_multiple;
    plan.group.push_back(group);
    plan.units.push_back(static_cast<int32_t>(units));
    for (int64_t j = i; j < end; ++j) {
      plan.identity = plan.identity && order[j] == static_cast<int32_t>(plan.rows.size());
      plan.rows.push_back(order[j]);
    }
    plan.identity = plan.identity && end - i == units * row_multiple;
    plan.rows.resize(plan.rows.size() + static_cast<size_t>(units * row_multiple - (end - i)), -1);
    i = end;
  }
  return plan;
}

}  // namespace gptq
