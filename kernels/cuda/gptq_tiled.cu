// The tiled GEMM (see gptq_tiled.h for the design).
//
// Shared memory: kTiledStages stages, each
//   x      [kRows][64] compute type, 16-byte chunks at swizzled_x(row, chunk)
//   tiles  [kStrips][BITS x 32] uint4, lane l's uint4 u of a tile at u * 32 + l
//   params [kStrips][16] uint4: uint4 c (0-7) the scales of columns
//          [8c, 8c + 8) of each fragment ([8][8] as load_group reads them),
//          8 + c the (magic + zero)s (groups of whole tiles only)
// Block (column block, split) x m block; warp w computes strip w % kStrips
// of the column block for rows 16 MT (w / kStrips) on.
#include <cstdlib>
#include <type_traits>

#include "kernels/cuda/device_common.cuh"
#include "kernels/cuda/gptq_fragments.cuh"
#include "kernels/cuda/gptq_tiled.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/tensor_core.cuh"

namespace gptq::gpu {
namespace {

constexpr int kTiledStages = 4;
constexpr int kParamVectors = 2 * 8;  // a strip's scales and zeros of one group, 16 bytes per lane group

template <int WARPS_M, int WARPS_N, int MT>
struct TiledShape {
  static constexpr int kStrips = WARPS_N, kMt = MT;
  static constexpr int kThreads = WARPS_M * WARPS_N * 32;
  static constexpr int kRows = WARPS_M * 16 * MT;
  // Blocks an SM should hold: with 64 accumulators a thread, enough to
  // hide the barrier of every stage; with 128, one (no spills).
  static constexpr int kMinBlocks = MT <= 2 ? 512 / kThreads : 1;
};

template <typename Shape, int BITS>
constexpr int x_bytes() {
  return Shape::kRows * kTileK * 2;
}

template <int BITS>
constexpr int tile_vectors() {
  return BITS * 32;
}

template <typename Shape, int BITS>
constexpr int stage_bytes() {
  return x_bytes<Shape, BITS>() + Shape::kStrips * (tile_vectors<BITS>() + kParamVectors) * 16;
}

template <typename T, int BITS, typename Shape>
__global__ void __launch_bounds__(Shape::kThreads, Shape::kMinBlocks) tiled_kernel(const GptqGemmArgs a, int splits) {
#if GPTQ_HAS_MMA
  constexpr int kRows = Shape::kRows, kStrips = Shape::kStrips, MT = Shape::kMt, kThreads = Shape::kThreads;
  constexpr int kXBytes = x_bytes<Shape, BITS>(), kStageBytes = stage_bytes<Shape, BITS>();
  constexpr int kTileVectors = tile_vectors<BITS>(), kWeightVectors = kStrips * kTileVectors;
  static_assert(sizeof(T) == 2, "fp16 or bf16");
  extern __shared__ __align__(128) unsigned char stages[];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int warp_m = warp / kStrips, warp_n = warp % kStrips;

  int column_block = blockIdx.x / splits;
  const int split = blockIdx.x % splits;
  const int o = output_of(a, column_block, kStrips);
  const GptqGemmOutput& out = a.outputs[o];
  const GptqTiles& w = out.w;
  const int strip0 = column_block * kStrips;
  const int strips_here = min(kStrips, w.n_tiles() - strip0);
  const int nt = strip0 + warp_n;
  const bool active = warp_n < strips_here;
  const int m_block = blockIdx.y, m0 = m_block * kRows;
  const int k_tiles = w.k_tiles();
  const int kt_begin = static_cast<int>(int64_t{split} * k_tiles / splits);
  const int kt_end = static_cast<int>(int64_t{split + 1} * k_tiles / splits);
  const int n_kt = kt_end - kt_begin;
  const int per_group = w.tiles_per_group;
  const uint4* weights = static_cast<const uint4*>(w.weights);
  const T* x = static_cast<const T*>(a.x);

  auto stage_at = [&](int s) { return stages + s * kStageBytes; };
  // Each thread makes the same 16-byte copies for every stage, a k tile
  // (or a group) further on each time: their sources are set up once.
  constexpr int kWeightCopies = (kWeightVectors + kThreads - 1) / kThreads;
  constexpr int kXCopies = (kRows * 8 + kThreads - 1) / kThreads;
  const uint4* weight_src[kWeightCopies];
  bool weight_ok[kWeightCopies];
#pragma unroll
  for (int j = 0; j < kWeightCopies; ++j) {
    const int v = threadIdx.x + j * kThreads, strip = v / kTileVectors;
    weight_ok[j] = v < kWeightVectors && strip < strips_here;
    weight_src[j] = weights + (int64_t{strip0 + (weight_ok[j] ? strip : 0)} * k_tiles) * kTileVectors + v % kTileVectors;
  }
  const T* x_src[kXCopies];
  bool x_ok[kXCopies];
#pragma unroll
  for (int j = 0; j < kXCopies; ++j) {
    const int c = threadIdx.x + j * kThreads, row = c / 8;
    x_ok[j] = c < kRows * 8 && m0 + row < a.m;
    x_src[j] = x_ok[j] ? x + int64_t{m0 + row} * a.ld_x + (c % 8) * 8 : x;
  }
  // Threads below kStrips * kParamVectors copy one vector of group parameters.
  const int param_strip = threadIdx.x / kParamVectors, param_vector = threadIdx.x % kParamVectors;
  const bool param_ok = per_group > 0 && threadIdx.x < kStrips * kParamVectors && param_strip < strips_here;
  const T* param_src = static_cast<const T*>(param_vector < 8 ? w.scales : w.zero_bias) +
                       int64_t{strip0 + (param_ok ? param_strip : 0)} * (8 * kFragments) + (param_vector % 8) * 8;
  const int64_t group_stride = int64_t{w.n_tiles()} * (8 * kFragments);

  // What no kernel writes: the weight tiles and their group parameters.
  auto fetch_weights = [&](int kt, int s) {
    uint4* dst = reinterpret_cast<uint4*>(stage_at(s) + kXBytes);
#pragma unroll
    for (int j = 0; j < kWeightCopies; ++j) {
      if (weight_ok[j]) cp_async16(dst + threadIdx.x + j * kThreads, weight_src[j] + int64_t{kt} * kTileVectors);
    }
    if (param_ok) cp_async16(dst + kWeightVectors + threadIdx.x, param_src + (kt / per_group) * group_stride);
  };
  auto fetch_x = [&](int kt, int s) {
    T* dst = reinterpret_cast<T*>(stage_at(s));
#pragma unroll
    for (int j = 0; j < kXCopies; ++j) {
      const int c = threadIdx.x + j * kThreads;
      if (c < kRows * 8) cp_async16(dst + swizzled_x(c / 8, c % 8), x_src[j] + kt * kTileK, x_ok[j]);
    }
  };

  // acc[mt][f]: rows 16 MT warp_m + 16 mt + lane/4 (+8), columns 8f + 2(lane%4) (+1) of strip nt.
  float acc[MT][kFragments][4] = {};
  auto compute = [&](int kt, int s) {
    const unsigned char* stage = stage_at(s);
    const T* xt = reinterpret_cast<const T*>(stage);
    const uint4* tile = reinterpret_cast<const uint4*>(stage + kXBytes) + warp_n * kTileVectors;
    uint32_t scale2[kFragments], zero2[kFragments];
    if (per_group > 0) {
      const uint4* params = reinterpret_cast<const uint4*>(stage + kXBytes) + kWeightVectors + warp_n * kParamVectors;
      const uint4 scales = params[lane / 4], zeros = params[8 + lane / 4];
      GroupParams<T> g;
      __builtin_memcpy(g.scale, &scales, sizeof scales);
      __builtin_memcpy(g.zero, &zeros, sizeof zeros);
      pairs_of(g, scale2, zero2);
    }
#pragma unroll
    for (int ks = 0; ks < kStepsPerTile; ++ks) {
      uint32_t step[BITS], b[kFragments][2];
      step_words_of<BITS>(tile, lane, ks, step);
      dequantized_step<T, BITS>(w, kt, ks, nt, lane, step, scale2, zero2, b);
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) {
        uint32_t afrag[4];
        ldmatrix_x4(afrag, xt + swizzled_x(16 * (MT * warp_m + mt) + lane % 16, 2 * ks + lane / 16));
#pragma unroll
        for (int f = 0; f < kFragments; ++f) mma_16816<T>(acc[mt][f], afrag, b[f]);
      }
    }
  };

  // Stage i % kTiledStages holds k tile kt_begin + i; the stage refilled
  // at step i is the one every warp finished with at step i - 1.
  for (int s = 0; s < kTiledStages - 1; ++s) {
    if (s < n_kt) fetch_weights(kt_begin + s, s);
  }
  wait_then_start_next();  // weights are in flight; x is the previous kernel's
  for (int s = 0; s < kTiledStages - 1; ++s) {
    if (s < n_kt) fetch_x(kt_begin + s, s);
    cp_async_commit();
  }
  for (int i = 0; i < n_kt; ++i) {
    cp_async_wait<kTiledStages - 2>();
    __syncthreads();
    const int ahead = i + kTiledStages - 1;
    if (ahead < n_kt) {
      fetch_weights(kt_begin + ahead, ahead % kTiledStages);
      fetch_x(kt_begin + ahead, ahead % kTiledStages);
    }
    cp_async_commit();
    if (active) compute(kt_begin + i, i % kTiledStages);
  }
  cp_async_wait<0>();

  const int row0 = m0 + 16 * MT * warp_m + lane / 4, col0 = nt * kTileN + 2 * (lane % 4);
  finish_tiles<T>(a, o, split, splits, m_block, m0, kRows, strip0, strips_here, active, [&](auto&& f) {
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
      for (int fr = 0; fr < kFragments; ++fr) {
#pragma unroll
        for (int h = 0; h < 2; ++h) f(row0 + 16 * mt + 8 * h, col0 + 8 * fr, acc[mt][fr][2 * h], acc[mt][fr][2 * h + 1]);
      }
    }
  });
#endif
}

// The fewest k tiles a split streams: the pipeline's depth and more
// (GPTQ_GPU_TILED_TILES overrides it, for benchmarks).
int min_tiles_per_split() {
  static const int tiles = [] {
    const char* env = std::getenv("GPTQ_GPU_TILED_TILES");
    const int n = env != nullptr ? std::atoi(env) : 0;
    return n > 0 ? n : 2 * kTiledStages;
  }();
  return tiles;
}

// GPTQ_GPU_TILED_SHAPE=1 or 2 forces one block shape (for benchmarks).
int forced_shape() {
  static const int shape = [] {
    const char* env = std::getenv("GPTQ_GPU_TILED_SHAPE");
    return env != nullptr ? std::atoi(env) : 0;
  }();
  return shape;
}

template <typename T, int BITS, typename Shape>
void launch(const GptqGemmArgs& a, cudaStream_t stream) {
  constexpr auto kernel = tiled_kernel<T, BITS, Shape>;
  constexpr int bytes = kTiledStages * stage_bytes<Shape, BITS>();
  const int per_sm = resident_blocks_per_sm<kernel>(Shape::kThreads, bytes);
  int column_blocks = 0;
  for (int o = 0; o < a.n_outputs; ++o) column_blocks += column_blocks_of(a.outputs[o].w, Shape::kStrips);
  const int m_blocks = (a.m + Shape::kRows - 1) / Shape::kRows;
  int splits = 1;
  if (m_blocks <= kCounterMBlocks && a.workspace != nullptr && a.counters != nullptr) {
    const int64_t most = std::min<int64_t>(a.outputs[0].w.k_tiles() / min_tiles_per_split(), splits_that_fit(a));
    splits = wave_splits(int64_t{column_blocks} * m_blocks, int64_t{per_sm} * a.sm_count, most);
  }
  launch_kernel(kernel, dim3(column_blocks * splits, m_blocks), Shape::kThreads, bytes, stream, a, splits);
}

}  // namespace

cudaError_t launch_gptq_tiled(FloatType type, const GptqGemmArgs& a, cudaStream_t stream) {
#if GPTQ_GPU_HIP
  return cudaErrorInvalidValue;
#else
  if (type == FloatType::F32) return cudaErrorInvalidValue;
  if (a.m == 0 || a.n_outputs == 0) return cudaSuccess;
  const int bits = a.outputs[0].w.bits;
  if (bits != 2 && bits != 3 && bits != 4 && bits != 8) return cudaErrorInvalidValue;
  with_float_type(type, [&]<typename T>() {
    if constexpr (!std::is_same_v<T, float>) {
      with_bits(bits, [&]<int BITS>() {
        // Measured on the H200 (bench/gpu/NOTES.md, fifth pass): 64-row
        // blocks of eight warps up to 128 rows, then one warp per strip
        // for 64 rows, so each dequantized fragment serves four m16 tiles.
        const int shape = forced_shape() == 1 || forced_shape() == 2 ? forced_shape() : a.m <= 128 ? 1 : 2;
        if (shape == 1) launch<T, BITS, TiledShape<2, 4, 2>>(a, stream);
        else launch<T, BITS, TiledShape<1, 4, 4>>(a, stream);
      });
    }
  });
  return cudaGetLastError();
#endif
}

}  // namespace gptq::gpu
