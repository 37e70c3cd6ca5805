// Row-wise kernels (elementwise.h). They move a small share of the bytes
// of a step, so they favour plain, obviously correct code: one block or
// warp per row or head, fp32 math, each value rounded once to its type.
#include <algorithm>
#include <cmath>

#include "kernels/cuda/device_common.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/elementwise.h"

namespace gptq::gpu {
namespace {

constexpr int kRowThreads = 256;
constexpr int kMaxHeadDim = 512;

template <typename T>
__global__ void embed_kernel(EmbedArgs a) {
  begin_dependent_kernel();
  const int t = blockIdx.x;
  const T* row = static_cast<const T*>(a.tokens_table) + int64_t{a.tokens[t]} * a.hidden;
  const T* pos_row = a.positions_table != nullptr
                         ? static_cast<const T*>(a.positions_table) + int64_t{a.positions[t] + a.position_offset} * a.hidden
                         : nullptr;
  T* out = static_cast<T*>(a.out) + t * a.ld_out;
  for (int i = threadIdx.x; i < a.hidden; i += blockDim.x) {
    float v = to_float(row[i]) * a.scale;
    if (pos_row != nullptr) v += to_float(pos_row[i]);
    out[i] = from_float<T>(v);
  }
}

// Rows of up to kNormCached * blockDim.x values stay in registers between
// the sum and the scaling, and the weights are fetched before the sum is
// known: a decode step's norm is one row, so its time is its chain of
// dependent memory round trips, not bandwidth.
constexpr int kNormCached = 8;

template <typename T>
__global__ void residual_norm_kernel(ResidualNormArgs a) {
  // The norm's weights are fetched while the kernel before still runs: a
  // decode step's norms would otherwise start with a DRAM round trip.
  start_next_kernel();
  __shared__ float scratch[32];
  const int r = blockIdx.x;
  T* hidden = static_cast<T*>(a.hidden) + r * a.ld_hidden;
  const T* add = a.add != nullptr ? static_cast<const T*>(a.add) + r * a.ld_add : nullptr;
  const T* add2 = a.add2 != nullptr ? static_cast<const T*>(a.add2) + r * a.ld_add2 : nullptr;
  const bool cached = a.n <= kNormCached * static_cast<int>(blockDim.x);
  float h_cache[kNormCached], w_cache[kNormCached], b_cache[kNormCached];
  if (cached && a.weight != nullptr) {
#pragma unroll
    for (int j = 0; j < kNormCached; ++j) {
      const int i = threadIdx.x + j * blockDim.x;
      w_cache[j] = i < a.n ? a.weight[i] : 0.0f;
      b_cache[j] = i < a.n && a.bias != nullptr ? a.bias[i] : 0.0f;
    }
  }
  wait_for_previous_kernel();
  // The sum is rounded to the stream's type first: the norm sees what is stored.
  auto load = [&](int i) {
    float h = to_float(hidden[i]);
    if (add != nullptr) {
      h += to_float(add[i]);
      if (add2 != nullptr) h += to_float(add2[i]);
      const T rounded = from_float<T>(h);
      hidden[i] = rounded;
      h = to_float(rounded);
    }
    return h;
  };
  float sum = 0.0f, sum_squares = 0.0f;
  if (cached) {
#pragma unroll
    for (int j = 0; j < kNormCached; ++j) {
      const int i = threadIdx.x + j * blockDim.x;
      h_cache[j] = i < a.n ? load(i) : 0.0f;
      sum += h_cache[j];
      sum_squares += h_cache[j] * h_cache[j];
    }
  } else {
    for (int i = threadIdx.x; i < a.n; i += blockDim.x) {
      const float h = load(i);
      sum += h;
      sum_squares += h * h;
    }
  }
  if (a.weight == nullptr) return;
  float mean = 0.0f;
  if (a.layer_norm) {
    mean = block_sum(sum, scratch) / static_cast<float>(a.n);
    sum_squares = 0.0f;
    if (cached) {
#pragma unroll
      for (int j = 0; j < kNormCached; ++j) {
        const int i = threadIdx.x + j * blockDim.x;
        const float c = i < a.n ? h_cache[j] - mean : 0.0f;
        sum_squares += c * c;
      }
    } else {
      for (int i = threadIdx.x; i < a.n; i += blockDim.x) {
        const float c = to_float(hidden[i]) - mean;
        sum_squares += c * c;
      }
    }
  }
  const float total = block_sum(sum_squares, scratch);
  const float inv = 1.0f / sqrtf(total / static_cast<float>(a.n) + a.eps);
  T* out = static_cast<T*>(a.out) + r * a.ld_out;
  if (cached) {
#pragma unroll
    for (int j = 0; j < kNormCached; ++j) {
      const int i = threadIdx.x + j * blockDim.x;
      if (i < a.n) out[i] = from_float<T>(w_cache[j] * ((h_cache[j] - mean) * inv) + b_cache[j]);
    }
  } else {
    for (int i = threadIdx.x; i < a.n; i += blockDim.x) {
      float v = a.weight[i] * ((to_float(hidden[i]) - mean) * inv);
      if (a.bias != nullptr) v += a.bias[i];
      out[i] = from_float<T>(v);
    }
  }
}

template <typename T>
__global__ void split_qkv_kernel(SplitQkvArgs a) {
  begin_dependent_kernel();
  const int t = blockIdx.x;
  const int q_dim = a.n_heads * a.head_dim, kv_dim = a.n_kv_heads * a.head_dim;
  const T* row = static_cast<const T*>(a.qkv) + t * a.ld_qkv;
  T* q = static_cast<T*>(a.q) + t * a.ld_q;
  T* k = static_cast<T*>(a.k) + t * a.ld_k;
  T* v = static_cast<T*>(a.v) + t * a.ld_v;
  for (int e = threadIdx.x; e < q_dim + 2 * kv_dim; e += blockDim.x) {
    if (a.head_interleaved) {
      const int head = e / (3 * a.head_dim), within = e % (3 * a.head_dim);
      const int part = within / a.head_dim, d = head * a.head_dim + within % a.head_dim;
      (part == 0 ? q : part == 1 ? k : v)[d] = row[e];
    } else if (e < q_dim) {
      q[e] = row[e];
    } else if (e < q_dim + kv_dim) {
      k[e - q_dim] = row[e];
    } else {
      v[e - q_dim - kv_dim] = row[e];
    }
  }
}

// One warp per (token, head): q heads first, then k heads (which also
// store their v head).
template <typename T, typename KV>
__global__ void rotate_store_kernel(RotateStoreArgs a) {
  // The position (staged by a copy before the step's first kernel) and its
  // cos/sin row are read while the kernel before still runs.
  start_next_kernel();
  __shared__ float buf[kMaxHeadDim];
  const int t = blockIdx.x, h = blockIdx.y, lane = threadIdx.x;
  const int hd = a.head_dim;
  const int pos = a.pos[t];
  constexpr int kPerLane = kMaxHeadDim / 2 / GPTQ_WARP;
  float cos_v[kPerLane], sin_v[kPerLane];
  if (a.rope_cos != nullptr) {
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      const int i = lane + j * GPTQ_WARP;
      cos_v[j] = i < a.rope_half ? a.rope_cos[int64_t{pos} * a.rope_half + i] : 0.0f;
      sin_v[j] = i < a.rope_half ? a.rope_sin[int64_t{pos} * a.rope_half + i] : 0.0f;
    }
  }
  wait_for_previous_kernel();
  const bool is_q = h < a.n_heads;
  const int head = is_q ? h : h - a.n_heads;
  const T* src = is_q ? static_cast<const T*>(a.q) + t * a.ld_q + head * hd
                      : static_cast<const T*>(a.k) + t * a.ld_k + head * hd;
  for (int i = lane; i < hd; i += GPTQ_WARP) buf[i] = to_float(src[i]);
  __syncwarp();
  if (const float* norm = is_q ? a.q_norm : a.k_norm) {
    float ss = 0.0f;
    for (int i = lane; i < hd; i += GPTQ_WARP) ss += buf[i] * buf[i];
    const float inv = 1.0f / sqrtf(warp_sum(ss) / static_cast<float>(hd) + a.norm_eps);
    for (int i = lane; i < hd; i += GPTQ_WARP) buf[i] = norm[i] * (buf[i] * inv);
    __syncwarp();
  }
  if (a.rope_cos != nullptr) {
    const int half = a.rope_half;
    float first[kPerLane], second[kPerLane];
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      const int i = lane + j * GPTQ_WARP;
      if (i < half) {
        const int i1 = a.interleaved ? 2 * i : i, i2 = a.interleaved ? 2 * i + 1 : i + half;
        const float x1 = buf[i1], x2 = buf[i2], c = cos_v[j], s = sin_v[j];
        first[j] = x1 * c - x2 * s;
        second[j] = x2 * c + x1 * s;
      }
    }
    __syncwarp();
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      const int i = lane + j * GPTQ_WARP;
      if (i < half) {
        buf[a.interleaved ? 2 * i : i] = first[j];
        buf[a.interleaved ? 2 * i + 1 : i + half] = second[j];
      }
    }
    __syncwarp();
  }
  if (is_q) {
    T* out = static_cast<T*>(a.q) + t * a.ld_q + head * hd;
    for (int i = lane; i < hd; i += GPTQ_WARP) out[i] = from_float<T>(buf[i]);
    return;
  }
  const int64_t at = a.seq[t] * a.seq_stride + head * a.head_stride + int64_t{pos} * hd;
  KV* k_out = static_cast<KV*>(a.k_cache) + at;
  KV* v_out = static_cast<KV*>(a.v_cache) + at;
  const T* v_in = static_cast<const T*>(a.v) + t * a.ld_v + head * hd;
  for (int i = lane; i < hd; i += GPTQ_WARP) {
    k_out[i] = from_float<KV>(buf[i]);
    v_out[i] = from_float<KV>(to_float(v_in[i]));
  }
}

__device__ __forceinline__ float activation_of(float v, Activation act) {
  switch (act) {
    case Activation::Silu: return v / (1.0f + expf(-v));
    case Activation::GeluErf: return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
    case Activation::GeluTanh: return 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
    case Activation::Relu: return fmaxf(v, 0.0f);
  }
  return v;
}

template <typename T>
__global__ void activate_kernel(T* gate, int64_t ld_gate, const T* up, int64_t ld_up, int32_t n, Activation act) {
  begin_dependent_kernel();
  const int r = blockIdx.y;
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  T* g = gate + r * ld_gate;
  float v = activation_of(to_float(g[i]), act);
  if (up != nullptr) v *= to_float(up[r * ld_up + i]);
  g[i] = from_float<T>(v);
}

template <typename T>
__global__ void gather_rows_kernel(const T* x, int64_t ld_x, const int32_t* rows, int32_t n, T* out, int64_t ld_out) {
  begin_dependent_kernel();
  const int r = blockIdx.x;
  const T* src = x + int64_t{rows[r]} * ld_x;
  for (int i = threadIdx.x; i < n; i += blockDim.x) out[r * ld_out + i] = src[i];
}

template <typename T>
__global__ void gather_columns_kernel(const T* x, int64_t ld_x, const int32_t* source, int32_t n_in, int32_t n_out,
                                      T* out, int64_t ld_out) {
  begin_dependent_kernel();
  const int r = blockIdx.y;
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= n_out) return;
  const int32_t s = source != nullptr ? source[c] : (c < n_in ? c : -1);
  out[r * ld_out + c] = s >= 0 ? x[r * ld_x + s] : from_float<T>(0.0f);
}

template <typename T>
__global__ void to_float_kernel(const T* x, int64_t ld_x, int32_t n, float* out) {
  begin_dependent_kernel();
  const int r = blockIdx.y;
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[int64_t{r} * n + i] = to_float(x[r * ld_x + i]);
}

template <typename T>
__global__ void from_float_kernel(const float* x, int32_t n, T* out, int64_t ld_out) {
  begin_dependent_kernel();
  const int r = blockIdx.y;
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[r * ld_out + i] = from_float<T>(x[int64_t{r} * n + i]);
}

template <typename From, typename To>
__global__ void convert_kernel(const From* in, To* out, int64_t n) {
  begin_dependent_kernel();
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    out[i] = from_float<To>(to_float(in[i]));
  }
}

template <typename T>
__global__ void add_bias_kernel(T* y, int64_t ld_y, int32_t n, const T* bias) {
  begin_dependent_kernel();
  const int r = blockIdx.y;
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[r * ld_y + i] = from_float<T>(to_float(y[r * ld_y + i]) + to_float(bias[i]));
}

__device__ __forceinline__ double warp_sum_double(double v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset, GPTQ_WARP);
  return v;
}

template <typename T>
__global__ void token_nll_kernel(const T* logits, int64_t ld, int32_t vocab, const int32_t* targets, double* out) {
  begin_dependent_kernel();
  __shared__ float scratch[32];
  __shared__ double partial[32];
  const int r = blockIdx.x;
  const T* row = logits + r * ld;
  float m = -INFINITY;
  for (int i = threadIdx.x; i < vocab; i += blockDim.x) m = fmaxf(m, to_float(row[i]));
  m = block_max(m, scratch);
  double sum = 0.0;
  for (int i = threadIdx.x; i < vocab; i += blockDim.x) sum += exp(static_cast<double>(to_float(row[i])) - m);
  sum = warp_sum_double(sum);
  const int lane = threadIdx.x % GPTQ_WARP, warp = threadIdx.x / GPTQ_WARP;
  if (lane == 0) partial[warp] = sum;
  __syncthreads();
  if (threadIdx.x == 0) {
    double total = 0.0;
    for (int w = 0; w < static_cast<int>(blockDim.x / GPTQ_WARP); ++w) total += partial[w];
    out[r] = log(total) + m - static_cast<double>(to_float(row[targets[r]]));
  }
}

}  // namespace

cudaError_t launch_embed(FloatType type, const EmbedArgs& args, cudaStream_t stream) {
  if (args.n_tokens == 0) return cudaSuccess;
  with_float_type(type, [&]<typename T>() { launch_kernel(embed_kernel<T>, args.n_tokens, kRowThreads, 0, stream, args); });
  return cudaGetLastError();
}

cudaError_t launch_residual_norm(FloatType type, const ResidualNormArgs& args, cudaStream_t stream) {
  if (args.rows == 0) return cudaSuccess;
  // Enough threads to hold the row in registers (kNormCached values each).
  const int threads = std::clamp(((args.n + kNormCached - 1) / kNormCached + 31) & ~31, kRowThreads, 1024);
  with_float_type(type, [&]<typename T>() { launch_kernel(residual_norm_kernel<T>, args.rows, threads, 0, stream, args); });
  return cudaGetLastError();
}

cudaError_t launch_split_qkv(FloatType type, const SplitQkvArgs& args, cudaStream_t stream) {
  if (args.rows == 0) return cudaSuccess;
  with_float_type(type, [&]<typename T>() { launch_kernel(split_qkv_kernel<T>, args.rows, kRowThreads, 0, stream, args); });
  return cudaGetLastError();
}

cudaError_t launch_rotate_and_store(FloatType type, const RotateStoreArgs& args, cudaStream_t stream) {
  if (args.rows == 0) return cudaSuccess;
  if (args.head_dim > kMaxHeadDim || 2 * args.rope_half > args.head_dim) return cudaErrorInvalidValue;
  const dim3 grid(args.rows, args.n_heads + args.n_kv_heads);
  with_float_type(type, [&]<typename T>() {
    with_float_type(args.kv_type, [&]<typename KV>() { launch_kernel(rotate_store_kernel<T, KV>, grid, GPTQ_WARP, 0, stream, args); });
  });
  return cudaGetLastError();
}

cudaError_t launch_activate(FloatType type, void* gate, int64_t ld_gate, const void* up, int64_t ld_up, int32_t rows,
                            int32_t n, Activation activation, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  const dim3 grid(blocks_for(n, kRowThreads), rows);
  with_float_type(type, [&]<typename T>() {
    launch_kernel(activate_kernel<T>, grid, kRowThreads, 0, stream, static_cast<T*>(gate), ld_gate, static_cast<const T*>(up),
                                                          ld_up, n, activation);
  });
  return cudaGetLastError();
}

cudaError_t launch_gather_rows(FloatType type, const void* x, int64_t ld_x, const int32_t* rows, int32_t n_rows,
                               int32_t n, void* out, int64_t ld_out, cudaStream_t stream) {
  if (n_rows == 0) return cudaSuccess;
  with_float_type(type, [&]<typename T>() {
    launch_kernel(gather_rows_kernel<T>, n_rows, kRowThreads, 0, stream, static_cast<const T*>(x), ld_x, rows, n,
                                                               static_cast<T*>(out), ld_out);
  });
  return cudaGetLastError();
}

cudaError_t launch_gather_columns(FloatType type, const void* x, int64_t ld_x, int32_t rows, const int32_t* source,
                                  int32_t n_in, int32_t n_out, void* out, int64_t ld_out, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  const dim3 grid(blocks_for(n_out, kRowThreads), rows);
  with_float_type(type, [&]<typename T>() {
    launch_kernel(gather_columns_kernel<T>, grid, kRowThreads, 0, stream, static_cast<const T*>(x), ld_x, source, n_in, n_out,
                                                                static_cast<T*>(out), ld_out);
  });
  return cudaGetLastError();
}

cudaError_t launch_to_float(FloatType type, const void* x, int64_t ld_x, int32_t rows, int32_t n, float* out,
                            cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  const dim3 grid(blocks_for(n, kRowThreads), rows);
  with_float_type(type, [&]<typename T>() {
    launch_kernel(to_float_kernel<T>, grid, kRowThreads, 0, stream, static_cast<const T*>(x), ld_x, n, out);
  });
  return cudaGetLastError();
}

cudaError_t launch_from_float(FloatType type, const float* x, int32_t rows, int32_t n, void* out, int64_t ld_out,
                              cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  const dim3 grid(blocks_for(n, kRowThreads), rows);
  with_float_type(type, [&]<typename T>() {
    launch_kernel(from_float_kernel<T>, grid, kRowThreads, 0, stream, x, n, static_cast<T*>(out), ld_out);
  });
  return cudaGetLastError();
}

cudaError_t launch_convert(FloatType from, const void* in, FloatType to, void* out, int64_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  const int blocks = static_cast<int>(std::min<int64_t>(4096, (n + kRowThreads - 1) / kRowThreads));
  with_float_type(from, [&]<typename From>() {
    with_float_type(to, [&]<typename To>() {
      launch_kernel(convert_kernel<From, To>, blocks, kRowThreads, 0, stream, static_cast<const From*>(in), static_cast<To*>(out), n);
    });
  });
  return cudaGetLastError();
}

cudaError_t launch_add_bias(FloatType type, void* y, int64_t ld_y, int32_t rows, int32_t n, const void* bias,
                            cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  const dim3 grid(blocks_for(n, kRowThreads), rows);
  with_float_type(type, [&]<typename T>() {
    launch_kernel(add_bias_kernel<T>, grid, kRowThreads, 0, stream, static_cast<T*>(y), ld_y, n, static_cast<const T*>(bias));
  });
  return cudaGetLastError();
}

cudaError_t launch_token_nll(FloatType type, const void* logits, int64_t ld, int32_t rows, int32_t vocab,
                             const int32_t* targets, double* out, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  with_float_type(type, [&]<typename T>() {
    launch_kernel(token_nll_kernel<T>, rows, kRowThreads, 0, stream, static_cast<const T*>(logits), ld, vocab, targets, out);
  });
  return cudaGetLastError();
}

}  // namespace gptq::gpu
