#include "kernels/gptq_source.h"

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

}  // namespace gptq
