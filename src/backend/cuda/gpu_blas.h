// Float GEMMs of the GPU backend: cuBLAS on NVIDIA (fp32 accumulation, no
// TF32 for fp32 parity runs, a fixed workspace so steps can be captured as
// graphs); on AMD the library's own kernel (kernels/cuda/dense_gemm.h),
// since Debian packages no hipBLAS.
#pragma once

#include <cstdint>

#include "backend/cuda/gpu_runtime.h"
#include "core/dtype.h"

namespace gptq::cuda {

class DenseGemm {
 public:
  DenseGemm(DeviceId device, cudaStream_t stream, FloatType type);
  ~DenseGemm();
  DenseGemm(const DenseGemm&) = delete;
  DenseGemm& operator=(const DenseGemm&) = delete;

  // y[m][n] = x[m][k] . W^T (+ bias) for W [n][k] row-major.
  void multiply_transposed(const void* x, int64_t ld_x, int32_t m, const void* w, int64_t ld_w, int32_t n, int32_t k,
                           void* y, int64_t ld_y, const void* bias);
  // y[m][n] = x[m][k] . B for B [k][n] row-major (no bias).
  void multiply(const void* x, int64_t ld_x, int32_t m, const void* b, int64_t ld_b, int32_t n, int32_t k, void* y,
                int64_t ld_y);
  // Whether multiply() is available (a vendor BLAS is).
  bool has_vendor_blas() const;

 private:
  DeviceId device_;
  cudaStream_t stream_;
  FloatType type_;
  void* handle_ = nullptr;
  DeviceBuffer workspace_;
};

}  // namespace gptq::cuda
