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

// One panel's stream: per segment, the header, then the units.
void write_panel(const GptqSource& s, const std::vector<uint8_t>& q, const GptqSegmentPlan& plan,
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
  GptqSegmentPlan plan = plan_gptq_segments(s, unit_values(s.bits));
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
  const std::vector<uint8_t> q = unpack_gptq_codes(s);
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
