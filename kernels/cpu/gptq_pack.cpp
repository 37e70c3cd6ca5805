// The one-time repack of a GPTQ checkpoint layer into the CPU layout
// described in gptq_layout.h. Baseline code: runs once per layer at load.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <numeric>

#include "core/error.h"
#include "core/half.h"
#include "kernels/cpu/gptq_kernels.h"
#include "kernels/cpu/gptq_unpack_impl.h"  // with_bits

namespace gptq::cpu {
namespace {

// All of qweight as one byte per value, [K][N].
std::vector<uint8_t> unpack_values(const GptqSource& s) {
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

// The words of one column of one unit from its unit_values(BITS) values
// (the inverse of unit_value in gptq_unpack_impl.h).
template <int BITS>
void pack_unit_column(const uint8_t* values, uint32_t* words) {
  constexpr int per_word = values_per_word(BITS), split = per_word * unit_words(BITS);
  for (int j = 0; j < unit_words(BITS); ++j) words[j] = 0;
  for (int i = 0; i < split; ++i) words[i / per_word] |= uint32_t{values[i]} << (i % per_word * BITS);
  for (int i = split; i < unit_values(BITS); ++i) {  // 3 bits: values 30 and 31
    words[i - 30] |= (values[i] & 3u) << 30;
    words[2] |= uint32_t{values[i]} >> 2 << i;
  }
}

// Units [u0, u1) of one panel, for its columns n0 + [0, kPanelColumns);
// source_row(r) gives the column of q (row of K) behind packed row r, or
// -1 for padding. q is [K][N].
template <int BITS, class SourceRow>
void pack_units(const std::vector<uint8_t>& q, int64_t N, int64_t n0, int64_t u0, int64_t u1,
                const SourceRow& source_row, uint8_t* out) {
  constexpr int values = unit_values(BITS);
  uint8_t column[values];
  uint32_t unit[unit_words(BITS)];
  for (int64_t u = u0; u < u1; ++u, out += unit_bytes(BITS)) {
    uint32_t* words = reinterpret_cast<uint32_t*>(out);
    for (int64_t c = 0; c < kPanelColumns; ++c) {
      const int64_t n = n0 + c;
      for (int i = 0; i < values; ++i) {
        const int32_t src = source_row(u * values + i);
        column[i] = n < N && src >= 0 ? q[src * N + n] : 0;
      }
      pack_unit_column<BITS>(column, unit);
      for (int w = 0; w < unit_words(BITS); ++w) words[w * kPanelColumns + c] = unit[w];
    }
  }
}

// The packed order of K: input columns sorted by group, stably, each
// group one segment padded to whole units.
struct SegmentPlan {
  std::vector<int32_t> group, units;  // per segment
  std::vector<int32_t> rows;          // per packed row: input column, or -1
  bool identity = true;               // rows[r] == r for every r
};

SegmentPlan plan_segments(const GptqSource& s) {
  const int64_t K = s.in_features, values = unit_values(s.bits);
  std::vector<int32_t> order(static_cast<size_t>(K));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return s.g_idx[a] < s.g_idx[b]; });
  SegmentPlan plan;
  for (int64_t i = 0; i < K;) {
    const int32_t group = s.g_idx[order[i]];
    int64_t end = i;
    while (end < K && s.g_idx[order[end]] == group) ++end;
    const int64_t units = (end - i + values - 1) / values;
    plan.group.push_back(group);
    plan.units.push_back(static_cast<int32_t>(units));
    for (int64_t j = i; j < end; ++j) {
      plan.identity = plan.identity && order[j] == static_cast<int32_t>(plan.rows.size());
      plan.rows.push_back(order[j]);
    }
    plan.identity = plan.identity && end - i == units * values;
    plan.rows.resize(plan.rows.size() + static_cast<size_t>(units * values - (end - i)), -1);
    i = end;
  }
  return plan;
}

// One panel's stream: per segment, the header, then the units.
void write_panel(const GptqSource& s, const std::vector<uint8_t>& q, const SegmentPlan& plan,
                 const std::vector<int32_t>& first_unit, int64_t panel, uint8_t* out) {
  const int64_t N = s.out_features, n0 = panel * kPanelColumns;
  const auto source_row = [&](int64_t r) { return plan.rows[r]; };
  for (size_t seg = 0; seg < plan.units.size(); ++seg) {
    const int64_t g = plan.group[seg];
    uint16_t* header = reinterpret_cast<uint16_t*>(out);
    for (int64_t c = 0; c < kPanelColumns; ++c) {
      const int64_t n = n0 + c;
      header[c] = n < N ? s.scales_fp16[g * N + n] : 0;
      header[kPanelColumns + c] = float_to_fp16(n < N ? -static_cast<float>(s.zeros[g * N + n]) : 0.0f);
    }
    out += kHeaderBytes;
    const int64_t u0 = first_unit[seg], u1 = first_unit[seg + 1];
    with_bits(s.bits, [&]<int BITS>() { pack_units<BITS>(q, N, n0, u0, u1, source_row, out); });
    out += (u1 - u0) * unit_bytes(s.bits);
  }
}

}  // namespace

void PackedGptq::FreeDeleter::operator()(uint8_t* p) const { std::free(p); }

PackedGptq::PackedGptq(const GptqSource& s) : in_features_(s.in_features) {
  validate_gptq_source(s);
  SegmentPlan plan = plan_segments(s);
  segment_units_ = plan.units;
  segment_first_unit_.assign(1, 0);
  for (int32_t units : segment_units_) segment_first_unit_.push_back(segment_first_unit_.back() + units);

  layout_.bits = s.bits;
  layout_.n_cols = s.out_features;
  layout_.k_rows = int64_t{segment_first_unit_.back()} * unit_values(s.bits);
  layout_.n_panels = (s.out_features + kPanelColumns - 1) / kPanelColumns;
  layout_.n_segments = static_cast<int32_t>(segment_units_.size());
  layout_.panel_bytes = layout_.n_segments * kHeaderBytes + int64_t{segment_first_unit_.back()} * unit_bytes(s.bits);
  data_.reset(static_cast<uint8_t*>(std::aligned_alloc(64, static_cast<size_t>(layout_.n_panels * layout_.panel_bytes))));
  if (!data_) throw std::bad_alloc();
  const std::vector<uint8_t> q = unpack_values(s);
  for (int64_t p = 0; p < layout_.n_panels; ++p) {
    write_panel(s, q, plan, segment_first_unit_, p, data_.get() + p * layout_.panel_bytes);
  }
  if (!plan.identity) row_source_ = std::move(plan.rows);

  layout_.segment_units = segment_units_.data();
  layout_.segment_first_unit = segment_first_unit_.data();
  layout_.row_source = row_source_.empty() ? nullptr : row_source_.data();
  layout_.data = data_.get();
}

int64_t PackedGptq::bytes() const {
  return layout_.n_panels * layout_.panel_bytes +
         static_cast<int64_t>(4 * (segment_units_.size() + segment_first_unit_.size() + row_source_.size())) +
         static_cast<int64_t>(sizeof(*this));
}

std::shared_ptr<const PackedGptq> pack_gptq(const GptqSource& source) {
  return std::make_shared<const PackedGptq>(source);
}

}  // namespace gptq::cpu
