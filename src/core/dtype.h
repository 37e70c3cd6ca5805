// Floating-point storage types, named once for every layer: weights as a
// checkpoint stores them, activations and KV caches as a backend keeps them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gptq {

enum class FloatType : uint8_t { F32, F16, BF16 };

constexpr size_t float_type_size(FloatType type) { return type == FloatType::F32 ? 4 : 2; }

// "float32", "float16", "bfloat16": config.json's spelling.
const char* float_type_name(FloatType type);

}  // namespace gptq
