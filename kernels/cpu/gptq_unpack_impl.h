// Unpacking the words of the GPTQ layout (gptq_layout.h) in vector
// registers: value I of a unit, for W columns at once, is a shift, a mask
// and an int -> fp32 conversion, with I, the shift and the mask all
// compile-time constants (the unit loop is unrolled).
#pragma once

#include <cstdint>
#include <utility>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/gptq_layout.h"

namespace gptq::cpu {
namespace {  // internal linkage: see kernel_set.h

// Calls f.template operator()<I>() for I = 0, 1, ..., N - 1, unrolled.
template <int N, class F>
inline void unrolled(F&& f) {
  [&]<int... I>(std::integer_sequence<int, I...>) { (f.template operator()<I>(), ...); }(
      std::make_integer_sequence<int, N>{});
}

// Calls f.template operator()<BITS>() for the run-time bit width, so each
// width gets its own fully unrolled kernel.
template <class F>
void with_bits(int bits, F&& f) {
  switch (bits) {
    case 2: return f.template operator()<2>();
    case 3: return f.template operator()<3>();
    case 4: return f.template operator()<4>();
    default: return f.template operator()<8>();
  }
}

// Value I of a unit, W columns at once, from that unit's words for those
// columns (words[0 .. unit_words(BITS))).
template <class V, int BITS, int I>
typename V::vec unit_value(const typename V::ivec* words) {
  using ivec = typename V::ivec;
  constexpr int per_word = values_per_word(BITS);
  if constexpr (I >= per_word * unit_words(BITS)) {
    // 3 bits, values 30 and 31: low bits on top of word I - 30, high bit
    // at bit I of word 2.
    const ivec low = V::template shift_right<30>(words[I - 30]);
    const ivec high = V::bit_and(V::template shift_right<I - 2>(words[2]), V::set1_int(4));
    return V::int_to_float(V::bit_or(low, high));
  } else {
    constexpr int shift = I % per_word * BITS;
    ivec v = words[I / per_word];
    if constexpr (shift > 0) v = V::template shift_right<shift>(v);
    if constexpr (shift + BITS < 32) v = V::bit_and(v, V::set1_int((1u << BITS) - 1u));
    return V::int_to_float(v);
  }
}

// Where NV vectors of columns, starting at matrix column `col`, sit in
// their panel's stream: the base addresses of their words and of their
// header entries, to which a stream offset is added. The columns lie in
// one panel (col is a multiple of NV * W, which divides kPanelColumns), so
// vector v is a constant distance from vector 0.
template <class V, int NV>
struct TileColumns {
  static_assert(kPanelColumns % (NV * V::W) == 0);
  const uint8_t* words;
  const uint8_t* header;

  TileColumns(const GptqLayout& layout, int64_t col) {
    const uint8_t* panel = layout.data + (col / kPanelColumns) * layout.panel_bytes;
    words = panel + 4 * (col % kPanelColumns);
    header = panel + 2 * (col % kPanelColumns);
  }

  // The words of the unit at `offset`, unit_words(BITS) per vector.
  template <int BITS>
  void load_unit(int64_t offset, typename V::ivec (*out)[unit_words(BITS)]) const {
    const uint32_t* unit = reinterpret_cast<const uint32_t*>(words + offset);
    for (int v = 0; v < NV; ++v) {
      for (int j = 0; j < unit_words(BITS); ++j) out[v][j] = V::load_words(unit + j * kPanelColumns + v * V::W);
    }
  }

  // The segment header at `offset`: scales and s * -z.
  void load_header(int64_t offset, typename V::vec* scale, typename V::vec* scaled_neg_zero) const {
    for (int v = 0; v < NV; ++v) {
      const uint8_t* at = header + offset + 2 * v * V::W;
      scale[v] = V::template load_weights<FloatType::F16>(at);
      scaled_neg_zero[v] = V::mul(scale[v], V::template load_weights<FloatType::F16>(at + 2 * kPanelColumns));
    }
  }
};

}  // namespace
}  // namespace gptq::cpu
