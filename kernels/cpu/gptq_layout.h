// The CPU layout of a GPTQ-quantized linear layer (K inputs, N outputs,
// b = 2, 3, 4 or 8 bits), built once at load by gptq_pack.cpp from the
// checkpoint's qweight / zeros / scales / g_idx.
//
// Why this shape
//  - Vector lanes run along N (output columns), as in GPTQ's own qweight:
//    one 32-bit word per column holds 32/b consecutive k values, so a
//    vector load brings W columns x 32/b values of k, and value i of every
//    lane comes out with one shift and one mask, then an int -> fp32
//    conversion. Each value is then one FMA against the broadcast x[k]: the
//    decode loop is  acc[n] += q[k][n] * x[k]  with no per-weight scale.
//  - Scale and zero are per group and column, so they are applied once per
//    group and vector of columns, outside that loop:
//        sum_{k in g} w[n][k] x[k] = s[g][n] * sum q x  -  s[g][n] z[g][n] * sum x
//    (sum x over the group is computed once per call). Along N, s and z are
//    themselves vectors: no horizontal reduction anywhere.
//  - The same words dequantized (w = q * s + s * -z, one FMA) are exactly the
//    fp32 panels [k][NR] the GEMM microkernel consumes for prefill, with no
//    transpose: pack_b becomes unpack + FMA + store.
//  - Columns are cut into panels of kPanelColumns = 64, and each panel is
//    one contiguous stream over all of K. A decode tile is (at most) one
//    panel, and a thread takes consecutive panels, so it reads one
//    sequential stream in memory order: the hardware prefetcher follows it,
//    and a software prefetch a fixed distance ahead runs on into the next
//    panel. (With 32-column panels and two-panel tiles, every tile started
//    two short streams, and 8-bit decode streamed at half the fp16 rate.)
//    qweight itself would give 64-byte pieces N * 4 bytes apart.
//  - K is cut into segments, one per group, each contiguous. The stream of a
//    panel interleaves, per segment, a header (64 fp16 scales and 64 fp16
//    negated zeros: 256 bytes, read once per group) and the segment's units.
//    fp16 keeps the header at 4 bytes per group and column; both values are
//    exact in fp16 (the checkpoint's own scale; an integer zero <= 256), and
//    s * -z is exact in fp32 (11 + 9 significant bits), so the kernels
//    dequantize to the very bits of the reference's s * (q - z).
//  - A unit is the smallest run of k that fills whole words: 32/b values in
//    one word for b = 2, 4, 8; for b = 3, 32 values in three words, laid
//    out so that no value straddles words (unlike the checkpoint): words 0,
//    1, 2 hold values 0-9, 10-19, 20-29 at bits 3j; values 30 and 31 keep
//    their low two bits at bits 30-31 of words 0 and 1 and their high bit at
//    bits 30 and 31 of word 2. A unit stores its words word-major: word j of
//    the 64 columns, then word j + 1.
//
// Act-order (non-monotonic g_idx): K is reordered once, stably by group, so
// every group is one segment; the kernels read x through the same
// permutation (row_source), gathered once per call. A segment whose length
// is not a whole number of units (any group size not a multiple of 32/b) is
// padded with zero weights, and the gathered x has zeros there. Without
// act-order and with aligned groups, row_source is null and x is read in
// place.
//
// Byte layout of one panel (panel_bytes apart, 64-byte aligned):
//   for each segment s:  header  [2][64] fp16 (scales, then -zeros)
//                        units   [segment_units[s]][unit_words][64] uint32
// Columns past N (the last panel) have zero words, scales and zeros.
#pragma once

#include <cstdint>

namespace gptq::cpu {

struct GptqLayout {
  int bits = 0;
  int64_t n_cols = 0;    // N
  int64_t k_rows = 0;    // packed rows of K: K, or more with padded segments
  int64_t n_panels = 0;  // ceil(N / kPanelColumns)
  int64_t panel_bytes = 0;
  int32_t n_segments = 0;
  const int32_t* segment_units = nullptr;       // [n_segments]
  const int32_t* segment_first_unit = nullptr;  // [n_segments + 1], prefix sums of segment_units
  const int32_t* row_source = nullptr;          // [k_rows]: column of x, or -1 (padding); null: identity
  const uint8_t* data = nullptr;
};

namespace {  // internal linkage: see kernel_set.h

constexpr int64_t kPanelColumns = 64;
constexpr int64_t kHeaderBytes = 2 * kPanelColumns * 2;

// Values of k per unit, words per column per unit, and values per word
// before the 3-bit unit's split values.
constexpr int unit_values(int bits) { return bits == 3 ? 32 : 32 / bits; }
constexpr int unit_words(int bits) { return bits == 3 ? 3 : 1; }
constexpr int values_per_word(int bits) { return bits == 3 ? 10 : 32 / bits; }
constexpr int64_t unit_bytes(int bits) { return unit_words(bits) * kPanelColumns * 4; }

// Where the header of segment s starts in a panel's stream.
inline int64_t segment_offset(const GptqLayout& layout, int32_t s) {
  return s * kHeaderBytes + int64_t{layout.segment_first_unit[s]} * unit_bytes(layout.bits);
}

}  // namespace
}  // namespace gptq::cpu
