// Scalar conversions between fp16 / bf16 bit patterns and float. The vector
// kernels use the hardware instructions; these serve the reference paths and
// the small tensors converted once at load time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/dtype.h"

namespace gptq {

inline float bits_to_float(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

inline uint32_t float_to_bits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

inline float fp16_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0x1f) return bits_to_float(sign | 0x7f800000u | (mantissa << 13));
  if (exponent != 0) return bits_to_float(sign | ((exponent + 112u) << 23) | (mantissa << 13));
  if (mantissa == 0) return bits_to_float(sign);
  // Subnormal: scale by 2^-24 exactly.
  const float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
  return (sign != 0) ? -magnitude : magnitude;
}

// Round to nearest even, with overflow to infinity, as the hardware does.
inline uint16_t float_to_fp16(float f) {
  const uint32_t x = float_to_bits(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds past 65504
  if (abs < 0x38800000u) {  // subnormal or zero in fp16
    const float magnitude = bits_to_float(abs) * 16777216.0f;  // / 2^-24
    uint32_t m = static_cast<uint32_t>(magnitude);
    const float rest = magnitude - static_cast<float>(m);
    if (rest > 0.5f || (rest == 0.5f && (m & 1u))) ++m;
    return static_cast<uint16_t>(sign | m);
  }
  const uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);
  return static_cast<uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
}

inline float bf16_to_float(uint16_t b) { return bits_to_float(static_cast<uint32_t>(b) << 16); }

inline uint16_t float_to_bf16(float f) {
  const uint32_t x = float_to_bits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // quiet NaN
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

// `value` as `type` would store it (fp32: unchanged).
inline float round_to_type(float value, FloatType type) {
  if (type == FloatType::F16) return fp16_to_float(float_to_fp16(value));
  if (type == FloatType::BF16) return bf16_to_float(float_to_bf16(value));
  return value;
}

// n floats stored as `type` at out (float_type_size(type) bytes each).
inline void encode_floats(const float* in, size_t n, FloatType type, void* out) {
  auto* bytes = static_cast<uint8_t*>(out);
  for (size_t i = 0; i < n; ++i) {
    if (type == FloatType::F32) {
      std::memcpy(bytes + 4 * i, &in[i], 4);
    } else {
      const uint16_t h = type == FloatType::F16 ? float_to_fp16(in[i]) : float_to_bf16(in[i]);
      std::memcpy(bytes + 2 * i, &h, 2);
    }
  }
}

// Element i of an array of `type`, as a float.
inline float decode_float(const void* data, size_t i, FloatType type) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  if (type == FloatType::F32) {
    float f;
    std::memcpy(&f, bytes + 4 * i, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, bytes + 2 * i, 2);
  return type == FloatType::F16 ? fp16_to_float(h) : bf16_to_float(h);
}

}  // namespace gptq
