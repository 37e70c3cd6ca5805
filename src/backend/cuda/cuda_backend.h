// The GPU backend (CUDA, or HIP through kernels/cuda/portability.h): the
// ops of backend/backend.h over kernels/cuda and cuBLAS, on one stream per
// context, decode steps replayed as CUDA graphs.
#pragma once

#include <memory>

#include "backend/backend.h"
#include "backend/prepare.h"
#include "kernels/cuda/portability.h"

namespace gptq::cuda {

std::unique_ptr<Backend> make_cuda_backend(DeviceId device, const BackendOptions& options);
std::unique_ptr<WeightPreparer> make_cuda_preparer(DeviceId device, FloatType compute);

// The stream a GPU backend enqueues its ops on, for work that must run in
// order with them (the quantizer's Hessians read the layer's activations).
cudaStream_t backend_stream(const Backend& backend);

}  // namespace gptq::cuda
