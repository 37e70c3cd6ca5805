// GPTQ on a GPU: the calibration pass through the GPU backend, Hessians
// summed with cuBLAS (fp32 accumulation, no TF32), their factorisation with
// cuSOLVER in fp64, and the column loop, group statistics, dequantization
// and packing in kernels/cuda/gptq_solve.cu. The quantized integers equal
// the CPU's (quant/cpu_gptq_device.cpp) but where the two sum in different
// orders and a value lands on the other side of a rounding boundary.
#pragma once

#include <memory>

#include "quant/gptq_device.h"

namespace gptq::cuda {

std::unique_ptr<GptqDevice> make_gpu_gptq_device(DeviceId device, ThreadPool& pool, const Model& model,
                                                 int32_t max_tokens, const GptqDeviceOptions& options);

}  // namespace gptq::cuda
