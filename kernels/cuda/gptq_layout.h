// The GPU layout of a GPTQ-quantized linear layer (K inputs, N outputs,
// b = 2, 3, 4 or 8 bits), made once at load by gptq_repack.cpp from the
// checkpoint's qweight / zeros / scales / g_idx, and read by the kernels in
// gptq_gemm.cu. Host and device code share the functions below, so the CPU
// tests check the repack against the very extraction the kernels do.
//
// Why this shape
//  - The tensor cores take B (the weights, k x n) of an m16n8k16 product as
//    fragments: lane l holds, for column n = l / 4, the k values
//    2(l%4) + {0, 1} (register 0) and 2(l%4) + 8 + {0, 1} (register 1).
//    The layout stores exactly what each lane needs, in the order it needs
//    it, so a warp's weight loads are 16-byte, coalesced, conflict-free and
//    the dequantized values land in fragment registers with no shuffle
//    (Marlin's idea; our own ordering).
//  - A warp tile is 64 k x 64 n: 4 k16 steps x 8 n8 fragments. Each lane
//    holds 4 values of each of the 32 fragments of a tile: 128 b-bit values,
//    `bits` 16-byte words (uint4) in all. The tile's uint4 u of lane l sits
//    at (u * 32 + l) * 16 bytes: every uint4 load of a warp reads 512
//    contiguous bytes.
//  - A lane's 32-bit words run w = ks * bits + j (k16 step ks, word j of the
//    step). Two values that become one half2 (the same column, k and k + 1)
//    sit 16 bits apart, at bits [p*b, p*b + b) and [16 + p*b, ...) of a word
//    ("pair" p): one mask and one OR with an fp16/bf16 exponent pattern make
//    a half2 of (1024 + v) (fp16) or (128 + v) (bf16), and one subtraction
//    of (1024 + zero) leaves (v - zero) exactly, with no int-to-float
//    conversion (FasterTransformer's trick). Which fragment register a pair
//    fills: b = 4: pair p of word j -> fragment 2j + p/2, register p%2;
//    b = 8: fragment j, register p; b = 2: fragment 4j + p/2, register p%2.
//    b = 3 splits each value: words j = 0, 1 hold the low two bits as b = 2
//    does (fragments 0-3, 4-7) and word 2 the high bits, the bit of pair p of
//    word j at bit 8j + p (+16 for the second value of the pair).
//  - Tiles of one 64-column strip are consecutive along k, so the warps
//    that split K of a strip read one stream; strips follow each other.
//  - Scales and zero points, per group and column, are stored per strip as
//    [8 (c = l/4)][8 (fragment)]: a lane reads its 8 columns' values with one
//    16-byte load (fp16/bf16). Zero points are kept as (magic + zero), the
//    value the kernels subtract; scales in the compute type.
//
// K order: rows are grouped by g_idx (act-order checkpoints are reordered
// once, stably by group), each group padded to a multiple of 16 rows so a
// k16 step never spans two groups, and the total padded to a multiple of
// 64 (K'). block_group gives the group of every k16 step. When that order
// is not the identity (act-order, padding), row_source maps each of the K'
// rows to its input column (-1: padding) and x is gathered per call into
// that order (zeros in the padding); otherwise x is read in place. Columns
// past N (to N', a multiple of 64) are zero weights, never written out.
#pragma once

#include <cstdint>

#if defined(__CUDACC__) || defined(__HIPCC__)
#define GPTQ_HD __host__ __device__ __forceinline__
#else
#define GPTQ_HD inline
#endif

namespace gptq::gpu {

constexpr int kTileK = 64;
constexpr int kTileN = 64;
constexpr int kStepK = 16;
constexpr int kStepsPerTile = kTileK / kStepK;  // 4
constexpr int kFragments = kTileN / 8;          // 8 n8 fragments per tile

// 32-bit words a lane holds per tile, and per k16 step.
GPTQ_HD constexpr int lane_words(int bits) { return 4 * bits; }
GPTQ_HD constexpr int step_words(int bits) { return bits; }
GPTQ_HD constexpr int64_t tile_bytes(int bits) { return 32 * 16 * int64_t{bits}; }
// Words of a step that hold value pairs (the rest: 3-bit high bits).
GPTQ_HD constexpr int pair_words(int bits) { return bits == 3 ? 2 : bits; }
GPTQ_HD constexpr int pairs_per_word(int bits) { return bits == 8 ? 2 : bits == 4 ? 4 : 8; }
// Bits per value in a pair word (3-bit: the low two).
GPTQ_HD constexpr int pair_bits(int bits) { return bits == 3 ? 2 : bits; }

// Where pair p of pair word j of a step goes: fragment and register.
GPTQ_HD constexpr int pair_fragment(int bits, int j, int p) {
  return bits == 8 ? j : bits == 4 ? 2 * j + p / 2 : 4 * j + p / 2;
}
GPTQ_HD constexpr int pair_register(int bits, int p) { return bits == 8 ? p : p % 2; }

// The (k, n) inside a tile of value `half` (0, 1) of register r of
// fragment f of step ks, held by `lane`.
GPTQ_HD constexpr int fragment_k(int lane, int ks, int r, int half) {
  return ks * kStepK + 2 * (lane % 4) + 8 * r + half;
}
GPTQ_HD constexpr int fragment_n(int lane, int f) { return 8 * f + lane / 4; }

// Value `half` of pair p of the step's words (w points at its first word).
GPTQ_HD uint32_t pair_value(const uint32_t* w, int bits, int j, int p, int half) {
  const int pb = pair_bits(bits);
  const uint32_t mask = (1u << pb) - 1u;
  uint32_t v = (w[j] >> (16 * half + p * pb)) & mask;
  if (bits == 3) v |= ((w[2] >> (16 * half + 8 * j + p)) & 1u) << 2;
  return v;
}

// The layout of one prepared linear, as the kernels see it.
struct GptqTiles {
  int bits = 4;
  int32_t k = 0;          // K: input columns
  int32_t k_padded = 0;   // K': rows of the layout, a multiple of 64
  int32_t n = 0;          // N: output columns
  int32_t n_padded = 0;   // N': a multiple of 64
  int32_t n_groups = 0;
  const void* weights = nullptr;      // [N'/64 strips][K'/64 tiles][bits][32 lanes] x 16 bytes
  const void* scales = nullptr;       // [G][N'/64][8][8], compute type
  const void* zero_bias = nullptr;    // [G][N'/64][8][8], compute type: magic + zero
  const int32_t* block_group = nullptr;  // [K'/16]
  const int32_t* row_source = nullptr;   // [K'], or null: x is read in place
  // > 0 when every 64-row tile lies in one group and tile kt's group is
  // kt / tiles_per_group (groups of whole tiles, in order: the usual case,
  // act-order ones too once reordered); 0: read block_group per k16 step.
  int32_t tiles_per_group = 0;

  GPTQ_HD int32_t k_tiles() const { return k_padded / kTileK; }
  GPTQ_HD int32_t n_tiles() const { return n_padded / kTileN; }
};

}  // namespace gptq::gpu
