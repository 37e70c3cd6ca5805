// The GPU backend (CUDA, or HIP through kernels/cuda/portability.h): the
// ops of backend/backend.h over kernels/cuda and cuBLAS, on one stream per
// context, decode steps replayed as CUDA graphs.
#pragma once

#include <memory>

#include "backend/backend.h"
#include "backend/prepare.h"

namespace gptq::cuda {

std::unique_ptr<Backend> make_cuda_backend(DeviceId device, const BackendOptions& options);
std::unique_ptr<WeightPreparer> make_cuda_preparer(DeviceId device, FloatType compute);

}  // namespace gptq::cuda
