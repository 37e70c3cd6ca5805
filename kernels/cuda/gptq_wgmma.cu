// The warpgroup GEMM (see gptq_wgmma.h for the design).
//
// Shared memory: kWgmmaStages stages, each
//   x      [kRows / 8][8] core matrices: rows 8i..8i + 7, k 8c..8c + 7 of the
//          k tile at (8i + c) * 128 bytes, row r of it at 16 (r % 8)
//   tiles  [kStrips][BITS x 32] uint4, lane l's uint4 u of a tile at u * 32 + l
//   params [kStrips][16] uint4: uint4 c (0-7) the scales of columns
//          [8c, 8c + 8) of each fragment, 8 + c the (magic + zero)s
//          (groups of whole tiles only; smaller groups read their own)
// then two B buffers, [kColumns / 8][8] core matrices of the dequantized
// tile: columns 8j..8j + 7, k 8c..8c + 7 at (8j + c) * 128 bytes.
// Block (column block, split) x m block; warpgroup g computes rows
// 64g..64g + 63 of the block for all its columns.
#include <atomic>
#include <cstdlib>
#include <limits>
#include <type_traits>

#include "kernels/cuda/device_common.cuh"
#include "kernels/cuda/gptq_fragments.cuh"
#include "kernels/cuda/gptq_wgmma.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/tensor_core.cuh"
#include "kernels/cuda/wgmma.cuh"

namespace gptq::gpu {
namespace {

constexpr int kWgmmaStages = 3;
constexpr int kCoreBytes = 128;  // a core matrix: 8 rows of 16 bytes
constexpr int kParamVectors = 2 * 8;

template <int WARPGROUPS>
struct WgmmaShape {
  static constexpr int kStrips = 2;  // the N of one m64n128k16
  static constexpr int kColumns = kStrips * kTileN;
  static constexpr int kThreads = WARPGROUPS * 128;
  static constexpr int kRows = WARPGROUPS * 64;
  static constexpr int kXBytes = kRows * kTileK * 2;
  static constexpr int kBBytes = kColumns * kTileK * 2;
  // Two blocks an SM: 2 x 128-register threads fill the register file.
  static constexpr int kMinBlocks = 512 / kThreads;
};

template <typename Shape, int BITS>
constexpr int wgmma_stage_bytes() {
  return Shape::kXBytes + Shape::kStrips * (BITS * 32 + kParamVectors) * 16;
}

template <typename Shape, int BITS>
constexpr int wgmma_shared_bytes() {
  return kWgmmaStages * wgmma_stage_bytes<Shape, BITS>() + 2 * Shape::kBBytes;
}

#if GPTQ_HAS_WGMMA
// Byte offset of 16-byte chunk `chunk` (k 8 chunk..) of row `row` in a
// K-major operand of core matrices.
__device__ __forceinline__ int core_offset(int row, int chunk) {
  return ((row / 8) * 8 + chunk) * kCoreBytes + (row % 8) * 16;
}
#endif

template <typename T, int BITS, typename Shape>
__global__ void __launch_bounds__(Shape::kThreads, Shape::kMinBlocks)
    wgmma_kernel(const GptqGemmArgs a, int splits, int swap_strides) {
#if GPTQ_HAS_WGMMA
  constexpr int kRows = Shape::kRows, kStrips = Shape::kStrips, kThreads = Shape::kThreads;
  constexpr int kXBytes = Shape::kXBytes, kStageBytes = wgmma_stage_bytes<Shape, BITS>();
  constexpr int kTileVectors = BITS * 32, kWeightVectors = kStrips * kTileVectors;
  constexpr int kWarps = kThreads / 32;
  // (strip, k16 step) pieces of a tile a warp dequantizes.
  constexpr int kUnitsPerWarp = kStrips * kStepsPerTile / kWarps;
  static_assert(sizeof(T) == 2, "fp16 or bf16");
  extern __shared__ __align__(128) unsigned char shared[];
  unsigned char* const b_buffers = shared + kWgmmaStages * kStageBytes;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int group = threadIdx.x / 128, group_thread = threadIdx.x % 128;

  int column_block = blockIdx.x / splits;
  const int split = blockIdx.x % splits;
  const int o = output_of(a, column_block, kStrips);
  const GptqTiles& w = a.outputs[o].w;
  const int strip0 = column_block * kStrips;
  const int strips_here = min(kStrips, w.n_tiles() - strip0);
  const int m_block = blockIdx.y, m0 = m_block * kRows;
  const int k_tiles = w.k_tiles();
  const int kt_begin = static_cast<int>(int64_t{split} * k_tiles / splits);
  const int kt_end = static_cast<int>(int64_t{split + 1} * k_tiles / splits);
  const int n_kt = kt_end - kt_begin;
  const int per_group = w.tiles_per_group;
  const uint4* weights = static_cast<const uint4*>(w.weights);
  const T* x = static_cast<const T*>(a.x);

  auto stage_at = [&](int s) { return shared + s * kStageBytes; };
  // Copy sources are set up once: each thread makes the same copies every
  // stage, a k tile further on.
  constexpr int kWeightCopies = (kWeightVectors + kThreads - 1) / kThreads;
  const uint4* weight_src[kWeightCopies];
  bool weight_ok[kWeightCopies];
#pragma unroll
  for (int j = 0; j < kWeightCopies; ++j) {
    const int v = threadIdx.x + j * kThreads, strip = v / kTileVectors;
    weight_ok[j] = v < kWeightVectors && strip < strips_here;
    weight_src[j] = weights + (int64_t{strip0 + (weight_ok[j] ? strip : 0)} * k_tiles) * kTileVectors + v % kTileVectors;
  }
  // A warpgroup copies its own 64 rows of x. Chunk c of the group: row
  // c % 8 + 8 (c / 64), k chunk (c / 8) % 8, so eight threads fill one core
  // matrix (conflict-free stores).
  constexpr int kXCopies = 64 * 8 / 128;
  const T* x_src[kXCopies];
  int x_dst[kXCopies];
  bool x_ok[kXCopies];
#pragma unroll
  for (int j = 0; j < kXCopies; ++j) {
    const int c = group_thread + j * 128;
    const int row = 64 * group + c % 8 + 8 * (c / 64), chunk = (c / 8) % 8;
    x_ok[j] = m0 + row < a.m;
    x_src[j] = x_ok[j] ? x + int64_t{m0 + row} * a.ld_x + chunk * 8 : x;
    x_dst[j] = core_offset(row, chunk);
  }
  const int param_strip = threadIdx.x / kParamVectors, param_vector = threadIdx.x % kParamVectors;
  const bool param_ok = per_group > 0 && threadIdx.x < kStrips * kParamVectors && param_strip < strips_here;
  const T* param_src = static_cast<const T*>(param_vector < 8 ? w.scales : w.zero_bias) +
                       int64_t{strip0 + (param_ok ? param_strip : 0)} * (8 * kFragments) + (param_vector % 8) * 8;
  const int64_t group_stride = int64_t{w.n_tiles()} * (8 * kFragments);

  auto fetch_weights = [&](int kt, int s) {
    uint4* dst = reinterpret_cast<uint4*>(stage_at(s) + kXBytes);
#pragma unroll
    for (int j = 0; j < kWeightCopies; ++j) {
      if (weight_ok[j]) cp_async16(dst + threadIdx.x + j * kThreads, weight_src[j] + int64_t{kt} * kTileVectors);
    }
    if (param_ok) cp_async16(dst + kWeightVectors + threadIdx.x, param_src + (kt / per_group) * group_stride);
  };
  auto fetch_x = [&](int kt, int s) {
    unsigned char* dst = stage_at(s);
#pragma unroll
    for (int j = 0; j < kXCopies; ++j) cp_async16(dst + x_dst[j], x_src[j] + kt * kTileK, x_ok[j]);
  };

  // Tile kt's weights from stage s, dequantized into B buffer `buffer`.
  auto dequantize_tile = [&](int kt, int s, int buffer) {
    const uint4* tiles = reinterpret_cast<const uint4*>(stage_at(s) + kXBytes);
    unsigned char* b_out = b_buffers + buffer * Shape::kBBytes + (lane / 4) * 16 + (lane % 4) * 4;
#pragma unroll
    for (int u = 0; u < kUnitsPerWarp; ++u) {
      const int unit = warp + u * kWarps, strip = unit / kStepsPerTile, ks = unit % kStepsPerTile;
      if (strip >= strips_here) continue;
      uint32_t scale2[kFragments], zero2[kFragments];
      if (per_group > 0) {
        const uint4* params = tiles + kWeightVectors + strip * kParamVectors;
        const uint4 scales = params[lane / 4], zeros = params[8 + lane / 4];
        GroupParams<T> g;
        __builtin_memcpy(g.scale, &scales, sizeof scales);
        __builtin_memcpy(g.zero, &zeros, sizeof zeros);
        pairs_of(g, scale2, zero2);
      }
      uint32_t step[BITS], b[kFragments][2];
      step_words_of<BITS>(tiles + strip * kTileVectors, lane, ks, step);
      dequantized_step<T, BITS>(w, kt, ks, strip0 + strip, lane, step, scale2, zero2, b);
#pragma unroll
      for (int f = 0; f < kFragments; ++f) {
#pragma unroll
        for (int r = 0; r < 2; ++r) {
          const int core = (8 * (kFragments * strip + f)) + 2 * ks + r;
          *reinterpret_cast<uint32_t*>(b_out + core * kCoreBytes) = b[f][r];
        }
      }
    }
  };

  const uint32_t k_stride = swap_strides ? 8 * kCoreBytes : kCoreBytes;
  const uint32_t mn_stride = swap_strides ? kCoreBytes : 8 * kCoreBytes;
  float acc[64] = {};
  auto multiply = [&](int s, int buffer) {
    const unsigned char* xs = stage_at(s) + group * 64 * kTileK * 2;
    const unsigned char* bs = b_buffers + buffer * Shape::kBBytes;
    wgmma_fence_operands(acc);
    wgmma_fence();
#pragma unroll
    for (int ks = 0; ks < kStepsPerTile; ++ks) {
      wgmma_m64n128k16<T>(acc, wgmma_descriptor(xs + 2 * ks * kCoreBytes, k_stride, mn_stride),
                          wgmma_descriptor(bs + 2 * ks * kCoreBytes, k_stride, mn_stride));
    }
    wgmma_commit();
  };

  // Stage i % kWgmmaStages holds k tile kt_begin + i, B buffer i % 2 its
  // dequantized weights. Step i issues the products of tile i, then, while
  // they run, refills the stage of tile i - 1 (its products and its
  // dequantization are done) and dequantizes tile i + 1 into the other
  // buffer (last read by the products of tile i - 1). Every step retires
  // its own products: a wgmma left in flight across steps makes ptxas
  // serialise them all (C7515).
  for (int s = 0; s < kWgmmaStages - 1; ++s) {
    if (s < n_kt) fetch_weights(kt_begin + s, s);
  }
  wait_then_start_next();  // weights are in flight; x is the previous kernel's
  for (int s = 0; s < kWgmmaStages - 1; ++s) {
    if (s < n_kt) fetch_x(kt_begin + s, s);
    cp_async_commit();
  }
  cp_async_wait<kWgmmaStages - 2>();
  __syncthreads();
  if (n_kt > 0) dequantize_tile(kt_begin, 0, 0);
  fence_shared_for_wgmma();
  __syncthreads();
  for (int i = 0; i < n_kt; ++i) {
    multiply(i % kWgmmaStages, i % 2);
    const int ahead = i + kWgmmaStages - 1;
    if (ahead < n_kt) {
      fetch_weights(kt_begin + ahead, ahead % kWgmmaStages);
      fetch_x(kt_begin + ahead, ahead % kWgmmaStages);
    }
    cp_async_commit();
    if (i + 1 < n_kt) {
      cp_async_wait<kWgmmaStages - 2>();
      __syncthreads();
      dequantize_tile(kt_begin + i + 1, (i + 1) % kWgmmaStages, (i + 1) % 2);
      fence_shared_for_wgmma();
    }
    wgmma_wait<0>();
    wgmma_fence_operands(acc);
    __syncthreads();
  }
  cp_async_wait<0>();

  const int row0 = m0 + 64 * group + 16 * (warp % 4) + lane / 4, col0 = strip0 * kTileN + 2 * (lane % 4);
  finish_tiles<T>(a, o, split, splits, m_block, m0, kRows, strip0, strips_here, true, [&](auto&& f) {
#pragma unroll
    for (int j = 0; j < Shape::kColumns / 8; ++j) {
      if (j / kFragments >= strips_here) continue;
#pragma unroll
      for (int h = 0; h < 2; ++h) f(row0 + 8 * h, col0 + 8 * j, acc[4 * j + 2 * h], acc[4 * j + 2 * h + 1]);
    }
  });
#endif
}

// GPTQ_GPU_WGMMA_SWAP=1 swaps the descriptors' two strides (bring-up only).
int swapped_strides() {
  static const int swap = [] {
    const char* env = std::getenv("GPTQ_GPU_WGMMA_SWAP");
    return env != nullptr ? std::atoi(env) : 0;
  }();
  return swap;
}

template <typename T, int BITS, typename Shape>
void launch(const GptqGemmArgs& a, cudaStream_t stream) {
  constexpr auto kernel = wgmma_kernel<T, BITS, Shape>;
  constexpr int bytes = wgmma_shared_bytes<Shape, BITS>();
  const int per_sm = resident_blocks_per_sm<kernel>(Shape::kThreads, bytes);
  int column_blocks = 0;
  for (int o = 0; o < a.n_outputs; ++o) column_blocks += column_blocks_of(a.outputs[o].w, Shape::kStrips);
  const int m_blocks = (a.m + Shape::kRows - 1) / Shape::kRows;
  int splits = 1;
  if (m_blocks <= kCounterMBlocks && a.workspace != nullptr && a.counters != nullptr) {
    const int64_t most = std::min<int64_t>(a.outputs[0].w.k_tiles() / (2 * kWgmmaStages), splits_that_fit(a));
    splits = wave_splits(int64_t{column_blocks} * m_blocks, int64_t{per_sm} * a.sm_count, most);
  }
  launch_kernel(kernel, dim3(column_blocks * splits, m_blocks), Shape::kThreads, bytes, stream, a, splits,
                swapped_strides());
}

// GPTQ_GPU_WGMMA_GROUPS=1 or 2 forces the warpgroups a block has.
int forced_groups() {
  static const int groups = [] {
    const char* env = std::getenv("GPTQ_GPU_WGMMA_GROUPS");
    return env != nullptr ? std::atoi(env) : 0;
  }();
  return groups;
}

}  // namespace

int32_t wgmma_min_rows() {
  // Not taken by Auto by default yet: its first version ran at 0.3-0.4x of
  // cuBLAS fp16 at M >= 1024 on the H200, slower than dequantized strips
  // into cuBLAS (bench/gpu/NOTES.md, eighth pass). GPTQ_GPU_WGMMA_ROWS sets
  // the rows from which it is.
  static const int32_t rows = [] {
    const char* env = std::getenv("GPTQ_GPU_WGMMA_ROWS");
    return env != nullptr && std::atoi(env) > 0 ? std::atoi(env) : std::numeric_limits<int32_t>::max();
  }();
  return rows;
}

bool gptq_wgmma_runs() {
#if GPTQ_GPU_HIP
  return false;
#else
  // Per device: 0 not asked yet, 1 no, 2 yes.
  static std::atomic<unsigned char> known[64] = {};
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess || device < 0 || device >= 64) {
    (void)cudaGetLastError();
    return false;
  }
  unsigned char state = known[device].load(std::memory_order_relaxed);
  if (state == 0) {
    int major = 0, minor = 0;
    cudaFuncAttributes attributes = {};
    // sm_90a code runs on compute capability 9.0 alone; the binary the
    // runtime picked for this device must be that one (a build for sm_80
    // only would give the kernel's empty sm_80 body).
    const bool runs = cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) == cudaSuccess &&
                      cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device) == cudaSuccess &&
                      major == 9 && minor == 0 &&
                      cudaFuncGetAttributes(&attributes, wgmma_kernel<__half, 4, WgmmaShape<2>>) == cudaSuccess &&
                      attributes.binaryVersion == 90;
    (void)cudaGetLastError();
    state = runs ? 2 : 1;
    known[device].store(state, std::memory_order_relaxed);
  }
  return state == 2;
#endif
}

cudaError_t launch_gptq_wgmma(FloatType type, const GptqGemmArgs& a, cudaStream_t stream) {
#if GPTQ_GPU_HIP
  return cudaErrorInvalidValue;
#else
  if (type == FloatType::F32 || !gptq_wgmma_runs()) return cudaErrorInvalidValue;
  if (a.m == 0 || a.n_outputs == 0) return cudaSuccess;
  const int bits = a.outputs[0].w.bits;
  if (bits != 2 && bits != 3 && bits != 4 && bits != 8) return cudaErrorInvalidValue;
  with_float_type(type, [&]<typename T>() {
    if constexpr (!std::is_same_v<T, float>) {
      with_bits(bits, [&]<int BITS>() {
        const int groups = forced_groups() == 1 || forced_groups() == 2 ? forced_groups() : a.m <= 128 ? 1 : 2;
        if (groups == 1) launch<T, BITS, WgmmaShape<1>>(a, stream);
        else launch<T, BITS, WgmmaShape<2>>(a, stream);
      });
    }
  });
  return cudaGetLastError();
#endif
}

}  // namespace gptq::gpu
