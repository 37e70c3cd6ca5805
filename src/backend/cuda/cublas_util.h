// cuBLAS status checks and type codes, for the files that call cuBLAS
// (backend/cuda/gpu_blas.cpp, quant/cuda); CUDA builds only.
#pragma once

#include <cublas_v2.h>

#include "core/dtype.h"

namespace gptq::cuda {

// Throws on an error status (GPTQ_ERR_OUT_OF_MEMORY for a failed allocation).
void check_blas(cublasStatus_t status, const char* what);

cudaDataType_t blas_data_type(FloatType type);

}  // namespace gptq::cuda
