// The decode GEMM (see gptq_decode.h for the design).
//
// Shared memory, per warp: a ring of ring_stages<BITS>() stages, each one
// tile's BITS x 32 uint4 of words (lane l's uint4 u at u * 32 + l, as in
// global memory) then 16 uint4 of the tile's group parameters: uint4 c
// (0-7) holds the scales of columns [8c, 8c + 8) of each fragment
// ([8][8] as load_group reads them), 8 + c the (magic + zero)s.
// Workspace: one slot of 8 * NB rows x 64 floats per (worker, strip) pair
// a strip is split over, slot (worker + strip) (unique: along the strip-
// major order every step moves to the next worker or the next strip).
#include <algorithm>
#include <cstdlib>
#include <type_traits>

#include "kernels/cuda/device_common.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/gptq_decode.h"
#include "kernels/cuda/gptq_fragments.cuh"
#include "kernels/cuda/tensor_core.cuh"

namespace gptq::gpu {
namespace {

constexpr int kDecodeWarps = 4;
// Bytes each warp keeps on their way into shared memory: the 16 warps an
// SM holds keep about 180 KB in flight, several times the copy bandwidth
// times the memory latency (about 16 B a cycle per SM x 2,000 cycles), so
// a few fat workers suffice, and fewer workers split a strip fewer ways.
constexpr int kRingBytes = 14 * 1024;
constexpr int kParamVectors = 2 * kFragments;  // 16 uint4: 8 of scales, 8 of zeros
// Workers a strip is split over at most, for one n8 block of rows.
constexpr int kMaxSegments = 8;
// Workers an SM may hold (the workspace is sized for this many).
constexpr int kMaxWorkersPerSm = 32;

template <int BITS>
constexpr int stage_vectors() {
  return BITS * 32 + kParamVectors;
}

template <int BITS>
constexpr int ring_stages() {
  constexpr int n = kRingBytes / (16 * stage_vectors<BITS>());
  return n < 3 ? 3 : n > 12 ? 12 : n;
}

template <int BITS>
constexpr int ring_bytes_per_block() {
  return kDecodeWarps * ring_stages<BITS>() * stage_vectors<BITS>() * 16;
}

// Worker g's tiles are [first_tile(g), first_tile(g + 1)) of W in all.
GPTQ_HD int64_t first_tile(int64_t g, int64_t total_tiles, int64_t workers) { return g * total_tiles / workers; }
// The worker whose run holds tile t: the largest g with first_tile(g) <= t.
GPTQ_HD int64_t worker_of(int64_t t, int64_t total_tiles, int64_t workers) {
  return ((t + 1) * workers - 1) / total_tiles;
}

#if GPTQ_HAS_MMA

// acc[nb][c][i]: weight column 16c + lane/4 + 8(i/2) of the strip, x row
// 8nb + 2(lane%4) + i%2, as the transposed m16n8 products leave them.
GPTQ_HD int acc_column(int lane, int c, int i) { return 16 * c + lane / 4 + 8 * (i / 2); }
GPTQ_HD int acc_row(int lane, int nb, int i) { return 8 * nb + 2 * (lane % 4) + i % 2; }

#endif

// Four blocks (16 warps) an SM for one n8 block of rows: at most 128 registers.
template <typename T, int BITS, int NB, bool kWholeTileGroups>
__global__ void __launch_bounds__(kDecodeWarps * 32, NB == 1 ? 4 : 1)
    decode_kernel(const GptqGemmArgs a, int64_t total_tiles, int workers) {
#if GPTQ_HAS_MMA
  constexpr int kStages = ring_stages<BITS>(), kStage = stage_vectors<BITS>(), kRows = 8 * NB;
  constexpr bool kOffsetSums = kWholeTileGroups && offset_sums_exact<T, BITS>();
  extern __shared__ uint4 shared_rings[];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int worker = blockIdx.x * kDecodeWarps + warp;
  if (worker >= workers) return;
  uint4* ring = shared_rings + warp * (kStages * kStage);
  const int k_tiles = a.outputs[0].w.k_tiles();
  const int64_t begin = first_tile(worker, total_tiles, workers);
  const int64_t end = first_tile(worker + 1, total_tiles, workers);

  const int n_tiles = static_cast<int>(end - begin);
  const int first_strip = static_cast<int>(begin / k_tiles);
  const int first_kt = static_cast<int>(begin - int64_t{first_strip} * k_tiles);

  // Where the next copy reads: the tile's words and its group's
  // parameters, stepped per tile (no index arithmetic in the loop) and
  // aimed afresh at each strip.
  int copy_strip = first_strip, copy_kt = first_kt, copies_left = n_tiles;
  const uint4* copy_words = nullptr;
  const T* copy_params = nullptr;
  int copy_group_left = 0, copy_tiles_per_group = 0;
  int64_t params_per_group = 0;
  auto aim_copies = [&] {
    int nt = copy_strip;
    const GptqTiles& w = a.outputs[output_of(a, nt)].w;
    copy_words = static_cast<const uint4*>(w.weights) + (int64_t{nt} * k_tiles + copy_kt) * (BITS * 32) + lane;
    if constexpr (kWholeTileGroups) {
      copy_tiles_per_group = w.tiles_per_group;
      copy_group_left = copy_tiles_per_group - copy_kt % copy_tiles_per_group;
      params_per_group = int64_t{w.n_tiles()} * kTileN;
      copy_params = static_cast<const T*>(lane < 8 ? w.scales : w.zero_bias) +
                    (int64_t{copy_kt / copy_tiles_per_group} * w.n_tiles() + nt) * kTileN + (lane % 8) * 8;
    }
  };
  aim_copies();
  // The next tile into ring stage `stage`; a group is committed even past
  // the run, so the waits below count uniformly.
  auto issue = [&](int stage) {
    if (copies_left > 0) {
      uint4* dst = ring + stage * kStage;
#pragma unroll
      for (int u = 0; u < BITS; ++u) cp_async16(dst + u * 32 + lane, copy_words + u * 32);
      if constexpr (kWholeTileGroups) {
        if (lane < kParamVectors) cp_async16(dst + BITS * 32 + lane, copy_params);
      }
      if (--copies_left > 0) {
        if (++copy_kt == k_tiles) {
          copy_kt = 0;
          ++copy_strip;
          aim_copies();
        } else {
          copy_words += BITS * 32;
          if constexpr (kWholeTileGroups) {
            if (--copy_group_left == 0) {
              copy_group_left = copy_tiles_per_group;
              copy_params += params_per_group;
            }
          }
        }
      }
    }
    cp_async_commit();
  };

  float acc[NB][kFragments / 2][4] = {};
  // f(nb, c, i) over every accumulator of the lane.
  auto each_acc = [](auto&& f) {
#pragma unroll
    for (int nb = 0; nb < NB; ++nb) {
#pragma unroll
      for (int c = 0; c < kFragments / 2; ++c) {
#pragma unroll
        for (int i = 0; i < 4; ++i) f(nb, c, i);
      }
    }
  };

  // The strip's sums go to y: straight there when this worker streamed
  // all of it, else through its slot and the strip's last worker.
  auto finish_strip = [&](int strip) {
    int nt = strip;
    const GptqGemmOutput& out = a.outputs[output_of(a, nt)];
    const T* bias = static_cast<const T*>(out.bias);
    T* y = static_cast<T*>(out.y);
    const int64_t strip_begin = int64_t{strip} * k_tiles, strip_end = strip_begin + k_tiles;
    if (begin <= strip_begin && end >= strip_end) {
      each_acc([&](int nb, int c, int i) {
        const int row = acc_row(lane, nb, i), n = nt * kTileN + acc_column(lane, c, i);
        if (row >= a.m || n >= out.w.n) return;
        float v = acc[nb][c][i];
        if (bias != nullptr) v += to_float(bias[n]);
        y[row * out.ld_y + n] = from_float<T>(v);
      });
      return;
    }
    constexpr int kSlot = kRows * kTileN;
    float* slot = a.workspace + (int64_t{worker} + strip) * kSlot;
    each_acc([&](int nb, int c, int i) {
      const int row = acc_row(lane, nb, i);
      if (row < a.m) slot[row * kTileN + acc_column(lane, c, i)] = acc[nb][c][i];
    });
    const int64_t first = worker_of(strip_begin, total_tiles, workers);
    const int64_t last = worker_of(strip_end - 1, total_tiles, workers);
    __threadfence();
    __syncwarp();
    int is_last = 0;
    if (lane == 0) {
      int* counter = a.counters + strip;
      is_last = atomicAdd(counter, 1) == last - first;
      if (is_last) *counter = 0;
    }
    if (__shfl_sync(0xffffffffu, is_last, 0) == 0) return;
    __threadfence();
    // Lane 16h + q adds the float4 q of a row over the slots h, h + 2, ...
    // (unrolled, so several loads are in flight); the halves meet by a
    // shuffle. A fixed order: the same sums every run.
    const int q = lane % 16, h = lane / 16;
    const int rows = min(a.m, kRows);
    const int64_t slots = last - first + 1;
    const float4* base = reinterpret_cast<const float4*>(a.workspace + (first + strip) * kSlot) + q;
    for (int row = 0; row < rows; ++row) {
      float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
#pragma unroll 4
      for (int64_t g = h; g < slots; g += 2) {
        const float4 p = __ldcg(base + g * (kSlot / 4) + row * (kTileN / 4));
        v.x += p.x;
        v.y += p.y;
        v.z += p.z;
        v.w += p.w;
      }
      v.x += __shfl_xor_sync(0xffffffffu, v.x, 16);
      v.y += __shfl_xor_sync(0xffffffffu, v.y, 16);
      v.z += __shfl_xor_sync(0xffffffffu, v.z, 16);
      v.w += __shfl_xor_sync(0xffffffffu, v.w, 16);
      const float sums[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const int n = nt * kTileN + 4 * q + j;
        if (h != 0 || n >= out.w.n) continue;
        float value = sums[j];
        if (bias != nullptr) value += to_float(bias[n]);
        y[row * out.ld_y + n] = from_float<T>(value);
      }
    }
  };

  // With offset sums, a group's tiles add into `tile` and `x_sum`, which
  // the group's scales and zero points turn into column sums once.
  float tile[NB][kFragments / 2][4] = {};
  float x_sum[NB][4] = {};
  auto apply_group = [&](const uint4* stage) {
    GroupParams<T> group;
    const uint4 scales = stage[BITS * 32 + lane / 4], zeros = stage[BITS * 32 + 8 + lane / 4];
    __builtin_memcpy(group.scale, &scales, sizeof scales);
    __builtin_memcpy(group.zero, &zeros, sizeof zeros);
    each_acc([&](int nb, int c, int i) {
      const int f = 2 * c + i / 2;
      acc[nb][c][i] += group_sum<T>(tile[nb][c][i], x_sum[nb], i, to_float(group.scale[f]), to_float(group.zero[f]));
      tile[nb][c][i] = 0.0f;
    });
#pragma unroll
    for (int nb = 0; nb < NB; ++nb) {
#pragma unroll
      for (int i = 0; i < 4; ++i) x_sum[nb][i] = 0.0f;
    }
  };

  // One tile of the run: its words from the ring, its x (loaded a tile ahead) as n8 B operands.
  auto compute = [&](const uint4* stage, int strip, int kt, const uint32_t (&x_b)[NB][kStepsPerTile][2]) {
    uint32_t words[4 * BITS];
    tile_words<BITS>(stage, lane, words);
    if constexpr (kOffsetSums) {
#pragma unroll
      for (int ks = 0; ks < kStepsPerTile; ++ks) {
        uint32_t x[NB][2];
#pragma unroll
        for (int nb = 0; nb < NB; ++nb) {
          x[nb][0] = x_b[nb][ks][0];
          x[nb][1] = x_b[nb][ks][1];
          offset_x<T, BITS>(x[nb]);
          add_x_sums<T, BITS>(x_sum[nb], x[nb]);
        }
        uint32_t b[kFragments][2];
        offset_fragments<T, BITS>(words + ks * BITS, b);
#pragma unroll
        for (int nb = 0; nb < NB; ++nb) mma_transposed<T>(tile[nb], b, x[nb]);
      }
    } else {
      int nt = strip;
      const GptqTiles& w = a.outputs[output_of(a, nt)].w;
      uint32_t scale2[kFragments], zero2[kFragments];
      GroupParams<T> group;
      if constexpr (kWholeTileGroups) {
        const uint4 scales = stage[BITS * 32 + lane / 4], zeros = stage[BITS * 32 + 8 + lane / 4];
        __builtin_memcpy(group.scale, &scales, sizeof scales);
        __builtin_memcpy(group.zero, &zeros, sizeof zeros);
      } else {
        if (w.tiles_per_group > 0) load_group(w, kt / w.tiles_per_group, nt, lane, group);
      }
      if (kWholeTileGroups || w.tiles_per_group > 0) pairs_of(group, scale2, zero2);
#pragma unroll
      for (int ks = 0; ks < kStepsPerTile; ++ks) {
        uint32_t b[kFragments][2];
        dequantized_step<T, BITS>(w, kt, ks, nt, lane, words + ks * BITS, scale2, zero2, b);
#pragma unroll
        for (int nb = 0; nb < NB; ++nb) mma_transposed<T>(acc[nb], b, x_b[nb][ks]);
      }
    }
  };

#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) issue(s);
  wait_then_start_next();  // the ring is filling; x, the workspace and y wait for the previous kernel
  int stage = 0, refill = kStages - 1;
  // x comes from L1/L2, whose latency the next tile's loads (issued a tile
  // ahead) keep off the critical path.
  uint32_t x_next[NB][kStepsPerTile][2];
  int x_kt = first_kt;
  auto load_x = [&] {
    load_x_tiles_as_b<NB>(a, 0, x_kt, lane, x_next);
    if (++x_kt == k_tiles) x_kt = 0;
  };
  load_x();
  // The tile computed now: strip, k tile, tiles left in its group.
  int strip = first_strip, kt = first_kt, group_left = 0, tiles_per_group = 0;
  auto aim_groups = [&] {
    if constexpr (kOffsetSums) {
      int nt = strip;
      tiles_per_group = a.outputs[output_of(a, nt)].w.tiles_per_group;
      group_left = tiles_per_group - kt % tiles_per_group;
    }
  };
  aim_groups();
  for (int i = 0; i < n_tiles; ++i) {
    uint32_t x_b[NB][kStepsPerTile][2];
#pragma unroll
    for (int nb = 0; nb < NB; ++nb) {
#pragma unroll
      for (int ks = 0; ks < kStepsPerTile; ++ks) {
        x_b[nb][ks][0] = x_next[nb][ks][0];
        x_b[nb][ks][1] = x_next[nb][ks][1];
      }
    }
    if (i + 1 < n_tiles) load_x();
    __syncwarp();  // every lane is done with the stage refilled now (read in the last iteration)
    issue(refill);
    cp_async_wait<kStages - 1>();
    __syncwarp();  // the group parameters other lanes copied are in
    const uint4* current = ring + stage * kStage;
    compute(current, strip, kt, x_b);
    const bool strip_ends = kt + 1 == k_tiles;
    if constexpr (kOffsetSums) {
      const bool group_ends = --group_left == 0;
      if (group_ends) group_left = tiles_per_group;
      if (group_ends || strip_ends || i + 1 == n_tiles) apply_group(current);
    }
    if (strip_ends && i + 1 < n_tiles) {
      finish_strip(strip);
      each_acc([&](int nb, int c, int j) { acc[nb][c][j] = 0.0f; });
      ++strip;
      kt = 0;
      aim_groups();
    } else {
      ++kt;
    }
    stage = stage + 1 == kStages ? 0 : stage + 1;
    refill = refill + 1 == kStages ? 0 : refill + 1;
  }
  cp_async_wait<0>();
  finish_strip(strip);
#endif
}

// The fewest tiles a worker streams: fewer workers on small layers, so the
// split partial sums stay a small part of the work (GPTQ_GPU_DECODE_TILES
// overrides it, for benchmarks).
int min_tiles_per_worker() {
  static const int tiles = [] {
    const char* env = std::getenv("GPTQ_GPU_DECODE_TILES");
    const int n = env != nullptr ? std::atoi(env) : 0;
    return n > 0 ? n : 4;
  }();
  return tiles;
}

template <typename T, int BITS, int NB, bool kWholeTileGroups>
cudaError_t launch(const GptqGemmArgs& a, cudaStream_t stream) {
  constexpr auto kernel = decode_kernel<T, BITS, NB, kWholeTileGroups>;
  constexpr int bytes = ring_bytes_per_block<BITS>();
  const int per_sm = resident_blocks_per_sm<kernel>(kDecodeWarps * 32, bytes);
  const int strips = total_strips(a);
  const int64_t total_tiles = int64_t{strips} * a.outputs[0].w.k_tiles();
  const int64_t capacity = int64_t{per_sm} * a.sm_count * kDecodeWarps;
  const int64_t fit = a.workspace != nullptr ? a.workspace_floats / (8 * NB * kTileN) - strips : 0;
  // Each strip over at most kMaxSegments / NB workers: more rows make
  // bigger partial sums, whose adding up is the tail of the launch.
  const int k_tiles = a.outputs[0].w.k_tiles();
  const int per_worker = std::max(min_tiles_per_worker(), (k_tiles * NB + kMaxSegments - 1) / kMaxSegments);
  int64_t workers = std::min(capacity, std::max<int64_t>(1, total_tiles / per_worker));
  workers = std::clamp<int64_t>(std::min(workers, fit), 1, total_tiles);
  const int blocks = static_cast<int>((workers + kDecodeWarps - 1) / kDecodeWarps);
  launch_kernel(kernel, blocks, kDecodeWarps * 32, bytes, stream, a, total_tiles, static_cast<int>(workers));
  return cudaGetLastError();
}

}  // namespace

bool gptq_decode_pays(const GptqGemmArgs& a) {
#if GPTQ_GPU_HIP
  return false;
#else
  // Workers a GPU holds at once: four blocks of four warps an SM.
  constexpr int64_t kTilesPerWorker = 48, kWorkersPerSm = 16;
  if (a.m > 8 || a.n_outputs == 0) return false;
  const int64_t tiles = int64_t{total_strips(a)} * a.outputs[0].w.k_tiles();
  return tiles >= kTilesPerWorker * kWorkersPerSm * a.sm_count;
#endif
}

int64_t gptq_decode_workspace_floats(const GptqGemmArgs& a) {
  return (int64_t{a.sm_count} * kMaxWorkersPerSm + total_strips(a)) * kDecodeMaxRows * kTileN;
}

cudaError_t launch_gptq_decode(FloatType type, const GptqGemmArgs& a, cudaStream_t stream) {
#if GPTQ_GPU_HIP
  return cudaErrorInvalidValue;
#else
  if (type == FloatType::F32 || a.m > kDecodeMaxRows) return cudaErrorInvalidValue;
  if (a.m == 0 || a.n_outputs == 0) return cudaSuccess;
  bool whole_tile_groups = true;
  for (int o = 0; o < a.n_outputs; ++o) whole_tile_groups &= a.outputs[o].w.tiles_per_group > 0;
  cudaError_t status = cudaErrorInvalidValue;
  with_float_type(type, [&]<typename T>() {
    if constexpr (!std::is_same_v<T, float>) {
      with_bits(a.outputs[0].w.bits, [&]<int BITS>() {
        // Groups smaller than a tile (rare) take one instantiation for all rows.
        if (!whole_tile_groups) status = launch<T, BITS, 2, false>(a, stream);
        else if (a.m <= 8) status = launch<T, BITS, 1, true>(a, stream);
        else status = launch<T, BITS, 2, true>(a, stream);
      });
    }
  });
  return status;
#endif
}

}  // namespace gptq::gpu
