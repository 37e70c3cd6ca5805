// Device helpers of the GPTQ kernels (gptq_gemm.cu, gptq_decode.cu) over
// the layout of gptq_layout.h: streaming loads of tile words, a lane's
// scales and zero points, and the turning of a k16 step's words into the
// B fragments of m16n8k16 products, dequantized or as (magic + q).
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kernels/cuda/device_common.cuh"
#include "kernels/cuda/gptq_gemm.h"
#include "kernels/cuda/gptq_layout.h"
#include "kernels/cuda/tensor_core.cuh"

namespace gptq::gpu {

// 128 bits of weights that are read once: keep them out of L1.
__device__ __forceinline__ uint4 load_stream(const uint4* p) {
#if defined(GPTQ_GPU_CUDA) && defined(__CUDA_ARCH__)
  uint4 v;
  asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p));
  return v;
#else
  return *p;
#endif
}

// A lane's 4 * BITS words of a tile laid out as in global memory (uint4 u
// of the lane at u * 32 + lane), from memory read by ordinary loads.
template <int BITS>
__device__ __forceinline__ void tile_words(const uint4* tile, int lane, uint32_t (&words)[4 * BITS]) {
#pragma unroll
  for (int u = 0; u < BITS; ++u) {
    const uint4 q = tile[u * 32 + lane];
    words[4 * u] = q.x;
    words[4 * u + 1] = q.y;
    words[4 * u + 2] = q.z;
    words[4 * u + 3] = q.w;
  }
}

// A lane's BITS words of k16 step ks of a tile laid out as in global
// memory, from memory read by ordinary loads (shared memory: only the one
// or two uint4 that hold them, so a tile's words are never all live).
template <int BITS>
__device__ __forceinline__ void step_words_of(const uint4* tile, int lane, int ks, uint32_t (&step)[BITS]) {
  const int first = ks * BITS / 4, last = (ks * BITS + BITS - 1) / 4;
  uint32_t held[8];
#pragma unroll
  for (int u = first; u <= last; ++u) {
    const uint4 q = tile[u * 32 + lane];
    held[4 * (u - first)] = q.x;
    held[4 * (u - first) + 1] = q.y;
    held[4 * (u - first) + 2] = q.z;
    held[4 * (u - first) + 3] = q.w;
  }
#pragma unroll
  for (int j = 0; j < BITS; ++j) step[j] = held[ks * BITS + j - 4 * first];
}

// The exponent pattern the dequantization ORs in, which (magic + zero)
// takes back out (gptq_repack.cpp's zero_magic).
template <typename T, int BITS>
__device__ __forceinline__ constexpr int zero_magic_device() {
  if constexpr (std::is_same_v<T, __half>) return 1024;
  else if constexpr (std::is_same_v<T, gpu_bf16>) return BITS == 8 ? 0 : 128;
  else return 0;
}

// A float another block wrote through L2 (split-K partial sums).
__device__ __forceinline__ float load_coherent(const float* p) {
#if GPTQ_GPU_CUDA
  return __ldcg(p);
#else
  return *static_cast<const volatile float*>(p);
#endif
}

// Both values of pair p of pair word j of a step (w: the step's words),
// still in their bit positions 0.. and 16...
template <int BITS>
__device__ __forceinline__ uint32_t pair_bits_of(const uint32_t* w, int j, int p) {
  constexpr int pb = pair_bits(BITS);
  constexpr uint32_t mask = ((1u << pb) - 1u) * 0x00010001u;
  uint32_t v = (w[j] >> (p * pb)) & mask;
  if constexpr (BITS == 3) v |= ((w[2] >> (8 * j + p)) & 0x00010001u) << 2;
  return v;
}

// Per lane, its 8 columns' scale and (magic + zero) for one group of a
// strip: two 16-byte loads (fp16/bf16), four for fp32.
template <typename T>
struct GroupParams {
  T scale[kFragments];
  T zero[kFragments];
};

template <typename T>
__device__ __forceinline__ void load_group(const GptqTiles& w, int group, int nt, int lane, GroupParams<T>& g) {
  const int64_t at = ((int64_t{group} * w.n_tiles() + nt) * 8 + lane / 4) * 8;
  constexpr int kVectors = sizeof(T) * kFragments / 16;
  const uint4* s = reinterpret_cast<const uint4*>(static_cast<const T*>(w.scales) + at);
  const uint4* z = reinterpret_cast<const uint4*>(static_cast<const T*>(w.zero_bias) + at);
  uint4* gs = reinterpret_cast<uint4*>(g.scale);
  uint4* gz = reinterpret_cast<uint4*>(g.zero);
#pragma unroll
  for (int i = 0; i < kVectors; ++i) {
    gs[i] = __ldg(s + i);
    gz[i] = __ldg(z + i);
  }
}

// Offset sums (the decode forms for groups of whole tiles): the tensor
// cores sum (magic + q) x, and the group's scale and zero point are applied
// to those sums once per group, with the sum of x over the group:
// sum (q - z) x = sum (magic + q) x - (magic + z) sum x.
//
// fp16 4-bit codes skip the shifts of odd pairs: the codes at bits 4-7 and
// 20-23 (12-15, 28-31 after the one shift by 8 a word needs) are masked in
// place, which gives (1024 + 16 q), still exact in fp16; those pairs fill
// register 1 (k + 8 .. k + 15 of a step), so that half of x is scaled by
// 1/16 (exact), and the sum holds 1024 sum x' + sum q x, x' being x as scaled.
template <typename T, int BITS>
constexpr bool sixteenths_in_high_half() {
  return std::is_same_v<T, __half> && BITS == 4;
}

// (magic + q) is exact in T: fp16 holds every code, bf16's 8 bits all but 8-bit ones.
template <typename T, int BITS>
constexpr bool offset_sums_exact() {
  return std::is_same_v<T, __half> || BITS != 8;
}

#if GPTQ_HAS_MMA

template <typename T>
__device__ __forceinline__ uint32_t duplicate(T v) {
  uint16_t bits;
  __builtin_memcpy(&bits, &v, 2);
  return uint32_t{bits} * 0x00010001u;
}

// The exponent pattern ORed into a pair of codes: (1024 + q) per fp16
// half, (128 + q) per bf16 half (not for 8-bit bf16, whose codes it cannot hold).
template <typename T>
constexpr uint32_t magic_pair() {
  return std::is_same_v<T, __half> ? 0x64006400u : 0x43004300u;
}

// Pair p of pair word j with `magic` ORed in. The mask and the OR are one
// LOP3: left to itself the compiler spends two (both operands constants).
template <int BITS>
__device__ __forceinline__ uint32_t pair_bits_with(const uint32_t* w, int j, int p, uint32_t magic) {
  if constexpr (BITS == 3) {
    return pair_bits_of<BITS>(w, j, p) | magic;
  } else {
    constexpr int pb = pair_bits(BITS);
    constexpr uint32_t mask = ((1u << pb) - 1u) * 0x00010001u;
    uint32_t out;
    asm("lop3.b32 %0, %1, %2, %3, 0xEA;" : "=r"(out) : "r"(w[j] >> (p * pb)), "n"(mask), "r"(magic));
    return out;
  }
}

// (magic + q - (magic + z)) * s for both values of a pair: h holds (magic + q).
template <typename T>
__device__ __forceinline__ uint32_t dequant_magic_pair(uint32_t h, uint32_t zero2, uint32_t scale2) {
  uint32_t out;
  if constexpr (std::is_same_v<T, __half>) {
    const __half2 d = __hmul2(__hsub2(*reinterpret_cast<__half2*>(&h), *reinterpret_cast<__half2*>(&zero2)),
                              *reinterpret_cast<__half2*>(&scale2));
    out = *reinterpret_cast<const uint32_t*>(&d);
  } else {
    const __nv_bfloat162 d =
        __hmul2(__hsub2(*reinterpret_cast<__nv_bfloat162*>(&h), *reinterpret_cast<__nv_bfloat162*>(&zero2)),
                *reinterpret_cast<__nv_bfloat162*>(&scale2));
    out = *reinterpret_cast<const uint32_t*>(&d);
  }
  return out;
}

// (q - z) * s for both values of a pair (v: the codes), as one register of two T.
template <typename T, int BITS>
__device__ __forceinline__ uint32_t dequant_pair(uint32_t v, uint32_t zero2, uint32_t scale2) {
  if constexpr (std::is_same_v<T, __half> || BITS != 8) {
    return dequant_magic_pair<T>(v | magic_pair<T>(), zero2, scale2);
  } else {
    // 8-bit codes do not fit bf16's 7-bit mantissa: through fp32 (z <= 256 is exact in bf16).
    const __nv_bfloat162 z = *reinterpret_cast<__nv_bfloat162*>(&zero2);
    const __nv_bfloat162 s = *reinterpret_cast<__nv_bfloat162*>(&scale2);
    const float lo = __uint_as_float(0x4B000000u | (v & 0xffffu)) - 8388608.0f;
    const float hi = __uint_as_float(0x4B000000u | (v >> 16)) - 8388608.0f;
    const __nv_bfloat162 d = __floats2bfloat162_rn((lo - __low2float(z)) * __low2float(s),
                                                   (hi - __high2float(z)) * __high2float(s));
    return *reinterpret_cast<const uint32_t*>(&d);
  }
}

// The eight B fragments of one k16 step.
template <typename T, int BITS>
__device__ __forceinline__ void step_fragments(const uint32_t* step, const uint32_t (&scale2)[kFragments],
                                               const uint32_t (&zero2)[kFragments], uint32_t (&b)[kFragments][2]) {
#pragma unroll
  for (int j = 0; j < pair_words(BITS); ++j) {
#pragma unroll
    for (int p = 0; p < pairs_per_word(BITS); ++p) {
      const int f = pair_fragment(BITS, j, p), r = pair_register(BITS, p);
      if constexpr (std::is_same_v<T, __half> || BITS != 8) {
        b[f][r] = dequant_magic_pair<T>(pair_bits_with<BITS>(step, j, p, magic_pair<T>()), zero2[f], scale2[f]);
      } else {
        b[f][r] = dequant_pair<T, BITS>(pair_bits_of<BITS>(step, j, p), zero2[f], scale2[f]);
      }
    }
  }
}

// acc[c] += the step's weight columns 16c..16c + 15 times x: fragments 2c
// and 2c + 1 as the m16 A of an m16n8k16, x's n8 B operand (the product
// taken transposed, for few rows of x).
template <typename T>
__device__ __forceinline__ void mma_transposed(float (&acc)[kFragments / 2][4], const uint32_t (&b)[kFragments][2],
                                               const uint32_t (&x)[2]) {
#pragma unroll
  for (int c = 0; c < kFragments / 2; ++c) {
    const uint32_t weights[4] = {b[2 * c][0], b[2 * c + 1][0], b[2 * c][1], b[2 * c + 1][1]};
    mma_16816<T>(acc[c], weights, x);
  }
}

// The eight B fragments of one k16 step as (magic + q), not dequantized
// (register 1 as (magic + 16 q) where sixteenths_in_high_half).
template <typename T, int BITS>
__device__ __forceinline__ void offset_fragments(const uint32_t* step, uint32_t (&b)[kFragments][2]) {
  if constexpr (sixteenths_in_high_half<T, BITS>()) {
#pragma unroll
    for (int j = 0; j < pair_words(BITS); ++j) {
      const uint32_t words[2] = {step[j], step[j] >> 8};
#pragma unroll
      for (int p = 0; p < pairs_per_word(BITS); ++p) {
        constexpr uint32_t kMasks[2] = {0x000F000Fu, 0x00F000F0u};
        uint32_t out;
        asm("lop3.b32 %0, %1, %2, %3, 0xEA;" : "=r"(out) : "r"(words[p / 2]), "r"(kMasks[p % 2]), "r"(magic_pair<T>()));
        b[pair_fragment(BITS, j, p)][pair_register(BITS, p)] = out;
      }
    }
  } else {
#pragma unroll
    for (int j = 0; j < pair_words(BITS); ++j) {
#pragma unroll
      for (int p = 0; p < pairs_per_word(BITS); ++p) {
        b[pair_fragment(BITS, j, p)][pair_register(BITS, p)] = pair_bits_with<BITS>(step, j, p, magic_pair<T>());
      }
    }
  }
}

// x's n8 B operand of a step as offset_fragments needs it.
template <typename T, int BITS>
__device__ __forceinline__ void offset_x(uint32_t (&x)[2]) {
  if constexpr (sixteenths_in_high_half<T, BITS>()) {
    const __half2 sixteenth = __float2half2_rn(0.0625f);
    const __half2 high = __hmul2(*reinterpret_cast<const __half2*>(&x[1]), sixteenth);
    x[1] = *reinterpret_cast<const uint32_t*>(&high);
  }
}

template <typename T>
constexpr uint32_t one_pair() {
  return std::is_same_v<T, __half> ? 0x3C003C00u : 0x3F803F80u;
}

// x_sum += the step's sums of x for x rows 2(lane%4) (+1), as the m16 A
// of ones times x leaves them: [0], [1] the sum of x as offset_x scaled it
// (what the magic multiplies), [2], [3] the true sum (what the zero
// multiplies; A rows 8-15 hold 16 where x was scaled by 1/16).
template <typename T, int BITS>
__device__ __forceinline__ void add_x_sums(float (&x_sum)[4], const uint32_t (&x)[2]) {
  constexpr uint32_t kHigh = sixteenths_in_high_half<T, BITS>() ? 0x4C004C00u : one_pair<T>();
  constexpr uint32_t kPattern[4] = {one_pair<T>(), one_pair<T>(), one_pair<T>(), kHigh};
  mma_16816<T>(x_sum, kPattern, x);
}

// (q - z) x summed over a group, from the group's offset sum `tile` (for
// x row i % 2 of the lane), x_sum as add_x_sums left it, and the column's
// scale and (magic + zero).
template <typename T>
__device__ __forceinline__ float group_sum(float tile, const float (&x_sum)[4], int i, float scale, float magic_zero) {
  constexpr float kMagic = std::is_same_v<T, __half> ? 1024.0f : 128.0f;
  const float scaled = x_sum[i % 2], whole = x_sum[2 + i % 2];
  return scale * (tile + kMagic * (whole - scaled) - magic_zero * whole);
}

template <typename T>
__device__ __forceinline__ void pairs_of(const GroupParams<T>& g, uint32_t (&scale2)[kFragments],
                                         uint32_t (&zero2)[kFragments]) {
#pragma unroll
  for (int f = 0; f < kFragments; ++f) {
    scale2[f] = duplicate(g.scale[f]);
    zero2[f] = duplicate(g.zero[f]);
  }
}

// Rows past M load nothing (at M = 1 only 4 lanes of 32 read x; clamped
// loads by every lane measured 3-12% slower on the H200).
__device__ __forceinline__ uint32_t load_pair(const void* x, int64_t ld, int row, int k, int m) {
  return row < m ? __ldg(reinterpret_cast<const uint32_t*>(static_cast<const uint16_t*>(x) + row * ld + k)) : 0u;
}

// The dequantized B fragments of step ks of tile kt from the step's words;
// groups smaller than a tile load the step's own scales and zero points first.
template <typename T, int BITS>
__device__ __forceinline__ void dequantized_step(const GptqTiles& w, int kt, int ks, int nt, int lane,
                                                 const uint32_t* step, uint32_t (&scale2)[kFragments],
                                                 uint32_t (&zero2)[kFragments], uint32_t (&b)[kFragments][2]) {
  if (w.tiles_per_group == 0) {
    GroupParams<T> g;
    load_group(w, w.block_group[kt * kStepsPerTile + ks], nt, lane, g);
    pairs_of(g, scale2, zero2);
  }
  step_fragments<T, BITS>(step, scale2, zero2, b);
}

// A tile's x as the n8 B operands of the transposed product, one per k16
// step: rows m0 + lane/4 (zeros past M), k = 2(lane%4) (+1) and + 8 (+1).
__device__ __forceinline__ void load_x_as_b(const GptqGemmArgs& a, int m0, int kt, int lane,
                                            uint32_t (&x)[kStepsPerTile][2]) {
  const int k0 = kt * kTileK + 2 * (lane % 4), row = m0 + lane / 4;
#pragma unroll
  for (int ks = 0; ks < kStepsPerTile; ++ks) {
    x[ks][0] = load_pair(a.x, a.ld_x, row, k0 + ks * kStepK, a.m);
    x[ks][1] = load_pair(a.x, a.ld_x, row, k0 + ks * kStepK + 8, a.m);
  }
}

// NB n8 tiles of x (rows m0 + 8nb on) as load_x_as_b loads one.
template <int NB>
__device__ __forceinline__ void load_x_tiles_as_b(const GptqGemmArgs& a, int m0, int kt, int lane,
                                                  uint32_t (&x)[NB][kStepsPerTile][2]) {
#pragma unroll
  for (int nb = 0; nb < NB; ++nb) load_x_as_b(a, m0 + 8 * nb, kt, lane, x[nb]);
}

// Where 16-byte chunk `chunk` of row `row` of a 64-column tile of x sits
// (in elements) when staged in shared memory: chunks XOR-swizzled by row,
// so ldmatrix reads them without bank conflicts.
__device__ __forceinline__ int swizzled_x(int row, int chunk) { return row * kTileK + ((chunk ^ (row % 8)) * 8); }

#endif  // GPTQ_HAS_MMA

// Blocks of `strips_per_block` column strips an output takes.
GPTQ_HD int column_blocks_of(const GptqTiles& w, int strips_per_block) {
  return (w.n_tiles() + strips_per_block - 1) / strips_per_block;
}

// Which output a flat index of column blocks (of `strips_per_block`
// strips, none spanning two outputs) belongs to; `block` becomes the
// index within that output.
__device__ __forceinline__ int output_of(const GptqGemmArgs& a, int& block, int strips_per_block = 1) {
  int o = 0;
  while (o + 1 < a.n_outputs && block >= column_blocks_of(a.outputs[o].w, strips_per_block)) {
    block -= column_blocks_of(a.outputs[o].w, strips_per_block);
    ++o;
  }
  return o;
}

// Whether this block is the last of the `splits` blocks that count on
// `counter` to arrive, its partial sums written (every thread calls it);
// the last one leaves the counter zeroed for the next launch.
__device__ __forceinline__ bool arrived_last(int* counter, int splits) {
  __shared__ int last;
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) {
    last = atomicAdd(counter, 1) == splits - 1;
    if (last) *counter = 0;
  }
  __syncthreads();
  if (last) __threadfence();
  return last;
}

// Element `at` of the split slots (`slot` floats apart) added in split
// order: the same result whichever block finished first.
__device__ __forceinline__ float sum_of_splits(const float* ws, int64_t slot, int splits, int64_t at) {
  float v = 0.0f;
  for (int s = 0; s < splits; ++s) v += load_coherent(ws + s * slot + at);
  return v;
}

// Calls f.template operator()<BITS>() for a supported bit width.
template <typename F>
void with_bits(int bits, F&& f) {
  switch (bits) {
    case 2: f.template operator()<2>(); break;
    case 3: f.template operator()<3>(); break;
    case 4: f.template operator()<4>(); break;
    case 8: f.template operator()<8>(); break;
  }
}

// Column strips over all the outputs of a launch.
inline int total_strips(const GptqGemmArgs& a) {
  int total = 0;
  for (int o = 0; o < a.n_outputs; ++o) total += a.outputs[o].w.n_tiles();
  return total;
}

// The split-K scratch of a launch (gptq_gemm.h): each output holds splits
// x M rows x N' partial sums, then kCounterMBlocks m blocks x strips
// counters, which the last block of each strip leaves zeroed.
constexpr int kCounterMBlocks = 16;

__device__ __forceinline__ void scratch_of(const GptqGemmArgs& a, int o, int splits, int64_t& ws_offset,
                                           int64_t& counter_offset) {
  ws_offset = 0;
  counter_offset = 0;
  for (int i = 0; i < o; ++i) {
    ws_offset += int64_t{splits} * a.m * a.outputs[i].w.n_padded;
    counter_offset += int64_t{kCounterMBlocks} * a.outputs[i].w.n_tiles();
  }
}

#if GPTQ_HAS_MMA
// The end of a block of the tiled kernels (gptq_tiled.cu, gptq_wgmma.cu),
// called by every thread: its sums for rows [m0, m0 + block_rows) and
// column strips [strip0, strip0 + strips_here) of output o, stored with
// the bias added, or, when K is split, written to split `split`'s
// workspace slot, and the last block of the (m block, strip) to arrive
// adds the slots in split order. each_pair(f) calls f(row, column, sum,
// sum of column + 1) over this thread's sums (column even); threads that
// hold none pass active = false.
template <typename T, typename EachPair>
__device__ __forceinline__ void finish_tiles(const GptqGemmArgs& a, int o, int split, int splits, int m_block, int m0,
                                             int block_rows, int strip0, int strips_here, bool active,
                                             EachPair&& each_pair) {
  const GptqGemmOutput& out = a.outputs[o];
  const GptqTiles& w = out.w;
  const T* bias = static_cast<const T*>(out.bias);
  T* y = static_cast<T*>(out.y);
  auto store = [&](int row, int col, float v) {
    if (bias != nullptr) v += to_float(bias[col]);
    y[int64_t{row} * out.ld_y + col] = from_float<T>(v);
  };
  if (splits == 1) {
    if (!active) return;
    each_pair([&](int row, int col, float v0, float v1) {
      if (row >= a.m) return;
      if (col < w.n) store(row, col, v0);
      if (col + 1 < w.n) store(row, col + 1, v1);
    });
    return;
  }
  int64_t ws_offset, counter_offset;
  scratch_of(a, o, splits, ws_offset, counter_offset);
  float* ws = a.workspace + ws_offset;
  const int64_t slot = int64_t{a.m} * w.n_padded;
  if (active) {
    each_pair([&](int row, int col, float v0, float v1) {
      if (row < a.m) *reinterpret_cast<float2*>(ws + split * slot + int64_t{row} * w.n_padded + col) = make_float2(v0, v1);
    });
  }
  if (!arrived_last(a.counters + counter_offset + int64_t{m_block} * w.n_tiles() + strip0, splits)) return;
  const int rows = min(block_rows, a.m - m0), columns = strips_here * kTileN;
  for (int e = threadIdx.x; e < rows * columns; e += blockDim.x) {
    const int row = m0 + e / columns, col = strip0 * kTileN + e % columns;
    if (col < w.n) store(row, col, sum_of_splits(ws, slot, splits, int64_t{row} * w.n_padded + col));
  }
}
#endif  // GPTQ_HAS_MMA

// K splits of `units` blocks (strips x m blocks), at most `most`: as many
// as the fewest waves of `slots` resident blocks hold. Every wave pays the
// start of its blocks (the first loads' latency) and its split-K sums, which
// fewer, longer blocks amortise (bench/gpu/NOTES.md, fourth pass).
inline int wave_splits(int64_t units, int64_t slots, int64_t most) {
  units = std::max<int64_t>(units, 1);
  const int64_t waves = (units + slots - 1) / slots;
  return static_cast<int>(std::clamp<int64_t>(std::min(most, waves * slots / units), 1, 64));
}

// Splits whose partial sums the workspace holds.
inline int64_t splits_that_fit(const GptqGemmArgs& a) {
  int64_t padded = 0;
  for (int o = 0; o < a.n_outputs; ++o) padded += a.outputs[o].w.n_padded;
  return a.workspace_floats / std::max<int64_t>(1, int64_t{a.m} * padded);
}

}  // namespace gptq::gpu
