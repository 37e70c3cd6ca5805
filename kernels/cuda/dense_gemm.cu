#include "kernels/cuda/dense_gemm.h"

#include "kernels/cuda/device_common.cuh"
#include "kernels/cuda/launch.cuh"

namespace gptq::gpu {
namespace {

constexpr int kTile = 64, kSlice = 16, kThreads = 256;

template <typename T>
__global__ void __launch_bounds__(kThreads) dense_gemm_kernel(const DenseGemmArgs a) {
  begin_dependent_kernel();
  __shared__ float xs[kSlice][kTile + 1];
  __shared__ float ws[kSlice][kTile + 1];
  const T* x = static_cast<const T*>(a.x);
  const T* w = static_cast<const T*>(a.w);
  const int m0 = blockIdx.y * kTile, n0 = blockIdx.x * kTile;
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  float acc[4][4] = {};
  for (int k0 = 0; k0 < a.k; k0 += kSlice) {
    for (int e = threadIdx.x; e < kSlice * kTile; e += kThreads) {
      const int row = e / kSlice, kk = e % kSlice;
      const int k = k0 + kk;
      xs[kk][row] = m0 + row < a.m && k < a.k ? to_float(x[(m0 + row) * a.ld_x + k]) : 0.0f;
      ws[kk][row] = n0 + row < a.n && k < a.k ? to_float(w[(n0 + row) * a.ld_w + k]) : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kSlice; ++kk) {
      float xv[4], wv[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        xv[i] = xs[kk][ty + 16 * i];
        wv[i] = ws[kk][tx + 16 * i];
      }
#pragma unroll
      for (int i = 0; i < 4; ++i) {
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] += xv[i] * wv[j];
      }
    }
    __syncthreads();
  }
  const T* bias = static_cast<const T*>(a.bias);
  T* y = static_cast<T*>(a.y);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int m = m0 + ty + 16 * i;
    if (m >= a.m) continue;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int n = n0 + tx + 16 * j;
      if (n >= a.n) continue;
      float v = acc[i][j];
      if (bias != nullptr) v += to_float(bias[n]);
      y[m * a.ld_y + n] = from_float<T>(v);
    }
  }
}

}  // namespace

cudaError_t launch_dense_gemm(FloatType type, const DenseGemmArgs& a, cudaStream_t stream) {
  if (a.m == 0 || a.n == 0) return cudaSuccess;
  const dim3 grid(blocks_for(a.n, kTile), blocks_for(a.m, kTile));
  with_float_type(type, [&]<typename T>() { launch_kernel(dense_gemm_kernel<T>, grid, kThreads, 0, stream, a); });
  return cudaGetLastError();
}

}  // namespace gptq::gpu
