// The GPU runtime as the backend uses it: status checks that turn runtime
// errors into gptq::Error (GPTQ_ERR_DEVICE; GPTQ_ERR_OUT_OF_MEMORY naming
// the bytes asked and free), device and pinned host memory that frees
// itself, and the current-device guard every entry point takes.
#pragma once

#include <cstddef>

#include "backend/device.h"
#include "kernels/cuda/portability.h"

namespace gptq::cuda {

// Throws when `status` is an error: `what` says which call, for the message.
void check(cudaError_t status, const char* what);

// Makes `device` current on this thread for the guard's lifetime.
class DeviceScope {
 public:
  explicit DeviceScope(DeviceId device);
  ~DeviceScope();
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_ = -1;
};

// Device memory of one GPU, freed on destruction.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  // `what` names the allocation in an out-of-memory message; zeroed on request.
  DeviceBuffer(DeviceId device, size_t bytes, const char* what, bool zeroed = false);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* get() const { return data_; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(data_);
  }
  size_t bytes() const { return bytes_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

// Page-locked host memory (fast, asynchronous copies), freed on destruction.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(size_t bytes);
  ~PinnedBuffer();
  PinnedBuffer(PinnedBuffer&& other) noexcept;
  PinnedBuffer& operator=(PinnedBuffer&& other) noexcept;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;

  void* get() const { return data_; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(data_);
  }
  size_t bytes() const { return bytes_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

// Multiprocessors of the device (sizes the kernels' grids).
int multiprocessor_count(DeviceId device);

}  // namespace gptq::cuda
