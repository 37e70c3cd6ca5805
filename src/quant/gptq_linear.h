// One GPTQ-quantized linear layer as a checkpoint stores it (qweight,
// qzeros, scales, g_idx), checked against the shapes the model expects.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "quant/quant_config.h"
#include "quant/quantized_linear.h"

namespace gptq {

// True when `module` is stored quantized (module.qweight exists).
bool has_gptq_tensors(const Checkpoint& checkpoint, const std::string& module);

// Finds and validates the module's qweight, qzeros, scales and g_idx
// (GPTQ_ERR_FORMAT naming the tensor on any inconsistency, g_idx entries
// outside [0, G) included) and returns them as a QuantizedLinear whose
// qweight points into `checkpoint` (which it keeps alive) where the bytes
// are 4-byte aligned, else into a copy.
QuantizedLinear read_quantized_linear(const std::shared_ptr<const Checkpoint>& checkpoint, const std::string& module,
                                      int64_t in_features, int64_t out_features, const QuantConfig& config);

}  // namespace gptq
