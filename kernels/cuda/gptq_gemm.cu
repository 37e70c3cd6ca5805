// GPTQ GEMM kernels over the layout of gptq_layout.h (see gptq_gemm.h for
// what each is for). Per lane and k16 step, `bits` 32-bit words of a tile
// become the eight n8 fragments of B: each pair of values is masked into
// the mantissa of an fp16/bf16 exponent pattern (no int-to-float
// conversion), the pattern plus the zero point is subtracted (exactly), and
// the difference scaled: w = (q - z) * s rounded once.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "kernels/cuda/device_common.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/gptq_decode.h"
#include "kernels/cuda/gptq_fragments.cuh"
#include "kernels/cuda/gptq_gemm.h"
#include "kernels/cuda/gptq_tiled.h"
#include "kernels/cuda/gptq_wgmma.h"
#include "kernels/cuda/tensor_core.cuh"

namespace gptq::gpu {
namespace {

constexpr int kStreamWarps = 4;
constexpr int kSimtRows = 4;
constexpr int kMaxSplitRows = 64;  // K is split only up to this many rows
static_assert(kMaxSplitRows / kSimtRows <= kCounterMBlocks, "split-K counters for every m block");

#if GPTQ_HAS_MMA

// The warps' transposed sums (acc[nb][c]: weight columns 16c + lane/4
// (+8), x rows 8nb + 2(lane%4) (+1)) added into red [8 NB][64], the warps
// in turn.
template <int NB>
__device__ __forceinline__ void add_transposed_sums(const float (&acc)[NB][kFragments / 2][4], float* red, int lane,
                                                    int warp) {
  __syncthreads();  // red is zeroed
  for (int turn = 0; turn < kStreamWarps; ++turn) {
    if (warp == turn) {
#pragma unroll
      for (int nb = 0; nb < NB; ++nb) {
#pragma unroll
        for (int c = 0; c < kFragments / 2; ++c) {
          const int col = 16 * c + lane / 4, row = 8 * nb + 2 * (lane % 4);
          red[row * kTileN + col] += acc[nb][c][0];
          red[(row + 1) * kTileN + col] += acc[nb][c][1];
          red[row * kTileN + col + 8] += acc[nb][c][2];
          red[(row + 1) * kTileN + col + 8] += acc[nb][c][3];
        }
      }
    }
    __syncthreads();
  }
}

#endif  // GPTQ_HAS_MMA

// The block's sums (red: ROWS x 64 floats) go to y: directly, or, with K
// split over `splits` blocks, into this split's slot of the workspace; the
// last block of the strip to arrive adds the slots in split order (the
// same result every run) and writes y.
template <typename T, int ROWS>
__device__ void finish_strip(const GptqGemmArgs& a, int o, int nt, int m_block, int splits, const float* red) {
  const GptqGemmOutput& out = a.outputs[o];
  const int m0 = m_block * ROWS;
  const int rows = min(ROWS, a.m - m0);
  const T* bias = static_cast<const T*>(out.bias);
  T* y = static_cast<T*>(out.y);
  if (splits == 1) {
    for (int e = threadIdx.x; e < ROWS * kTileN; e += blockDim.x) {
      const int r = e / kTileN, n = nt * kTileN + e % kTileN;
      if (r >= rows || n >= out.w.n) continue;
      float v = red[e];
      if (bias != nullptr) v += to_float(bias[n]);
      y[(m0 + r) * out.ld_y + n] = from_float<T>(v);
    }
    return;
  }
  int64_t ws_offset, counter_offset;
  scratch_of(a, o, splits, ws_offset, counter_offset);
  float* ws = a.workspace + ws_offset;
  const int split = blockIdx.x % splits;
  const int64_t slot = int64_t{a.m} * out.w.n_padded;
  for (int e = threadIdx.x; e < ROWS * kTileN; e += blockDim.x) {
    const int r = e / kTileN, n = nt * kTileN + e % kTileN;
    if (r < rows) ws[split * slot + int64_t{m0 + r} * out.w.n_padded + n] = red[e];
  }
  if (!arrived_last(a.counters + counter_offset + int64_t{m_block} * out.w.n_tiles() + nt, splits)) return;
  for (int e = threadIdx.x; e < ROWS * kTileN; e += blockDim.x) {
    const int r = e / kTileN, n = nt * kTileN + e % kTileN;
    if (r >= rows || n >= out.w.n) continue;
    float v = sum_of_splits(ws, slot, splits, int64_t{m0 + r} * out.w.n_padded + n);
    if (bias != nullptr) v += to_float(bias[n]);
    y[(m0 + r) * out.ld_y + n] = from_float<T>(v);
  }
}

template <int BITS>
__device__ __forceinline__ void load_tile_words(const uint4* tile, int lane, uint32_t (&words)[4 * BITS]) {
#pragma unroll
  for (int u = 0; u < BITS; ++u) {
    const uint4 q = load_stream(tile + u * 32 + lane);
    words[4 * u] = q.x;
    words[4 * u + 1] = q.y;
    words[4 * u + 2] = q.z;
    words[4 * u + 3] = q.w;
  }
}

// The streaming kernel's forms for up to 16 rows (MT values below 1):
// transposed products with dequantized weights, or with offset sums
// (groups of whole tiles only).
constexpr int kTransposed = 0;
constexpr int kOffsetSums = -1;

// Rows of an m block of the streaming kernel: MT m16 tiles of x as A, or
// (MT < 1, decode) NB n8 tiles of x as B with the weights as A.
template <int MT, bool kMma, int NB = 1>
constexpr int stream_rows() {
  return !kMma ? kSimtRows : MT <= 0 ? 8 * NB : 16 * MT;
}

// Streaming GEMM for small and medium M: block = (output strip, K split,
// m block); its warps take the split's k tiles in turn, each holding the
// next tile's weights (and, with whole-tile groups, scales) in flight while
// it computes on the current one. With the tensor cores an m block is
// 16 * MT rows (MT m16 tiles share every dequantized fragment), or, for up
// to 16 rows (MT < 1), the product is taken transposed (y^T = W x^T, the
// weights' fragments as A, x as NB n8 B tiles): for up to 8 rows half the
// MMAs, accumulators and x registers of an m16 tile that would be mostly
// padding, so more warps fit an SM; for 9-16 rows (NB = 2) 8-15% faster on
// the H200 than one m16 tile. Without the tensor cores (fp32, HIP) an m
// block is kSimtRows rows of fp32 FMAs. Warps add into shared memory in
// turn, then finish_strip.
template <typename T, int BITS, int MT, bool kMma, int NB = 1>
__global__ void __launch_bounds__(kStreamWarps * 32) stream_kernel(const GptqGemmArgs a, int splits) {
  constexpr int ROWS = stream_rows<MT, kMma, NB>();
  __shared__ float red[ROWS * kTileN];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int e = threadIdx.x; e < ROWS * kTileN; e += blockDim.x) red[e] = 0.0f;
  int strip = blockIdx.x / splits;
  const int split = blockIdx.x % splits;
  const int o = output_of(a, strip);
  const int nt = strip;
  const GptqTiles& w = a.outputs[o].w;
  const int m_block = blockIdx.y, m0 = m_block * ROWS;
  const int k_tiles = w.k_tiles();
  const int kt_begin = static_cast<int>(int64_t{split} * k_tiles / splits);
  const int kt_end = static_cast<int>(int64_t{split + 1} * k_tiles / splits);
  const uint4* tiles = static_cast<const uint4*>(w.weights) + int64_t{nt} * k_tiles * (BITS * 32);
  const int per_group = w.tiles_per_group;

  // Two tiles in flight per warp: each buffer is refilled right after the
  // tile in it is used, so its load has the other tile's work to hide behind.
  // Each warp takes a contiguous run of the split's tiles.
  constexpr int kStride = 1;
  const int span = kt_end - kt_begin;
  const int kt0 = kt_begin + static_cast<int>(int64_t{warp} * span / kStreamWarps);
  const int warp_end = kt_begin + static_cast<int>(int64_t{warp + 1} * span / kStreamWarps);
  uint32_t words_a[4 * BITS], words_b[4 * BITS];
  GroupParams<T> group_a, group_b;
  auto load = [&](int kt, uint32_t (&words)[4 * BITS], GroupParams<T>& group) {
    if (kt >= warp_end) return;
    load_tile_words<BITS>(tiles + int64_t{kt} * (BITS * 32), lane, words);
    if (per_group > 0) load_group(w, kt / per_group, nt, lane, group);
  };
  // compute(kt, words, group) on each of the warp's tiles in turn.
  auto run_tiles = [&](auto&& compute) {
    load(kt0, words_a, group_a);
    load(kt0 + kStride, words_b, group_b);
    wait_then_start_next();  // weights are in flight; x is the previous kernel's
    for (int kt = kt0; kt < warp_end; kt += 2 * kStride) {
      compute(kt, words_a, group_a);
      load(kt + 2 * kStride, words_a, group_a);
      if (kt + kStride < warp_end) {
        compute(kt + kStride, words_b, group_b);
        load(kt + 3 * kStride, words_b, group_b);
      }
    }
  };

  if constexpr (kMma && MT == kOffsetSums) {
#if GPTQ_HAS_MMA
    // Whole-tile groups (the launch sees to it): the tensor cores sum
    // (magic + q) x and x over each group of the warp's run, which the
    // group's scales and zero points turn into (q - z) x once (offset_fragments).
    float acc[NB][kFragments / 2][4] = {}, tile[NB][kFragments / 2][4] = {}, x_sum[NB][4] = {};
    int group_left = per_group > 0 ? per_group - kt0 % per_group : 1;
    auto compute = [&](int kt, const uint32_t (&words)[4 * BITS], const GroupParams<T>& group) {
      uint32_t x_tile[NB][kStepsPerTile][2];
      load_x_tiles_as_b<NB>(a, m0, kt, lane, x_tile);
#pragma unroll
      for (int ks = 0; ks < kStepsPerTile; ++ks) {
#pragma unroll
        for (int nb = 0; nb < NB; ++nb) {
          offset_x<T, BITS>(x_tile[nb][ks]);
          add_x_sums<T, BITS>(x_sum[nb], x_tile[nb][ks]);
        }
        uint32_t b[kFragments][2];
        offset_fragments<T, BITS>(words + ks * BITS, b);
#pragma unroll
        for (int nb = 0; nb < NB; ++nb) mma_transposed<T>(tile[nb], b, x_tile[nb][ks]);
      }
      if (--group_left == 0 || kt + 1 == warp_end) {
        group_left = per_group;
#pragma unroll
        for (int nb = 0; nb < NB; ++nb) {
#pragma unroll
          for (int c = 0; c < kFragments / 2; ++c) {
#pragma unroll
            for (int i = 0; i < 4; ++i) {
              const int f = 2 * c + i / 2;
              acc[nb][c][i] +=
                  group_sum<T>(tile[nb][c][i], x_sum[nb], i, to_float(group.scale[f]), to_float(group.zero[f]));
              tile[nb][c][i] = 0.0f;
            }
          }
#pragma unroll
          for (int i = 0; i < 4; ++i) x_sum[nb][i] = 0.0f;
        }
      }
    };
    run_tiles(compute);
    add_transposed_sums<NB>(acc, red, lane, warp);
#endif
  } else if constexpr (kMma && MT == kTransposed) {
#if GPTQ_HAS_MMA
    // acc[nb][c]: rows (weight columns) 16c + lane/4 (+8), columns (x rows) 8nb + 2(lane%4) (+1).
    float acc[NB][kFragments / 2][4] = {};
    auto compute = [&](int kt, const uint32_t (&words)[4 * BITS], const GroupParams<T>& group) {
      uint32_t x_tile[NB][kStepsPerTile][2];
      load_x_tiles_as_b<NB>(a, m0, kt, lane, x_tile);
      uint32_t scale2[kFragments], zero2[kFragments];
      if (per_group > 0) pairs_of(group, scale2, zero2);
#pragma unroll
      for (int ks = 0; ks < kStepsPerTile; ++ks) {
        uint32_t b[kFragments][2];
        dequantized_step<T, BITS>(w, kt, ks, nt, lane, words + ks * BITS, scale2, zero2, b);
#pragma unroll
        for (int nb = 0; nb < NB; ++nb) mma_transposed<T>(acc[nb], b, x_tile[nb][ks]);
      }
    };
    run_tiles(compute);
    add_transposed_sums<NB>(acc, red, lane, warp);
#endif
  } else if constexpr (kMma) {
#if GPTQ_HAS_MMA
    float acc[MT][kFragments][4] = {};
    auto compute = [&](int kt, const uint32_t (&words)[4 * BITS], const GroupParams<T>& group) {
      const int k0 = kt * kTileK + 2 * (lane % 4);
      uint32_t scale2[kFragments], zero2[kFragments];
      if (per_group > 0) pairs_of(group, scale2, zero2);
#pragma unroll
      for (int ks = 0; ks < kStepsPerTile; ++ks) {
        uint32_t b[kFragments][2];
        dequantized_step<T, BITS>(w, kt, ks, nt, lane, words + ks * BITS, scale2, zero2, b);
        const int k = k0 + ks * kStepK;
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          const int r0 = m0 + 16 * mt + lane / 4;
          const uint32_t afrag[4] = {load_pair(a.x, a.ld_x, r0, k, a.m), load_pair(a.x, a.ld_x, r0 + 8, k, a.m),
                                     load_pair(a.x, a.ld_x, r0, k + 8, a.m),
                                     load_pair(a.x, a.ld_x, r0 + 8, k + 8, a.m)};
#pragma unroll
          for (int f = 0; f < kFragments; ++f) mma_16816<T>(acc[mt][f], afrag, b[f]);
        }
      }
    };
    run_tiles(compute);
    __syncthreads();  // red is zeroed
    // C fragment: rows lane/4 (+8), columns 8f + 2(lane%4) (+1); the warps in turn.
    for (int turn = 0; turn < kStreamWarps; ++turn) {
      if (warp == turn) {
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
          for (int f = 0; f < kFragments; ++f) {
            const int col = 8 * f + 2 * (lane % 4), row = 16 * mt + lane / 4;
            red[row * kTileN + col] += acc[mt][f][0];
            red[row * kTileN + col + 1] += acc[mt][f][1];
            red[(row + 8) * kTileN + col] += acc[mt][f][2];
            red[(row + 8) * kTileN + col + 1] += acc[mt][f][3];
          }
        }
      }
      __syncthreads();
    }
#endif
  } else {
    float acc[ROWS][kFragments] = {};
    const T* x = static_cast<const T*>(a.x);
    const float magic = static_cast<float>(zero_magic_device<T, BITS>());
    auto compute = [&](int kt, const uint32_t (&words)[4 * BITS], const GroupParams<T>& group) {
#pragma unroll
      for (int ks = 0; ks < kStepsPerTile; ++ks) {
        GroupParams<T> g = group;
        if (per_group == 0) load_group(w, w.block_group[kt * kStepsPerTile + ks], nt, lane, g);
        float scale[kFragments], zero[kFragments];
#pragma unroll
        for (int f = 0; f < kFragments; ++f) {
          scale[f] = to_float(g.scale[f]);
          zero[f] = to_float(g.zero[f]) - magic;
        }
        const uint32_t* step = words + ks * BITS;
        // This lane's four k of the step, for every row.
        float xv[ROWS][4];
#pragma unroll
        for (int r = 0; r < ROWS; ++r) {
#pragma unroll
          for (int i = 0; i < 4; ++i) {
            const int k = kt * kTileK + fragment_k(lane, ks, i / 2, i % 2);
            xv[r][i] = m0 + r < a.m ? to_float(x[(m0 + r) * a.ld_x + k]) : 0.0f;
          }
        }
#pragma unroll
        for (int j = 0; j < pair_words(BITS); ++j) {
#pragma unroll
          for (int p = 0; p < pairs_per_word(BITS); ++p) {
            const int f = pair_fragment(BITS, j, p), reg = pair_register(BITS, p);
            const uint32_t v = pair_bits_of<BITS>(step, j, p);
            const float w0 = (static_cast<float>(v & 0xffffu) - zero[f]) * scale[f];
            const float w1 = (static_cast<float>(v >> 16) - zero[f]) * scale[f];
#pragma unroll
            for (int r = 0; r < ROWS; ++r) acc[r][f] += w0 * xv[r][2 * reg] + w1 * xv[r][2 * reg + 1];
          }
        }
      }
    };
    run_tiles(compute);
    __syncthreads();  // red is zeroed
    // The four lanes of a column group hold parts of the same sums.
#pragma unroll
    for (int r = 0; r < ROWS; ++r) {
#pragma unroll
      for (int f = 0; f < kFragments; ++f) {
        float v = acc[r][f];
        v += __shfl_xor_sync(0xffffffffu, v, 1, GPTQ_WARP);
        v += __shfl_xor_sync(0xffffffffu, v, 2, GPTQ_WARP);
        acc[r][f] = v;
      }
    }
    for (int turn = 0; turn < kStreamWarps; ++turn) {
      if (warp == turn && lane % 4 == 0) {
#pragma unroll
        for (int r = 0; r < ROWS; ++r) {
#pragma unroll
          for (int f = 0; f < kFragments; ++f) red[r * kTileN + fragment_n(lane, f)] += acc[r][f];
        }
      }
      __syncthreads();
    }
  }
  finish_strip<T, ROWS>(a, o, nt, m_block, splits, red);
}

// One warp per tile: its 64 x 64 dequantized weights through shared memory
// to coalesced rows of out.
template <typename T, int BITS>
__global__ void dequantize_kernel(const GptqTiles w, int first_tile, T* out, int64_t ld_out) {
  __shared__ T tile_out[kTileK][kTileN + 2];
  const int lane = threadIdx.x;
  const int nt = first_tile + blockIdx.x, kt = blockIdx.y;
  const uint4* tile = static_cast<const uint4*>(w.weights) + (int64_t{nt} * w.k_tiles() + kt) * (BITS * 32);
  uint32_t words[4 * BITS];
  tile_words<BITS>(tile, lane, words);
  const float magic = static_cast<float>(zero_magic_device<T, BITS>());
#pragma unroll
  for (int ks = 0; ks < kStepsPerTile; ++ks) {
    GroupParams<T> g;
    load_group(w, w.block_group[kt * kStepsPerTile + ks], nt, lane, g);
#pragma unroll
    for (int j = 0; j < pair_words(BITS); ++j) {
#pragma unroll
      for (int p = 0; p < pairs_per_word(BITS); ++p) {
        const int f = pair_fragment(BITS, j, p), r = pair_register(BITS, p);
        const uint32_t v = pair_bits_of<BITS>(words + ks * BITS, j, p);
        const int n = fragment_n(lane, f);
        T lo, hi;
#if GPTQ_HAS_MMA
        if constexpr (!std::is_same_v<T, float>) {
          const uint32_t d = dequant_pair<T, BITS>(v, duplicate(g.zero[f]), duplicate(g.scale[f]));
          __builtin_memcpy(&lo, &d, 2);
          __builtin_memcpy(&hi, reinterpret_cast<const char*>(&d) + 2, 2);
        } else
#endif
        {
          const float s = to_float(g.scale[f]), z = to_float(g.zero[f]) - magic;
          lo = from_float<T>((static_cast<float>(v & 0xffffu) - z) * s);
          hi = from_float<T>((static_cast<float>(v >> 16) - z) * s);
        }
        tile_out[fragment_k(lane, ks, r, 0)][n] = lo;
        tile_out[fragment_k(lane, ks, r, 1)][n] = hi;
      }
    }
  }
  __syncwarp();
  wait_then_start_next();  // out may still be read by the previous kernel
  T* dst = out + int64_t{kt} * kTileK * ld_out + int64_t{blockIdx.x} * kTileN;
  for (int row = 0; row < kTileK; ++row) {
    dst[row * ld_out + lane] = tile_out[row][lane];
    dst[row * ld_out + lane + 32] = tile_out[row][lane + 32];
  }
}



// Blocks of `Kernel` one SM holds at once (from its registers and shared
// memory), asked once per kernel (a template parameter: every
// instantiation shares one function-pointer type).
template <auto Kernel>
int resident_blocks() {
  static const int blocks = [] {
    int n = 0;
    if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, Kernel, kStreamWarps * 32, 0) != cudaSuccess || n < 1) {
      (void)cudaGetLastError();
      n = 1;
    }
    return n;
  }();
  return blocks;
}

// The fewest k tiles a warp of a split streams (GPTQ_GPU_TILES_PER_WARP
// overrides it, for benchmarks).
int min_tiles_per_warp() {
  static const int tiles = [] {
    const char* env = std::getenv("GPTQ_GPU_TILES_PER_WARP");
    const int n = env != nullptr ? std::atoi(env) : 0;
    return n > 0 ? n : 2;
  }();
  return tiles;
}

// K splits for `strips` x m_blocks column strips: as many as the fewest
// waves of resident blocks hold. Every wave pays the start of its blocks
// (the first loads' latency) and its split-K sums, which fewer, longer
// blocks amortise: on the H200 a wave more cost more than idle slots in
// the first (int4 g128, bench/gpu/NOTES.md: 8192x10240 at M = 12, three
// waves filled to 94% 42 us, one filled to 81% 30 us; 4096x12288 at
// M = 32 63 -> 35 us; 4096x22016 at M = 1 20.9 -> 19.1 us).
int choose_splits(const GptqGemmArgs& a, int m_blocks, int per_sm) {
  const int64_t strips = int64_t{total_strips(a)} * m_blocks;
  const int k_tiles = a.outputs[0].w.k_tiles();
  const int64_t slots = int64_t{per_sm} * a.sm_count;
  // Each warp keeps a couple of tiles.
  const int64_t most = std::min<int64_t>(k_tiles / (min_tiles_per_warp() * kStreamWarps), splits_that_fit(a));
  return wave_splits(strips, slots, most);
}

// GPTQ_GPU_KERNEL=decode, =stream, =tiled or =wgmma makes Auto take that kernel wherever
// it can run (benchmarks: the choice below is measured, not guessed).
GptqKernel forced_kernel() {
  static const GptqKernel forced = [] {
    const char* env = std::getenv("GPTQ_GPU_KERNEL");
    if (env == nullptr) return GptqKernel::Auto;
    if (std::strcmp(env, "decode") == 0) return GptqKernel::Decode;
    if (std::strcmp(env, "stream") == 0) return GptqKernel::Stream;
    if (std::strcmp(env, "tiled") == 0) return GptqKernel::Tiled;
    if (std::strcmp(env, "wgmma") == 0) return GptqKernel::Wgmma;
    return GptqKernel::Auto;
  }();
  return forced;
}

}  // namespace

GptqKernel choose_gptq_kernel(FloatType type, const GptqGemmArgs& a) {
#if GPTQ_GPU_HIP
  return GptqKernel::Simt;
#else
  const int32_t m = a.m;
  if (type == FloatType::F32) return GptqKernel::Simt;
  const GptqKernel forced = forced_kernel();
  if (forced == GptqKernel::Decode && m <= kDecodeMaxRows) return GptqKernel::Decode;
  if (forced == GptqKernel::Stream || forced == GptqKernel::Tiled) return forced;
  if (forced == GptqKernel::Wgmma && gptq_wgmma_runs()) return forced;
  if (gptq_decode_pays(a)) return GptqKernel::Decode;
  if (m >= wgmma_min_rows() && gptq_wgmma_runs()) return GptqKernel::Wgmma;
  return m >= kTiledMinRows ? GptqKernel::Tiled : GptqKernel::Stream;
#endif
}

int64_t gptq_workspace_floats(const GptqGemmArgs& a) {
  // Splits are limited to what fits; this much lets every layer shape of
  // 7B-70B models split as far as it pays.
  return std::max(int64_t{8} << 20, gptq_decode_workspace_floats(a));
}

int64_t gptq_counters(const GptqGemmArgs& a) { return int64_t{kCounterMBlocks} * total_strips(a); }

cudaError_t launch_gptq_gemm(FloatType type, const GptqGemmArgs& a, GptqKernel kernel, cudaStream_t stream) {
  if (a.m == 0 || a.n_outputs == 0) return cudaSuccess;
  if (kernel == GptqKernel::Auto) kernel = choose_gptq_kernel(type, a);
  if (kernel == GptqKernel::Decode) return launch_gptq_decode(type, a, stream);
  if (kernel == GptqKernel::Tiled) return launch_gptq_tiled(type, a, stream);
  if (kernel == GptqKernel::Wgmma) return launch_gptq_wgmma(type, a, stream);
  const int bits = a.outputs[0].w.bits;
  if (bits != 2 && bits != 3 && bits != 4 && bits != 8) return cudaErrorInvalidValue;
  if (kernel != GptqKernel::Simt && type == FloatType::F32) return cudaErrorInvalidValue;
  cudaError_t status = cudaSuccess;
  with_float_type(type, [&]<typename T>() {
    with_bits(bits, [&]<int BITS>() {
      if (kernel == GptqKernel::Simt) {
        const int m_blocks = (a.m + kSimtRows - 1) / kSimtRows;
        // Counters exist for kMaxSplitRows / kSimtRows m blocks.
        constexpr auto kernel = stream_kernel<T, BITS, 1, false>;
        const int splits =
            m_blocks <= kMaxSplitRows / kSimtRows / 4 ? choose_splits(a, m_blocks, resident_blocks<kernel>()) : 1;
        const dim3 grid(total_strips(a) * splits, m_blocks);
        launch_kernel(kernel, grid, kStreamWarps * 32, 0, stream, a, splits);
        return;
      }
#if !GPTQ_GPU_HIP
      if constexpr (!std::is_same_v<T, float>) {
        if (kernel == GptqKernel::Stream) {
          auto launch = [&]<int MT, int NB = 1>() {
            constexpr auto kernel = stream_kernel<T, BITS, MT, true, NB>;
            constexpr int kRows = stream_rows<MT, true, NB>();
            const int m_blocks = (a.m + kRows - 1) / kRows;
            const int splits = a.m <= kMaxSplitRows ? choose_splits(a, m_blocks, resident_blocks<kernel>()) : 1;
            const dim3 grid(total_strips(a) * splits, m_blocks);
            launch_kernel(kernel, grid, kStreamWarps * 32, 0, stream, a, splits);
          };
          bool whole_tile_groups = true;
          for (int o = 0; o < a.n_outputs; ++o) whole_tile_groups &= a.outputs[o].w.tiles_per_group > 0;
          // Up to 16 rows: NB n8 tiles of x, with offset sums where they are exact.
          auto transposed = [&]<int NB>() {
            if constexpr (offset_sums_exact<T, BITS>()) {
              if (whole_tile_groups) return launch.template operator()<kOffsetSums, NB>();
            }
            launch.template operator()<kTransposed, NB>();
          };
          if (a.m <= 8) transposed.template operator()<1>();
          else if (a.m <= 16) transposed.template operator()<2>();
          else if (a.m <= 32) launch.template operator()<2>();
          else launch.template operator()<4>();
        }
      }
#else
      status = cudaErrorInvalidValue;
#endif
    });
  });
  if (status != cudaSuccess) return status;
  return cudaGetLastError();
}

cudaError_t launch_gptq_dequantize(FloatType type, const GptqTiles& w, int32_t first_tile, int32_t n_tiles, void* out,
                                   int64_t ld_out, cudaStream_t stream) {
  if (n_tiles == 0) return cudaSuccess;
  with_float_type(type, [&]<typename T>() {
    with_bits(w.bits, [&]<int BITS>() {
      launch_kernel(dequantize_kernel<T, BITS>, dim3(n_tiles, w.k_tiles()), 32, 0, stream, w, first_tile, static_cast<T*>(out), ld_out);
    });
  });
  return cudaGetLastError();
}

}  // namespace gptq::gpu
