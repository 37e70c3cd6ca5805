// Portable "vector" traits of one fp32 lane, for CPUs without AVX2 (and for
// GPTQ_CPU_ISA=scalar). The kernel templates are written against this
// interface, so the scalar build runs the same blocking and tiling as the
// vector ones, only narrower: a 4x4 register tile of plain floats, which the
// compiler keeps in the 16 baseline SSE registers.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/half.h"
#include "kernels/cpu/cpu_kernels.h"

namespace gptq::cpu {
namespace {  // internal linkage: see kernel_set.h

struct Scalar {
  using vec = float;
  using mask = bool;
  static constexpr int W = 1;
  static constexpr int kMR = 4;
  static constexpr int kNV = 4;
  static constexpr int kGemvRows = 4;

  static vec zero() { return 0.0f; }
  static vec set1(float f) { return f; }
  static vec load(const float* p) { return *p; }
  static void store(float* p, vec v) { *p = v; }
  static mask make_mask(int n) { return n > 0; }
  static mask range_mask(int lo, int hi) { return lo <= 0 && hi > 0; }
  static vec where(mask m, vec v, vec otherwise) { return m ? v : otherwise; }
  static vec load_part(const float* p, int n) { return n > 0 ? *p : 0.0f; }
  static void store_part(float* p, vec v, int n) {
    if (n > 0) *p = v;
  }
  static void store_lanes(float* p, vec v, mask m) {
    if (m) *p = v;
  }
  static vec fmadd(vec a, vec b, vec c) { return a * b + c; }
  static vec add(vec a, vec b) { return a + b; }
  static vec mul(vec a, vec b) { return a * b; }
  static vec max(vec a, vec b) { return a > b ? a : b; }
  static float reduce_add(vec v) { return v; }
  static float reduce_max(vec v) { return v; }

  template <FloatType T>
  static vec load_weights(const void* p) {
    if constexpr (T == FloatType::F32) {
      float f;
      std::memcpy(&f, p, sizeof f);
      return f;
    } else {
      uint16_t h;
      std::memcpy(&h, p, sizeof h);
      return T == FloatType::F16 ? fp16_to_float(h) : bf16_to_float(h);
    }
  }
  template <FloatType T>
  static vec load_weights(const void* p, int n) {
    return n > 0 ? load_weights<T>(p) : 0.0f;
  }

  // 32-bit integer lanes, for unpacking GPTQ words (see gptq_layout.h).
  using ivec = uint32_t;
  static ivec load_words(const uint32_t* p) { return *p; }
  static ivec set1_int(uint32_t v) { return v; }
  template <int S>
  static ivec shift_right(ivec v) { return v >> S; }
  static ivec bit_and(ivec a, ivec b) { return a & b; }
  static ivec bit_or(ivec a, ivec b) { return a | b; }
  static vec int_to_float(ivec v) { return static_cast<float>(static_cast<int32_t>(v)); }

  static vec min(vec a, vec b) { return a < b ? a : b; }
  static vec round(vec v) { return std::nearbyint(v); }
  static vec ldexp(vec v, vec n) { return std::ldexp(v, static_cast<int>(n)); }
  static void transpose(vec*) {}
};

}  // namespace
}  // namespace gptq::cpu
