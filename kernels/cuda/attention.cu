// Attention kernels (attention.h).
#include <algorithm>
#include <cstdlib>
#include <type_traits>

#include "kernels/cuda/attention.h"
#include "kernels/cuda/device_common.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/tensor_core.cuh"

namespace gptq::gpu {
namespace {

constexpr int kKeysInFlight = 4;
constexpr int kFewTokens = 4;
constexpr int kMaxHeadDim = 256;

// The key range [begin, end) of split `s` of token t's visible keys.
__device__ __forceinline__ void split_range(const AttentionArgs& a, int t, int s, int& begin, int& end) {
  const int pos = a.pos[t];
  const int lo = a.window > 0 ? max(0, pos - a.window + 1) : 0;
  const int len = pos - lo + 1;
  const int per = (len + a.splits - 1) / a.splits;
  begin = lo + s * per;
  end = min(begin + per, pos + 1);
}

// Block = (token, query head, split); its warps take the range's keys in
// turn with an online softmax each, then merge. EL = head_dim / 32 rounded up.
template <typename T, typename KV, int EL, int kSplitWarps>
__global__ void __launch_bounds__(kSplitWarps * 32) attention_split_kernel(const AttentionArgs a) {
  // The key range comes from the staged positions, read while the kernel before still runs.
  start_next_kernel();
  __shared__ float merge_m[kSplitWarps], merge_l[kSplitWarps];
  __shared__ float merge_o[kSplitWarps][kMaxHeadDim];
  const int t = blockIdx.x, h = blockIdx.y, s = blockIdx.z;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int hd = a.head_dim;
  const int g = h / (a.n_heads / a.n_kv_heads);
  int begin, end;
  split_range(a, t, s, begin, end);
  const int64_t base = a.seq[t] * a.seq_stride + g * a.head_stride;
  const int query_pos = a.pos[t];
  const float alibi_slope = a.alibi_slopes != nullptr ? a.alibi_slopes[h] : 0.0f;
  wait_for_previous_kernel();
  const T* q = static_cast<const T*>(a.q) + t * a.ld_q + h * hd;
  float qv[EL], acc[EL];
#pragma unroll
  for (int i = 0; i < EL; ++i) {
    const int d = lane + 32 * i;
    qv[i] = d < hd ? to_float(q[d]) * a.scale : 0.0f;
    acc[i] = 0.0f;
  }
  const KV* keys = static_cast<const KV*>(a.k_cache) + base;
  const KV* values = static_cast<const KV*>(a.v_cache) + base;
  // kKeysInFlight keys per warp at a time: their loads are issued together
  // and their dot-product reductions interleave, so a warp waits on memory
  // and on the shuffles once per group instead of once per key.
  float m = -INFINITY, l = 0.0f;
  for (int p0 = begin + warp; p0 < end; p0 += kSplitWarps * kKeysInFlight) {
    float kv[kKeysInFlight][EL], vv[kKeysInFlight][EL], score[kKeysInFlight];
#pragma unroll
    for (int u = 0; u < kKeysInFlight; ++u) {
      const int p = p0 + u * kSplitWarps;
      const KV* k = keys + int64_t{p} * hd;
      const KV* v = values + int64_t{p} * hd;
#pragma unroll
      for (int i = 0; i < EL; ++i) {
        const int d = lane + 32 * i;
        const bool valid = p < end && d < hd;
        kv[u][i] = valid ? to_float(k[d]) : 0.0f;
        vv[u][i] = valid ? to_float(v[d]) : 0.0f;
      }
    }
#pragma unroll
    for (int u = 0; u < kKeysInFlight; ++u) {
      float dot = 0.0f;
#pragma unroll
      for (int i = 0; i < EL; ++i) dot += qv[i] * kv[u][i];
      score[u] = dot;
    }
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
#pragma unroll
      for (int u = 0; u < kKeysInFlight; ++u) score[u] += __shfl_xor_sync(0xffffffffu, score[u], offset, GPTQ_WARP);
    }
    float m_new = m;
#pragma unroll
    for (int u = 0; u < kKeysInFlight; ++u) {
      score[u] += alibi_slope * static_cast<float>(p0 + u * kSplitWarps - query_pos);
      if (p0 + u * kSplitWarps >= end) score[u] = -INFINITY;
      m_new = fmaxf(m_new, score[u]);
    }
    const float alpha = expf(m - m_new);  // 0 on the first keys (m = -inf)
    l *= alpha;
#pragma unroll
    for (int i = 0; i < EL; ++i) acc[i] *= alpha;
#pragma unroll
    for (int u = 0; u < kKeysInFlight; ++u) {
      const float weight = expf(score[u] - m_new);  // 0 past the range
      l += weight;
#pragma unroll
      for (int i = 0; i < EL; ++i) acc[i] += weight * vv[u][i];
    }
    m = m_new;
  }
  if (lane == 0) {
    merge_m[warp] = m;
    merge_l[warp] = l;
  }
#pragma unroll
  for (int i = 0; i < EL; ++i) {
    const int d = lane + 32 * i;
    if (d < hd) merge_o[warp][d] = acc[i];
  }
  __syncthreads();
  float m_all = -INFINITY;
  for (int w = 0; w < kSplitWarps; ++w) m_all = fmaxf(m_all, merge_m[w]);
  float factor[kSplitWarps], l_all = 0.0f;
  for (int w = 0; w < kSplitWarps; ++w) {
    factor[w] = merge_m[w] == -INFINITY ? 0.0f : expf(merge_m[w] - m_all);
    l_all += factor[w] * merge_l[w];
  }
  if (a.splits == 1) {
    T* out = static_cast<T*>(a.out) + t * a.ld_out + h * hd;
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
      float o = 0.0f;
      for (int w = 0; w < kSplitWarps; ++w) o += factor[w] * merge_o[w][d];
      out[d] = from_float<T>(o / l_all);
    }
    return;
  }
  // Partial (m, l, o) of this split, for the merge kernel.
  float* part = a.partial + ((int64_t{t} * a.n_heads + h) * a.splits + s) * (hd + 2);
  if (threadIdx.x == 0) {
    part[0] = m_all;
    part[1] = l_all;
  }
  for (int d = threadIdx.x; d < hd; d += blockDim.x) {
    float o = 0.0f;
    for (int w = 0; w < kSplitWarps; ++w) o += factor[w] * merge_o[w][d];
    part[2 + d] = o;
  }
}

template <typename T>
__global__ void attention_merge_kernel(const AttentionArgs a) {
  begin_dependent_kernel();
  const int t = blockIdx.x, h = blockIdx.y, hd = a.head_dim;
  const float* parts = a.partial + (int64_t{t} * a.n_heads + h) * a.splits * (hd + 2);
  float m_all = -INFINITY;
  for (int s = 0; s < a.splits; ++s) m_all = fmaxf(m_all, parts[s * (hd + 2)]);
  float l_all = 0.0f;
  for (int s = 0; s < a.splits; ++s) {
    const float m = parts[s * (hd + 2)];
    if (m != -INFINITY) l_all += expf(m - m_all) * parts[s * (hd + 2) + 1];
  }
  T* out = static_cast<T*>(a.out) + t * a.ld_out + h * hd;
  for (int d = threadIdx.x; d < hd; d += blockDim.x) {
    float o = 0.0f;
    for (int s = 0; s < a.splits; ++s) {
      const float m = parts[s * (hd + 2)];
      if (m != -INFINITY) o += expf(m - m_all) * parts[s * (hd + 2) + 2 + d];
    }
    out[d] = from_float<T>(o / l_all);
  }
}

#if GPTQ_HAS_MMA

// 64 rows of HD elements, 16-byte chunks XOR-swizzled by row (ldmatrix
// reads 8 rows of one chunk: distinct banks).
template <int HD>
__device__ __forceinline__ int swizzled(int row, int chunk) {
  return row * HD + ((chunk ^ (row % 8)) * 8);
}

template <typename T>
__device__ __forceinline__ uint32_t pack2(float lo, float hi) {
  if constexpr (std::is_same_v<T, __half>) {
    const __half2 v = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<const uint32_t*>(&v);
  } else {
    const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<const uint32_t*>(&v);
  }
}

#endif  // GPTQ_HAS_MMA

// Flash attention over one tile x one query head: each warp owns 16 query
// rows; keys and values come in blocks of 64 through shared memory.
template <typename T, int HD>
__global__ void __launch_bounds__(128) attention_tiled_kernel(const AttentionArgs a) {
  begin_dependent_kernel();
#if GPTQ_HAS_MMA
  constexpr int kChunks = HD / 8;
  constexpr int kRows = kAttentionTileRows;
  __shared__ __align__(128) T k_s[kRows * HD];
  __shared__ __align__(128) T v_s[kRows * HD];  // first holds the Q tile
  const AttentionTile tile = a.tiles[blockIdx.x];
  const int h = blockIdx.y;
  const int g = h / (a.n_heads / a.n_kv_heads);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;

  const T* q = static_cast<const T*>(a.q);
  for (int c = threadIdx.x; c < kRows * kChunks; c += blockDim.x) {
    const int row = c / kChunks, chunk = c % kChunks;
    const bool valid = row < tile.count;
    cp_async16(v_s + swizzled<HD>(row, chunk), valid ? q + (tile.first_row + row) * a.ld_q + h * HD + chunk * 8 : q,
               valid);
  }
  cp_async_commit();
  cp_async_wait<0>();
  __syncthreads();
  uint32_t qf[HD / 16][4];
#pragma unroll
  for (int kd = 0; kd < HD / 16; ++kd) {
    ldmatrix_x4(qf[kd], v_s + swizzled<HD>(16 * warp + lane % 16, 2 * kd + lane / 16));
  }
  __syncthreads();

  constexpr float kLog2e = 1.4426950408889634f;  // scores in log2 units, for exp2f
  const float scale = a.scale * kLog2e;
  const float alibi_slope = a.alibi_slopes != nullptr ? a.alibi_slopes[h] * kLog2e : 0.0f;
  const int last_pos = tile.first_pos + tile.count - 1;
  const int lo = a.window > 0 ? max(0, tile.first_pos - a.window + 1) : 0;
  const int64_t base = tile.seq * a.seq_stride + g * a.head_stride;
  const T* keys = static_cast<const T*>(a.k_cache) + base;
  const T* values = static_cast<const T*>(a.v_cache) + base;
  // This lane's two rows of the warp's 16.
  const int row0 = 16 * warp + lane / 4;
  const int pos_row[2] = {tile.first_pos + row0, tile.first_pos + row0 + 8};
  const bool row_valid[2] = {row0 < tile.count, row0 + 8 < tile.count};
  float m_run[2] = {-INFINITY, -INFINITY}, l_run[2] = {0.0f, 0.0f};
  float acc[HD / 8][4] = {};

  for (int kb = lo / kRows * kRows; kb <= last_pos; kb += kRows) {
    for (int c = threadIdx.x; c < kRows * kChunks; c += blockDim.x) {
      const int row = c / kChunks, chunk = c % kChunks;
      const bool valid = kb + row < a.n_ctx;
      const int64_t at = int64_t{kb + row} * HD + chunk * 8;
      cp_async16(k_s + swizzled<HD>(row, chunk), valid ? keys + at : keys, valid);
      cp_async16(v_s + swizzled<HD>(row, chunk), valid ? values + at : values, valid);
    }
    cp_async_commit();
    cp_async_wait<0>();
    __syncthreads();

    float s[8][4] = {};
#pragma unroll
    for (int f2 = 0; f2 < 4; ++f2) {
#pragma unroll
      for (int kd = 0; kd < HD / 16; ++kd) {
        uint32_t b[4];
        const int mi = lane / 8;
        ldmatrix_x4(b, k_s + swizzled<HD>(16 * f2 + 8 * (mi / 2) + lane % 8, 2 * kd + mi % 2));
        mma_16816<T>(s[2 * f2], qf[kd], b[0], b[1]);
        mma_16816<T>(s[2 * f2 + 1], qf[kd], b[2], b[3]);
      }
    }
    // Mask to each row's keys, scale, and the rows' running max.
    float block_max[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int f = 0; f < 8; ++f) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int r = e / 2;
        const int key = kb + 8 * f + 2 * (lane % 4) + e % 2;
        const bool visible = row_valid[r] && key <= pos_row[r] && (a.window <= 0 || key > pos_row[r] - a.window);
        s[f][e] = visible ? s[f][e] * scale + alibi_slope * static_cast<float>(key - pos_row[r]) : -INFINITY;
        block_max[r] = fmaxf(block_max[r], s[f][e]);
      }
    }
    float alpha[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      block_max[r] = fmaxf(block_max[r], __shfl_xor_sync(0xffffffffu, block_max[r], 1, GPTQ_WARP));
      block_max[r] = fmaxf(block_max[r], __shfl_xor_sync(0xffffffffu, block_max[r], 2, GPTQ_WARP));
      const float m_new = fmaxf(m_run[r], block_max[r]);
      const float m_use = m_new == -INFINITY ? 0.0f : m_new;  // a row with nothing visible yet
      alpha[r] = exp2f(m_run[r] - m_use);
      m_run[r] = m_new;
      block_max[r] = m_use;
      l_run[r] *= alpha[r];
    }
#pragma unroll
    for (int f = 0; f < 8; ++f) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int r = e / 2;
        s[f][e] = exp2f(s[f][e] - block_max[r]);
        l_run[r] += s[f][e];
      }
    }
#pragma unroll
    for (int j = 0; j < HD / 8; ++j) {
      acc[j][0] *= alpha[0];
      acc[j][1] *= alpha[0];
      acc[j][2] *= alpha[1];
      acc[j][3] *= alpha[1];
    }
    // P (the C fragments of S) is the A operand of P . V as it stands.
#pragma unroll
    for (int kk = 0; kk < 4; ++kk) {
      const uint32_t pa[4] = {pack2<T>(s[2 * kk][0], s[2 * kk][1]), pack2<T>(s[2 * kk][2], s[2 * kk][3]),
                              pack2<T>(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                              pack2<T>(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
      for (int j2 = 0; j2 < HD / 16; ++j2) {
        uint32_t b[4];
        const int mi = lane / 8;
        ldmatrix_x4_trans(b, v_s + swizzled<HD>(16 * kk + 8 * (mi % 2) + lane % 8, 2 * j2 + mi / 2));
        mma_16816<T>(acc[2 * j2], pa, b[0], b[1]);
        mma_16816<T>(acc[2 * j2 + 1], pa, b[2], b[3]);
      }
    }
    __syncthreads();
  }

  T* out = static_cast<T*>(a.out);
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    l_run[r] += __shfl_xor_sync(0xffffffffu, l_run[r], 1, GPTQ_WARP);
    l_run[r] += __shfl_xor_sync(0xffffffffu, l_run[r], 2, GPTQ_WARP);
  }
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    if (!row_valid[r]) continue;
    const float inv = 1.0f / l_run[r];
    T* row = out + (tile.first_row + row0 + 8 * r) * a.ld_out + h * HD;
#pragma unroll
    for (int j = 0; j < HD / 8; ++j) {
      const int d = 8 * j + 2 * (lane % 4);
      row[d] = from_float<T>(acc[j][2 * r] * inv);
      row[d + 1] = from_float<T>(acc[j][2 * r + 1] * inv);
    }
  }
#endif
}

// Blocks of the split kernel an SM runs at once (eight warps each): the
// splits aim at one wave of them.
constexpr int kSplitBlocksPerSm = 8;

// Why 64 keys: a warp takes kKeysInFlight keys per round and a block has
// 8 warps, so 64 keys are two rounds; each round is a chain of dependent
// loads and shuffles (about a microsecond), which fewer keys per block hide.
int32_t min_split_keys() {
  static const int32_t keys = [] {
    const char* env = std::getenv("GPTQ_GPU_ATTENTION_SPLIT_KEYS");
    const int value = env != nullptr ? std::atoi(env) : 0;
    return value > 0 ? value : 64;
  }();
  return keys;
}

int32_t wave_splits(int32_t n_tokens, int32_t n_heads) {
  int device = 0, sms = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess || sms <= 0) {
    (void)cudaGetLastError();
    sms = 1;
  }
  const int64_t blocks = int64_t{n_tokens} * n_heads;
  return static_cast<int32_t>(std::clamp<int64_t>((int64_t{sms} * kSplitBlocksPerSm + blocks - 1) / blocks, 1,
                                                  kMaxAttentionSplits));
}

}  // namespace

int32_t attention_splits(int32_t n_tokens, int32_t n_heads, int32_t n_ctx) {
  if (n_tokens <= 0 || n_heads <= 0) return 1;
  return std::clamp(std::min(n_ctx / min_split_keys(), wave_splits(n_tokens, n_heads)), 1, kMaxAttentionSplits);
}

int64_t attention_partial_floats(int32_t max_tokens, int32_t n_heads, int32_t head_dim) {
  int64_t most = 0;
  for (int32_t t = 1; t <= max_tokens; ++t) {
    const int32_t splits = wave_splits(t, n_heads);
    if (splits > 1) most = std::max(most, int64_t{t} * n_heads * splits * (head_dim + 2));
  }
  return most;
}

bool attention_tiled_supported(FloatType type, FloatType kv_type, int32_t head_dim) {
#if GPTQ_GPU_HIP
  return false;
#else
  return type != FloatType::F32 && kv_type == type && (head_dim == 64 || head_dim == 128);
#endif
}

cudaError_t launch_attention_split(FloatType type, const AttentionArgs& a, cudaStream_t stream) {
  if (a.n_tokens == 0) return cudaSuccess;
  if (a.head_dim > kMaxHeadDim || a.splits < 1 || a.splits > kMaxAttentionSplits) return cudaErrorInvalidValue;
  const dim3 grid(a.n_tokens, a.n_heads, a.splits);
  const int el = (a.head_dim + 31) / 32;
  with_float_type(type, [&]<typename T>() {
    with_float_type(a.kv_type, [&]<typename KV>() {
      // A few tokens: more warps per block, as there are few blocks to fill the GPU.
      auto launch = [&]<int kWarps>() {
        if (el <= 2) launch_kernel(attention_split_kernel<T, KV, 2, kWarps>, grid, kWarps * 32, 0, stream, a);
        else if (el <= 4) launch_kernel(attention_split_kernel<T, KV, 4, kWarps>, grid, kWarps * 32, 0, stream, a);
        else launch_kernel(attention_split_kernel<T, KV, 8, kWarps>, grid, kWarps * 32, 0, stream, a);
      };
      if (a.n_tokens <= kFewTokens) launch.template operator()<8>();
      else launch.template operator()<4>();
    });
    if (a.splits > 1) launch_kernel(attention_merge_kernel<T>, dim3(a.n_tokens, a.n_heads), 128, 0, stream, a);
  });
  return cudaGetLastError();
}

cudaError_t launch_attention_tiled(FloatType type, const AttentionArgs& a, cudaStream_t stream) {
  if (a.n_tiles == 0) return cudaSuccess;
  if (!attention_tiled_supported(type, a.kv_type, a.head_dim)) return cudaErrorInvalidValue;
#if !GPTQ_GPU_HIP
  const dim3 grid(a.n_tiles, a.n_heads);
  with_float_type(type, [&]<typename T>() {
    if constexpr (!std::is_same_v<T, float>) {
      if (a.head_dim == 64) launch_kernel(attention_tiled_kernel<T, 64>, grid, 128, 0, stream, a);
      else launch_kernel(attention_tiled_kernel<T, 128>, grid, 128, 0, stream, a);
    }
  });
#endif
  return cudaGetLastError();
}

}  // namespace gptq::gpu
