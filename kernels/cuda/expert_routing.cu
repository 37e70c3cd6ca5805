// The routed MLP's kernels (expert_routing.h). Routing is a few scores per
// token: one block per expert recomputes each token's choice (E times the
// arithmetic of one pass, which is nothing next to the experts' GEMMs) and
// so builds its own list in batch order with a block-wide prefix sum, with
// no atomics and no second pass.
#include <cfloat>

#include "kernels/cuda/device_common.cuh"
#include "kernels/cuda/expert_routing.h"
#include "kernels/cuda/launch.cuh"

namespace gptq::gpu {
namespace {

constexpr int kRouteThreads = 256;
constexpr int kRowThreads = 256;

// Whether (s, e) comes after (prev_s, prev_e) in the top-k order:
// decreasing score, ties to the lower index.
__device__ __forceinline__ bool ranks_after(float s, int e, float prev_s, int prev_e) {
  return s < prev_s || (s == prev_s && e > prev_e);
}

// `expert`'s renormalised weight for one token's scores, or -1 when the
// token's top_k does not hold it.
template <typename T>
__device__ float routed_weight(const T* scores, int n, int top_k, int expert) {
  float max = -FLT_MAX;
  for (int e = 0; e < n; ++e) max = fmaxf(max, to_float(scores[e]));
  float total = 0;
  for (int e = 0; e < n; ++e) total += expf(to_float(scores[e]) - max);
  float prev_s = FLT_MAX, chosen_total = 0, mine = -1;
  int prev_e = -1;
  for (int k = 0; k < top_k; ++k) {
    int best = -1;
    float best_s = 0;
    for (int e = 0; e < n; ++e) {
      const float s = to_float(scores[e]);
      if (!ranks_after(s, e, prev_s, prev_e)) continue;
      if (best < 0 || s > best_s) best = e, best_s = s;
    }
    if (best < 0) break;
    const float p = expf(best_s - max) / total;
    chosen_total += p;
    if (best == expert) mine = p;
    prev_s = best_s;
    prev_e = best;
  }
  return mine < 0 ? -1.0f : mine / chosen_total;
}

template <typename T>
__global__ void route_experts_kernel(RouteArgs a) {
  begin_dependent_kernel();
  const int expert = blockIdx.x;
  __shared__ int prefix[kRouteThreads];
  int base = 0;
  for (int start = 0; start < a.rows; start += kRouteThreads) {
    const int t = start + threadIdx.x;
    float w = -1;
    if (t < a.rows) {
      w = routed_weight(static_cast<const T*>(a.scores) + t * a.ld_scores, a.n_experts, a.top_k, expert);
      if (a.every_expert && w < 0) w = 0;
    }
    const int taken = w >= 0 ? 1 : 0;
    prefix[threadIdx.x] = taken;
    __syncthreads();
    for (int offset = 1; offset < kRouteThreads; offset *= 2) {
      const int add = threadIdx.x >= offset ? prefix[threadIdx.x - offset] : 0;
      __syncthreads();
      prefix[threadIdx.x] += add;
      __syncthreads();
    }
    if (taken) {
      const int64_t slot = expert * a.capacity + base + prefix[threadIdx.x] - 1;
      a.route_rows[slot] = t;
      a.route_weights[slot] = w;
    }
    base += prefix[kRouteThreads - 1];
    __syncthreads();  // prefix is rewritten by the next chunk
  }
  if (threadIdx.x == 0) a.counts[expert] = base;
  // Every expert's block clears its share of the output rows.
  T* out = static_cast<T*>(a.out);
  for (int r = expert; r < a.rows; r += a.n_experts) {
    for (int c = threadIdx.x; c < a.out_cols; c += blockDim.x) out[r * a.ld_out + c] = from_float<T>(0.0f);
  }
}

template <typename T>
__global__ void gather_expert_rows_kernel(const T* x, int64_t ld_x, const int32_t* counts, const int32_t* rows,
                                          int64_t capacity, int32_t expert, int32_t cols, T* out, int64_t ld_out) {
  begin_dependent_kernel();
  const int i = blockIdx.x;
  T* dst = out + i * ld_out;
  if (i >= counts[expert]) {
    for (int c = threadIdx.x; c < cols; c += blockDim.x) dst[c] = from_float<T>(0.0f);
    return;
  }
  const T* src = x + int64_t{rows[expert * capacity + i]} * ld_x;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) dst[c] = src[c];
}

template <typename T>
__global__ void add_expert_rows_kernel(const T* y, int64_t ld_y, const int32_t* counts, const int32_t* rows,
                                       const float* weights, int64_t capacity, int32_t expert, int32_t cols, T* out,
                                       int64_t ld_out) {
  begin_dependent_kernel();
  const int i = blockIdx.x;
  if (i >= counts[expert]) return;
  const float w = weights[expert * capacity + i];
  T* dst = out + int64_t{rows[expert * capacity + i]} * ld_out;
  const T* src = y + i * ld_y;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) dst[c] = from_float<T>(to_float(dst[c]) + w * to_float(src[c]));
}

}  // namespace

cudaError_t launch_route_experts(FloatType type, const RouteArgs& args, cudaStream_t stream) {
  if (args.rows == 0) return cudaSuccess;
  with_float_type(type, [&]<typename T>() {
    launch_kernel(route_experts_kernel<T>, args.n_experts, kRouteThreads, 0, stream, args);
  });
  return cudaGetLastError();
}

cudaError_t launch_gather_expert_rows(FloatType type, const void* x, int64_t ld_x, const int32_t* counts,
                                      const int32_t* route_rows, int64_t capacity, int32_t expert, int32_t bound,
                                      int32_t cols, void* out, int64_t ld_out, cudaStream_t stream) {
  if (bound == 0) return cudaSuccess;
  with_float_type(type, [&]<typename T>() {
    launch_kernel(gather_expert_rows_kernel<T>, bound, kRowThreads, 0, stream, static_cast<const T*>(x), ld_x, counts,
                  route_rows, capacity, expert, cols, static_cast<T*>(out), ld_out);
  });
  return cudaGetLastError();
}

cudaError_t launch_add_expert_rows(FloatType type, const void* y, int64_t ld_y, const int32_t* counts,
                                   const int32_t* route_rows, const float* route_weights, int64_t capacity,
                                   int32_t expert, int32_t bound, int32_t cols, void* out, int64_t ld_out,
                                   cudaStream_t stream) {
  if (bound == 0) return cudaSuccess;
  with_float_type(type, [&]<typename T>() {
    launch_kernel(add_expert_rows_kernel<T>, bound, kRowThreads, 0, stream, static_cast<const T*>(y), ld_y, counts,
                  route_rows, route_weights, capacity, expert, cols, static_cast<T*>(out), ld_out);
  });
  return cudaGetLastError();
}

}  // namespace gptq::gpu
