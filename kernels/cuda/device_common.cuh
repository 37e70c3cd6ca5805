// Device-side helpers every kernel file uses: conversions between the
// compute types and float, warp and block reductions, and the dispatch of a
// run-time FloatType onto a template parameter.
#pragma once

#include "core/dtype.h"
#include "kernels/cuda/portability.h"

namespace gptq::gpu {

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__half x) { return __half2float(x); }
__device__ __forceinline__ float to_float(gpu_bf16 x) {
#if GPTQ_GPU_HIP
  return static_cast<float>(x);
#else
  return __bfloat162float(x);
#endif
}

template <typename T>
__device__ __forceinline__ T from_float(float x);
template <>
__device__ __forceinline__ float from_float<float>(float x) {
  return x;
}
template <>
__device__ __forceinline__ __half from_float<__half>(float x) {
  return __float2half_rn(x);
}
template <>
__device__ __forceinline__ gpu_bf16 from_float<gpu_bf16>(float x) {
#if GPTQ_GPU_HIP
  return gpu_bf16(x);
#else
  return __float2bfloat16_rn(x);
#endif
}

__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset, GPTQ_WARP);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset, GPTQ_WARP));
  return v;
}

// The sum over the block (blockDim.x a multiple of 32, at most 1024) for
// every thread; `scratch` holds 32 floats. Ends with the block in step.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  const int lane = threadIdx.x % GPTQ_WARP, warp = threadIdx.x / GPTQ_WARP;
  const int n_warps = blockDim.x / GPTQ_WARP;
  v = warp_sum(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < n_warps ? scratch[lane] : 0.0f;
  return warp_sum(v);
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
  const int lane = threadIdx.x % GPTQ_WARP, warp = threadIdx.x / GPTQ_WARP;
  const int n_warps = blockDim.x / GPTQ_WARP;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < n_warps ? scratch[lane] : -INFINITY;
  return warp_max(v);
}

// Calls f.template operator()<T>() with T the device type of `type`.
template <typename F>
void with_float_type(FloatType type, F&& f) {
  switch (type) {
    case FloatType::F32: f.template operator()<float>(); break;
    case FloatType::F16: f.template operator()<__half>(); break;
    case FloatType::BF16: f.template operator()<gpu_bf16>(); break;
  }
}

inline int blocks_for(int64_t n, int threads) { return static_cast<int>((n + threads - 1) / threads); }

}  // namespace gptq::gpu
