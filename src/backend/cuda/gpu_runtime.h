// The GPU runtime as the backend uses it: status checks that turn runtime
// errors into gptq::Error (GPTQ_ERR_DEVICE; GPTQ_ERR_OUT_OF_MEMORY naming
// the bytes asked and free), device and pinned host memory that frees
// itself, and the current-device guard every entry point takes.
#pragma once

#include <cstddef>
#include <utility>

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

// Memory released by `Release` on destruction; moves, never copies.
template <void (*Release)(void*)>
class OwnedMemory {
 public:
  OwnedMemory() = default;
  ~OwnedMemory() {
    if (data_ != nullptr) Release(data_);
  }
  OwnedMemory(OwnedMemory&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
  OwnedMemory& operator=(OwnedMemory&& other) noexcept {
    if (this != &other) {
      if (data_ != nullptr) Release(data_);
      data_ = std::exchange(other.data_, nullptr);
      bytes_ = std::exchange(other.bytes_, 0);
    }
    return *this;
  }
  OwnedMemory(const OwnedMemory&) = delete;
  OwnedMemory& operator=(const OwnedMemory&) = delete;

  void* get() const { return data_; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(data_);
  }
  size_t bytes() const { return bytes_; }

 protected:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

void release_device_memory(void* data);
void release_pinned_memory(void* data);

// Device memory of one GPU.
class DeviceBuffer : public OwnedMemory<release_device_memory> {
 public:
  DeviceBuffer() = default;
  // `what` names the allocation in an out-of-memory message; zeroed on request.
  DeviceBuffer(DeviceId device, size_t bytes, const char* what, bool zeroed = false);
};

// Page-locked host memory (fast, asynchronous copies).
class PinnedBuffer : public OwnedMemory<release_pinned_memory> {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(size_t bytes);
};

// Multiprocessors of the device (sizes the kernels' grids).
int multiprocessor_count(DeviceId device);

}  // namespace gptq::cuda
