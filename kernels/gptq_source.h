// One GPTQ-quantized linear in the checkpoint's format
// (shared/docs/GPTQ_FORMAT.md), borrowed by a device's one-time repack into
// its own layout (kernels/cpu/gptq_layout.h, kernels/cuda/gptq_layout.h):
//   qweight [K*bits/32][N] int32: b-bit values in a little-endian bit stream
//           down each column (along K);
//   zeros   [G][N] int32: true zero points, 0..2^bits (v1 checkpoints,
//           which store zero - 1, give 2^bits for a stored -1);
//   scales  [G][N] fp16 bits;
//   g_idx   [K] int32: the group of each input column, 0..G-1.
#pragma once

#include <cstdint>
#include <vector>

namespace gptq {

struct GptqSource {
  int bits = 4;
  int64_t in_features = 0;   // K
  int64_t out_features = 0;  // N
  int64_t n_groups = 0;      // G
  const int32_t* qweight = nullptr;
  const int32_t* zeros = nullptr;
  const uint16_t* scales_fp16 = nullptr;
  const int32_t* g_idx = nullptr;
};

// Checks what every repack relies on; throws gptq::Error
// (GPTQ_ERR_INVALID_ARGUMENT) naming the first inconsistency: bits not
// 2/3/4/8, K*bits not a multiple of 32, a zero point outside [0, 2^bits],
// a g_idx outside [0, G), a non-finite scale.
void validate_gptq_source(const GptqSource& source);

// All of qweight as one byte per value, [K][N].
std::vector<uint8_t> unpack_gptq_codes(const GptqSource& source);

// The order in which a repack lays out K: input columns sorted by group,
// stably (act-order checkpoints come out grouped), each group one segment
// padded with zero rows to a multiple of `row_multiple`.
struct GptqSegmentPlan {
  std::vector<int32_t> group, units;  // per segment: its group, its rows / row_multiple
  std::vector<int32_t> rows;          // per laid-out row: its input column, or -1 (padding)
  bool identity = true;               // rows[r] == r for every r (and no padding)
};
GptqSegmentPlan plan_gptq_segments(const GptqSource& source, int64_t row_multiple);

}  // namespace gptq
