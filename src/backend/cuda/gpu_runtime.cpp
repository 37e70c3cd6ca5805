#include "backend/cuda/gpu_runtime.h"

#include <cstdio>
#include <utility>

#include "core/error.h"

namespace gptq {

// The device queries of backend/device.h, for a build with a GPU runtime.
namespace gpu {

const char* runtime_name() {
#if GPTQ_GPU_HIP
  return "hip";
#else
  return "cuda";
#endif
}

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the error: it is an answer here, not a fault
    return 0;
  }
  return n;
}

std::string device_description(int index) {
  cudaDeviceProp p;
  if (index < 0 || index >= device_count() || cudaGetDeviceProperties(&p, index) != cudaSuccess) return "";
  char memory[32];
  std::snprintf(memory, sizeof memory, "%.1f GiB", static_cast<double>(p.totalGlobalMem) / (1 << 30));
#if GPTQ_GPU_HIP
  return str_cat(p.name, ", ", p.gcnArchName, ", ", memory);
#else
  return str_cat(p.name, ", sm_", p.major, p.minor, ", ", memory);
#endif
}

std::string unavailable_reason() {
  int n = 0;
  const cudaError_t status = cudaGetDeviceCount(&n);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();
    return str_cat("no usable ", runtime_name(), " driver or GPU (", cudaGetErrorName(status), ": ",
                   cudaGetErrorString(status), ")");
  }
  return n == 0 ? "no GPU found" : "";
}

std::string unsupported_reason(int index) {
#if GPTQ_GPU_HIP
  return "";
#else
  cudaDeviceProp p;
  if (cudaGetDeviceProperties(&p, index) != cudaSuccess) return "its properties cannot be read";
  if (p.major < 8) {
    return str_cat(p.name, " has compute capability ", p.major, ".", p.minor,
                   "; libgptq's GPU kernels need 8.0 (Ampere) or newer");
  }
  return "";
#endif
}

bool memory(int index, int64_t* free_bytes, int64_t* total_bytes) {
  int previous = -1;
  if (cudaGetDevice(&previous) != cudaSuccess || cudaSetDevice(index) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  size_t f = 0, t = 0;
  const bool ok = cudaMemGetInfo(&f, &t) == cudaSuccess;
  (void)cudaGetLastError();
  (void)cudaSetDevice(previous);
  *free_bytes = static_cast<int64_t>(f);
  *total_bytes = static_cast<int64_t>(t);
  return ok;
}

}  // namespace gpu

namespace cuda {

void check(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  (void)cudaGetLastError();
  if (status == cudaErrorMemoryAllocation) {
    fail(GPTQ_ERR_OUT_OF_MEMORY, what, ": the GPU is out of memory (", cudaGetErrorString(status), ")");
  }
  fail(GPTQ_ERR_DEVICE, what, " failed on the GPU: ", cudaGetErrorName(status), ": ", cudaGetErrorString(status));
}

DeviceScope::DeviceScope(DeviceId device) {
  check(cudaGetDevice(&previous_), "cudaGetDevice");
  if (previous_ != device.index) check(cudaSetDevice(device.index), "cudaSetDevice");
}

DeviceScope::~DeviceScope() {
  int current = -1;
  if (cudaGetDevice(&current) == cudaSuccess && current != previous_) (void)cudaSetDevice(previous_);
}

void release_device_memory(void* data) { (void)cudaFree(data); }
void release_pinned_memory(void* data) { (void)cudaFreeHost(data); }

DeviceBuffer::DeviceBuffer(DeviceId device, size_t bytes, const char* what, bool zeroed) {
  bytes_ = bytes;
  if (bytes == 0) return;
  DeviceScope scope(device);
  const cudaError_t status = cudaMalloc(&data_, bytes);
  if (status != cudaSuccess) {
    data_ = nullptr;
    (void)cudaGetLastError();
    size_t free_bytes = 0, total = 0;
    (void)cudaMemGetInfo(&free_bytes, &total);
    fail(GPTQ_ERR_OUT_OF_MEMORY, "cannot allocate ", bytes, " bytes (", bytes >> 20, " MiB) for ", what, " on ",
         device_name(device), ": ", free_bytes, " bytes (", free_bytes >> 20, " MiB) free of ", total >> 20, " MiB");
  }
  if (zeroed) check(cudaMemset(data_, 0, bytes), "cudaMemset");
}

PinnedBuffer::PinnedBuffer(size_t bytes) {
  bytes_ = bytes;
  if (bytes == 0) return;
  const cudaError_t status = cudaMallocHost(&data_, bytes);
  if (status != cudaSuccess) {
    data_ = nullptr;
    (void)cudaGetLastError();
    fail(GPTQ_ERR_OUT_OF_MEMORY, "cannot allocate ", bytes >> 20, " MiB of pinned host memory (",
         cudaGetErrorString(status), ")");
  }
}

int multiprocessor_count(DeviceId device) {
  cudaDeviceProp p;
  check(cudaGetDeviceProperties(&p, device.index), "cudaGetDeviceProperties");
  return p.multiProcessorCount;
}

}  // namespace cuda
}  // namespace gptq
