// y = x . W^T (+ bias) for dense weights on the device, with CUDA cores:
// the float GEMM of builds without a vendor BLAS (HIP on Debian, which has
// no hipBLAS) and the reference the tests check cuBLAS calls against.
//
// Layout: x [M][K] (ld_x), W [N][K] (ld_w), y [M][N] (ld_y), bias [N] or
// null, all in the compute type; fp32 accumulation. 64 x 64 output tiles,
// 16-deep K slices staged in shared memory, 4 x 4 outputs per thread.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "kernels/cuda/portability.h"

namespace gptq::gpu {

struct DenseGemmArgs {
  const void* x = nullptr;
  int64_t ld_x = 0;
  const void* w = nullptr;
  int64_t ld_w = 0;
  void* y = nullptr;
  int64_t ld_y = 0;
  const void* bias = nullptr;
  int32_t m = 0, n = 0, k = 0;
};

cudaError_t launch_dense_gemm(FloatType type, const DenseGemmArgs& args, cudaStream_t stream);

}  // namespace gptq::gpu
