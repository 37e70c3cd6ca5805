// One GPTQ-quantized linear layer as a checkpoint stores it (qweight,
// qzeros, scales, g_idx), checked against the shapes the model expects.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "quant/quant_config.h"

namespace gptq {

struct GptqLinearTensors {
  std::string module;
  int bits = 4;
  int64_t in_features = 0;   // K
  int64_t out_features = 0;  // N
  int64_t n_groups = 0;      // G
  const TensorView* qweight = nullptr;  // I32 [K*bits/32, N]
  const TensorView* qzeros = nullptr;   // I32 [G, N*bits/32]
  const TensorView* scales = nullptr;   // F16/BF16/F32 [G, N]
  const TensorView* g_idx = nullptr;    // I32 [K], may be absent (then k / group_size)
};

// True when `module` is stored quantized (module.qweight exists).
bool has_gptq_tensors(const Checkpoint& checkpoint, const std::string& module);

// Finds and validates the tensors; GPTQ_ERR_FORMAT naming the tensor on any
// inconsistency (including g_idx entries outside [0, G)).
GptqLinearTensors read_gptq_linear(const Checkpoint& checkpoint, const std::string& module, int64_t in_features,
                                   int64_t out_features, const QuantConfig& config);

// The group of every input column: g_idx, or k / group_size without one.
std::vector<int32_t> group_index(const GptqLinearTensors& t, const QuantConfig& config);

}  // namespace gptq
