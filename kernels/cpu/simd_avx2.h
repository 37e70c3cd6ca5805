// Vector traits for AVX2 + FMA + F16C: 8 fp32 lanes per vector, 16 vector
// registers.
//
// Included only by *_avx2.cpp files (see simd_avx512.h for why the traits
// are a type the kernels are instantiated on).
//
// Register tile of the GEMM microkernel: 6 rows x 2 vectors (16 columns) =
// 12 accumulators + 2 B vectors + 1 broadcast = 15 of the 16 registers.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/cpu/cpu_kernels.h"

namespace gptq::cpu {
namespace {  // internal linkage: see kernel_set.h

struct Avx2 {
  using vec = __m256;
  using mask = __m256i;
  static constexpr int W = 8;
  static constexpr int kMR = 6;
  static constexpr int kNV = 2;
  static constexpr int kGemvRows = 4;

  static vec zero() { return _mm256_setzero_ps(); }
  static vec set1(float f) { return _mm256_set1_ps(f); }
  static vec load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, vec v) { _mm256_storeu_ps(p, v); }
  // Lanes [0, n): compare a lane ramp against n.
  static mask make_mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  // Lanes [lo, hi).
  static mask range_mask(int lo, int hi) { return _mm256_andnot_si256(make_mask(lo), make_mask(hi)); }
  static vec where(mask m, vec v, vec otherwise) { return _mm256_blendv_ps(otherwise, v, _mm256_castsi256_ps(m)); }
  // The first n (< W) lanes, never touching memory past them. Not
  // vmaskmovps: AMD documents faults on its masked-out lanes as
  // implementation dependent, and the last row of a mapped file may end
  // right before an unmapped page. Only tails take this path.
  static vec load_part(const float* p, int n) {
    alignas(32) float part[8] = {};
    std::memcpy(part, p, sizeof(float) * static_cast<size_t>(n));
    return _mm256_load_ps(part);
  }
  static void store_part(float* p, vec v, int n) {
    alignas(32) float part[8];
    _mm256_store_ps(part, v);
    std::memcpy(p, part, sizeof(float) * static_cast<size_t>(n));
  }
  // Masked store where all W lanes lie in the caller's own buffer.
  static void store_lanes(float* p, vec v, mask m) { _mm256_maskstore_ps(p, m, v); }
  static vec fmadd(vec a, vec b, vec c) { return _mm256_fmadd_ps(a, b, c); }
  static vec add(vec a, vec b) { return _mm256_add_ps(a, b); }
  static vec mul(vec a, vec b) { return _mm256_mul_ps(a, b); }
  static vec max(vec a, vec b) { return _mm256_max_ps(a, b); }
  static float reduce_add(vec v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
  }
  static float reduce_max(vec v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)));
  }

  template <FloatType T>
  static vec load_weights(const void* p) {
    if constexpr (T == FloatType::F32) {
      return _mm256_loadu_ps(static_cast<const float*>(p));
    } else if constexpr (T == FloatType::F16) {
      return _mm256_cvtph_ps(_mm_loadu_si128(static_cast<const __m128i*>(p)));
    } else {
      const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(static_cast<const __m128i*>(p)));
      return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
    }
  }
  // The first n (< W) weights, rest zero, never reading past them.
  template <FloatType T>
  static vec load_weights(const void* p, int n) {
    if constexpr (T == FloatType::F32) {
      return load_part(static_cast<const float*>(p), n);
    } else {
      alignas(16) uint16_t tail[8] = {};
      std::memcpy(tail, p, 2 * static_cast<size_t>(n));
      return load_weights<T>(tail);
    }
  }

  // 32-bit integer lanes, for unpacking GPTQ words (see gptq_layout.h).
  using ivec = __m256i;
  static ivec load_words(const uint32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static ivec set1_int(uint32_t v) { return _mm256_set1_epi32(static_cast<int>(v)); }
  template <int S>
  static ivec shift_right(ivec v) { return _mm256_srli_epi32(v, S); }
  static ivec bit_and(ivec a, ivec b) { return _mm256_and_si256(a, b); }
  static ivec bit_or(ivec a, ivec b) { return _mm256_or_si256(a, b); }
  static vec int_to_float(ivec v) { return _mm256_cvtepi32_ps(v); }

  static vec min(vec a, vec b) { return _mm256_min_ps(a, b); }
  static vec round(vec v) { return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // v * 2^n for whole n in [-126, 127]: 2^n built in the exponent bits.
  static vec ldexp(vec v, vec n) {
    const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(v, _mm256_castsi256_ps(bits));
  }

  // In-place transpose of an 8x8 block: interleave 32-bit, then 64-bit
  // pairs within 128-bit lanes, then swap 128-bit halves.
  static void transpose(vec r[W]) {
    vec t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
      t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
      u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
      u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
      u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
      u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    for (int i = 0; i < 4; ++i) {
      r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
      r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
  }
};

}  // namespace
}  // namespace gptq::cpu
