// Helpers for the kernel tests: every ISA variant as a test parameter,
// random data, and buffers that end at an unreadable page so a kernel that
// reads one element too far faults instead of passing by luck.
#pragma once

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <new>
#include <ostream>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"

namespace gptq::cpu {
// Names the ISA in gtest's messages instead of "4-byte object <...>".
inline void PrintTo(Isa isa, std::ostream* out) { *out << isa_name(isa); }
}  // namespace gptq::cpu

namespace gptq::test {

inline const cpu::Isa kAllIsas[] = {cpu::Isa::Scalar, cpu::Isa::Avx2, cpu::Isa::Avx512};

// For INSTANTIATE_TEST_SUITE_P(..., testing::ValuesIn(kAllIsas), IsaParamName).
inline std::string isa_param_name(const testing::TestParamInfo<cpu::Isa>& info) {
  return cpu::isa_name(info.param);
}

// Skips the test, saying why, when this CPU cannot run `isa`.
#define GPTQ_REQUIRE_ISA(isa)                                                               \
  do {                                                                                      \
    if (!::gptq::cpu::isa_supported(isa))                                                   \
      GTEST_SKIP() << "this CPU cannot run the " << ::gptq::cpu::isa_name(isa) << " kernels"; \
  } while (0)

// `bytes` of memory whose end is followed by a PROT_NONE page; the start is
// `bytes` before it (so any alignment the caller arranges by size).
class GuardedBuffer {
 public:
  explicit GuardedBuffer(size_t bytes) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t data_pages = (bytes + page - 1) / page;
    map_bytes_ = (data_pages + 1) * page;
    map_ = mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map_ == MAP_FAILED) throw std::bad_alloc();
    uint8_t* guard = static_cast<uint8_t*>(map_) + data_pages * page;
    if (mprotect(guard, page, PROT_NONE) != 0) throw std::bad_alloc();
    data_ = guard - bytes;
  }
  ~GuardedBuffer() { munmap(map_, map_bytes_); }
  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;
  uint8_t* data() const { return data_; }

 private:
  void* map_ = nullptr;
  size_t map_bytes_ = 0;
  uint8_t* data_ = nullptr;
};

// Uniform in [-1, 1).
inline std::vector<float> random_floats(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& f : v) f = dist(rng);
  return v;
}

}  // namespace gptq::test
