// Vector traits for AVX-512 (F/BW/VL/DQ + F16C): 16 fp32 lanes per vector,
// 32 vector registers.
//
// Included only by *_avx512.cpp files, which are the only ones compiled with
// these instruction sets. Every kernel template is instantiated on this
// struct, so nothing compiled here can leak into code that runs on an older
// CPU through a shared inline symbol.
//
// Register tile of the GEMM microkernel: 12 rows x 2 vectors (32 columns)
// = 24 accumulators + 2 B vectors + 1 broadcast, leaving room for the
// compiler; 12 broadcasts + 2 loads feed 24 FMAs, well under the two load
// ports' budget.
#pragma once

// GCC 12's own intrinsics (_mm512_cvtph_ps, _mm512_reduce_add_ps, ...) pass
// _mm512_undefined_ps() as a don't-care operand, which its middle end then
// reports as used uninitialized once inlined. The state of these pragmas at
// the header's lines is what counts, so this file includes it first.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstdint>

#include "kernels/cpu/cpu_kernels.h"

namespace gptq::cpu {
namespace {  // internal linkage: see kernel_set.h

struct Avx512 {
  using vec = __m512;
  using mask = __mmask16;
  static constexpr int W = 16;
  static constexpr int kMR = 12;  // GEMM microkernel rows
  static constexpr int kNV = 2;   // GEMM microkernel vectors of columns
  static constexpr int kGemvRows = 4;

  static vec zero() { return _mm512_setzero_ps(); }
  static vec set1(float f) { return _mm512_set1_ps(f); }
  static vec load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, vec v) { _mm512_storeu_ps(p, v); }
  // Lanes [0, n) (none for n <= 0, all for n >= W).
  static mask make_mask(int n) { return static_cast<mask>(n >= W ? 0xffffu : n <= 0 ? 0u : (1u << n) - 1u); }
  // Lanes [lo, hi).
  static mask range_mask(int lo, int hi) { return static_cast<mask>(make_mask(hi) & ~make_mask(lo)); }
  static vec where(mask m, vec v, vec otherwise) { return _mm512_mask_blend_ps(m, otherwise, v); }
  // The first n (< W) lanes; masked-out lanes never fault (guaranteed for
  // AVX-512 masked moves), so memory past them need not exist.
  static vec load_part(const float* p, int n) { return _mm512_maskz_loadu_ps(make_mask(n), p); }
  static void store_part(float* p, vec v, int n) { _mm512_mask_storeu_ps(p, make_mask(n), v); }
  // Masked store where all W lanes lie in the caller's own buffer.
  static void store_lanes(float* p, vec v, mask m) { _mm512_mask_storeu_ps(p, m, v); }
  static vec fmadd(vec a, vec b, vec c) { return _mm512_fmadd_ps(a, b, c); }
  static vec add(vec a, vec b) { return _mm512_add_ps(a, b); }
  static vec mul(vec a, vec b) { return _mm512_mul_ps(a, b); }
  static vec max(vec a, vec b) { return _mm512_max_ps(a, b); }
  static float reduce_add(vec v) { return _mm512_reduce_add_ps(v); }
  static float reduce_max(vec v) { return _mm512_reduce_max_ps(v); }

  // W weights of type T from p (no alignment), converted to fp32.
  template <FloatType T>
  static vec load_weights(const void* p) {
    if constexpr (T == FloatType::F32) {
      return _mm512_loadu_ps(p);
    } else if constexpr (T == FloatType::F16) {
      return _mm512_cvtph_ps(_mm256_loadu_si256(static_cast<const __m256i*>(p)));
    } else {
      const __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(static_cast<const __m256i*>(p)));
      return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
    }
  }
  // The first n (< W) weights; the rest of the vector is zero and the bytes
  // past them are never read (the last row of a mapped file may end there).
  template <FloatType T>
  static vec load_weights(const void* p, int n) {
    const mask m = make_mask(n);
    if constexpr (T == FloatType::F32) {
      return _mm512_maskz_loadu_ps(m, p);
    } else if constexpr (T == FloatType::F16) {
      return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
    } else {
      const __m512i wide = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p));
      return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
    }
  }

  // 32-bit integer lanes, for unpacking GPTQ words (see gptq_layout.h).
  using ivec = __m512i;
  static ivec load_words(const uint32_t* p) { return _mm512_loadu_si512(p); }
  static ivec set1_int(uint32_t v) { return _mm512_set1_epi32(static_cast<int>(v)); }
  template <int S>
  static ivec shift_right(ivec v) { return _mm512_srli_epi32(v, S); }
  static ivec bit_and(ivec a, ivec b) { return _mm512_and_si512(a, b); }
  static ivec bit_or(ivec a, ivec b) { return _mm512_or_si512(a, b); }
  static vec int_to_float(ivec v) { return _mm512_cvtepi32_ps(v); }

  static vec min(vec a, vec b) { return _mm512_min_ps(a, b); }
  static vec round(vec v) { return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // v * 2^n for whole n in [-126, 127].
  static vec ldexp(vec v, vec n) { return _mm512_scalef_ps(v, n); }

  // In-place transpose of a 16x16 block held as 16 row vectors: four rounds
  // of interleaves (within 32-bit, 64-bit, then 128-bit lanes twice).
  static void transpose(vec r[W]) {
    vec t[16], u[16];
    for (int i = 0; i < 16; i += 2) {
      t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
      const __m512d t0 = _mm512_castps_pd(t[i]), t1 = _mm512_castps_pd(t[i + 1]);
      const __m512d t2 = _mm512_castps_pd(t[i + 2]), t3 = _mm512_castps_pd(t[i + 3]);
      u[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
      u[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
      u[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
      u[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
    }
    for (int i = 0; i < 4; ++i) {
      t[i] = _mm512_shuffle_f32x4(u[i], u[i + 4], 0x88);
      t[i + 4] = _mm512_shuffle_f32x4(u[i], u[i + 4], 0xdd);
      t[i + 8] = _mm512_shuffle_f32x4(u[i + 8], u[i + 12], 0x88);
      t[i + 12] = _mm512_shuffle_f32x4(u[i + 8], u[i + 12], 0xdd);
    }
    for (int i = 0; i < 8; ++i) {
      r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
      r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
    }
  }
};

}  // namespace
}  // namespace gptq::cpu
