// Which backend kind serves a device.
#include "backend/cpu/cpu_backend.h"
#include "core/error.h"
#if GPTQ_WITH_GPU
#include "backend/cuda/cuda_backend.h"
#endif

namespace gptq {
namespace {

#if !GPTQ_WITH_GPU
[[noreturn]] void no_gpu_support(DeviceId device) {
  fail(GPTQ_ERR_UNSUPPORTED, "device '", device_name(device), "': ", gpu::unavailable_reason());
}
#endif

}  // namespace

std::unique_ptr<Backend> make_backend(DeviceId device, const BackendOptions& options) {
  if (!device.is_gpu()) {
    if (options.pool == nullptr) fail(GPTQ_ERR_INTERNAL, "the CPU backend needs a thread pool");
    return cpu::make_cpu_backend(*options.pool);
  }
#if GPTQ_WITH_GPU
  return cuda::make_cuda_backend(device, options);
#else
  no_gpu_support(device);
#endif
}

std::unique_ptr<WeightPreparer> make_preparer(DeviceId device, FloatType gpu_compute) {
  if (!device.is_gpu()) return cpu::make_cpu_preparer();
#if GPTQ_WITH_GPU
  return cuda::make_cuda_preparer(device, gpu_compute);
#else
  no_gpu_support(device);
#endif
}

}  // namespace gptq
