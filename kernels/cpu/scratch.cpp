// Per-thread scratch buffers for the drivers (see drivers.h).
#include <cstdlib>
#include <memory>
#include <new>

#include "kernels/cpu/drivers.h"

namespace gptq::cpu {
namespace {

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};

struct Buffer {
  std::unique_ptr<float, FreeDeleter> data;
  int64_t capacity = 0;
};

constexpr int kSlots = 3;
thread_local Buffer t_buffers[kSlots];

}  // namespace

float* thread_scratch(ScratchSlot slot, int64_t n) {
  Buffer& buffer = t_buffers[static_cast<int>(slot)];
  if (n > buffer.capacity) {
    // Grow geometrically so a slowly rising need does not reallocate often.
    const int64_t capacity = n > 2 * buffer.capacity ? n : 2 * buffer.capacity;
    const size_t bytes = (static_cast<size_t>(capacity) * sizeof(float) + 63) / 64 * 64;
    float* fresh = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (fresh == nullptr) throw std::bad_alloc();
    buffer.data.reset(fresh);
    buffer.capacity = capacity;
  }
  return buffer.data.get();
}

}  // namespace gptq::cpu
