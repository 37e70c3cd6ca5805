// Moving test data between the host (fp32) and the GPU (any compute type),
// for the kernel tests under tests/gpu (built with the GPU backend only).
#pragma once

#include <cstring>
#include <random>
#include <span>
#include <vector>

#include "backend/cuda/gpu_runtime.h"
#include "core/half.h"
#include "test_util.h"

namespace gptq::test {

constexpr DeviceId kGpu0{DeviceKind::Gpu, 0};

// The value as `type` stores it.
inline float round_to(float v, FloatType type) {
  uint8_t bits[4];
  encode_floats(&v, 1, type, bits);
  return decode_float(bits, 0, type);
}

inline std::vector<float> rounded(std::vector<float> values, FloatType type) {
  for (float& v : values) v = round_to(v, type);
  return values;
}

inline std::vector<float> random_values(size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

inline cuda::DeviceBuffer upload(std::span<const float> values, FloatType type) {
  cuda::DeviceBuffer buffer(kGpu0, values.size() * float_type_size(type) + 16, "test data");
  std::vector<uint8_t> bytes(values.size() * float_type_size(type));
  encode_floats(values.data(), values.size(), type, bytes.data());
  cuda::check(cudaMemcpy(buffer.get(), bytes.data(), bytes.size(), cudaMemcpyHostToDevice), "cudaMemcpy");
  return buffer;
}

inline cuda::DeviceBuffer upload_ints(std::span<const int32_t> values) {
  cuda::DeviceBuffer buffer(kGpu0, values.size() * 4 + 16, "test data");
  cuda::check(cudaMemcpy(buffer.get(), values.data(), values.size() * 4, cudaMemcpyHostToDevice), "cudaMemcpy");
  return buffer;
}

inline std::vector<float> download(const void* device, size_t n, FloatType type) {
  cuda::check(cudaDeviceSynchronize(), "a kernel under test");
  std::vector<uint8_t> bytes(n * float_type_size(type));
  cuda::check(cudaMemcpy(bytes.data(), device, bytes.size(), cudaMemcpyDeviceToHost), "cudaMemcpy");
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = decode_float(bytes.data(), i, type);
  return out;
}

// All bytes 0xff: NaN in every float type, so unwritten outputs show.
inline cuda::DeviceBuffer poisoned(size_t bytes) {
  cuda::DeviceBuffer buffer(kGpu0, bytes + 16, "test output");
  cuda::check(cudaMemset(buffer.get(), 0xff, bytes + 16), "cudaMemset");
  return buffer;
}

// The relative L2 error a kernel computing in `type` may have.
inline double tolerance_for(FloatType type) {
  switch (type) {
    case FloatType::F32: return 2e-5;
    case FloatType::F16: return 4e-3;
    case FloatType::BF16: return 3e-2;
  }
  return 0;
}

inline const char* type_name(FloatType type) { return float_type_name(type); }

}  // namespace gptq::test
