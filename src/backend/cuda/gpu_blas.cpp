#include "backend/cuda/gpu_blas.h"

#include "core/error.h"
#include "kernels/cuda/dense_gemm.h"
#include "kernels/cuda/elementwise.h"

#if GPTQ_WITH_CUBLAS
#include "backend/cuda/cublas_util.h"
#endif

namespace gptq::cuda {
namespace {

constexpr size_t kWorkspaceBytes = size_t{32} << 20;

#if GPTQ_WITH_CUBLAS
// fp32 inputs: no TF32 (parity runs compare against fp32 references).
cublasComputeType_t compute_type(FloatType type) {
  return type == FloatType::F32 ? CUBLAS_COMPUTE_32F_PEDANTIC : CUBLAS_COMPUTE_32F;
}
#endif

}  // namespace

#if GPTQ_WITH_CUBLAS
void check_blas(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    fail(status == CUBLAS_STATUS_ALLOC_FAILED ? GPTQ_ERR_OUT_OF_MEMORY : GPTQ_ERR_DEVICE, what,
         " failed: cuBLAS status ", static_cast<int>(status), " (", cublasGetStatusString(status), ")");
  }
}

cudaDataType_t blas_data_type(FloatType type) {
  switch (type) {
    case FloatType::F32: return CUDA_R_32F;
    case FloatType::F16: return CUDA_R_16F;
    case FloatType::BF16: return CUDA_R_16BF;
  }
  return CUDA_R_32F;
}
#endif

DenseGemm::DenseGemm(DeviceId device, cudaStream_t stream, FloatType type)
    : device_(device), stream_(stream), type_(type) {
#if GPTQ_WITH_CUBLAS
  cublasHandle_t handle = nullptr;
  check_blas(cublasCreate(&handle), "cublasCreate");
  handle_ = handle;
  check_blas(cublasSetStream(handle, stream), "cublasSetStream");
  workspace_ = DeviceBuffer(device, kWorkspaceBytes, "the cuBLAS workspace");
  check_blas(cublasSetWorkspace(handle, workspace_.get(), kWorkspaceBytes), "cublasSetWorkspace");
#endif
}

DenseGemm::~DenseGemm() {
#if GPTQ_WITH_CUBLAS
  if (handle_ != nullptr) (void)cublasDestroy(static_cast<cublasHandle_t>(handle_));
#endif
}

bool DenseGemm::has_vendor_blas() const { return handle_ != nullptr; }

void DenseGemm::multiply_transposed(const void* x, int64_t ld_x, int32_t m, const void* w, int64_t ld_w, int32_t n,
                                    int32_t k, void* y, int64_t ld_y, const void* bias) {
  if (m == 0) return;
#if GPTQ_WITH_CUBLAS
  // Row-major y = x W^T is column-major y^T = W x^T, with W read as its transpose.
  const float alpha = 1.0f, beta = 0.0f;
  const cudaDataType_t t = blas_data_type(type_);
  check_blas(cublasGemmEx(static_cast<cublasHandle_t>(handle_), CUBLAS_OP_T, CUBLAS_OP_N, n, m, k, &alpha, w, t,
                          static_cast<int>(ld_w), x, t, static_cast<int>(ld_x), &beta, y, t, static_cast<int>(ld_y),
                          compute_type(type_), CUBLAS_GEMM_DEFAULT),
             "cublasGemmEx");
  if (bias != nullptr) check(gpu::launch_add_bias(type_, y, ld_y, m, n, bias, stream_), "adding a bias");
#else
  gpu::DenseGemmArgs args;
  args.x = x;
  args.ld_x = ld_x;
  args.w = w;
  args.ld_w = ld_w;
  args.y = y;
  args.ld_y = ld_y;
  args.bias = bias;
  args.m = m;
  args.n = n;
  args.k = k;
  check(gpu::launch_dense_gemm(type_, args, stream_), "a dense GEMM");
#endif
}

void DenseGemm::multiply(const void* x, int64_t ld_x, int32_t m, const void* b, int64_t ld_b, int32_t n, int32_t k,
                         void* y, int64_t ld_y) {
  if (m == 0) return;
#if GPTQ_WITH_CUBLAS
  const float alpha = 1.0f, beta = 0.0f;
  const cudaDataType_t t = blas_data_type(type_);
  check_blas(cublasGemmEx(static_cast<cublasHandle_t>(handle_), CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &alpha, b, t,
                          static_cast<int>(ld_b), x, t, static_cast<int>(ld_x), &beta, y, t, static_cast<int>(ld_y),
                          compute_type(type_), CUBLAS_GEMM_DEFAULT),
             "cublasGemmEx");
#else
  fail(GPTQ_ERR_INTERNAL, "a [k][n] GEMM without a vendor BLAS");
#endif
}

}  // namespace gptq::cuda
