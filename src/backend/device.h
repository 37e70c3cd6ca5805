// The devices a model's parts can live on, how users name them, and what
// this build and machine offer. HIP builds name AMD GPUs "cuda" too, as
// PyTorch's ROCm builds do, so programs need not know which vendor runs them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gptq {

enum class DeviceKind : uint8_t { Cpu, Gpu };

struct DeviceId {
  DeviceKind kind = DeviceKind::Cpu;
  int32_t index = 0;  // GPU ordinal; 0 for the CPU

  bool is_gpu() const { return kind == DeviceKind::Gpu; }
  bool operator==(const DeviceId&) const = default;
};

constexpr DeviceId kCpu{};

// "cpu", "cuda:0".
std::string device_name(DeviceId device);

// Parses a device string: "cpu" (or ""), "cuda" (the first GPU), "cuda:N",
// "auto" (the first GPU when one is usable, else the CPU). A GPU that is
// not there fails with GPTQ_ERR_UNSUPPORTED and the reason (a build without
// GPU support, no driver, no device, an index out of range, a GPU too old
// for the kernels); a spelling that names no device fails with
// GPTQ_ERR_INVALID_ARGUMENT.
DeviceId resolve_device(std::string_view spec);

// The instruction set the CPU kernels run with on this machine
// ("avx512", "avx2" or "scalar"), for capability queries.
struct CpuKernels {
  const char* isa = "scalar";
  bool avx2 = false;
  bool avx512 = false;
};
CpuKernels cpu_kernels();

// What the GPU runtime of this build reports (src/backend/cuda, or
// src/backend/no_gpu.cpp in a build without one).
namespace gpu {
// "cuda", "hip" or "" (no GPU support compiled in).
const char* runtime_name();
// GPUs this build can use: 0 without GPU support, a driver or a device.
int device_count();
// "NVIDIA H200, sm_90, 139.8 GiB"; "" for an index out of range.
std::string device_description(int index);
// Why device_count() is 0 ("this build has no GPU support", the driver's
// error, "no GPU found"), or "" when it is not.
std::string unavailable_reason();
// Why device `index` cannot run the kernels (too old), or "" when it can.
std::string unsupported_reason(int index);
// Free and total memory of device `index`; false when it cannot say.
bool memory(int index, int64_t* free_bytes, int64_t* total_bytes);
}  // namespace gpu

}  // namespace gptq
