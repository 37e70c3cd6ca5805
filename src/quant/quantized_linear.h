// A GPTQ-quantized linear layer held in memory, in the ecosystem's packing:
// what a checkpoint stores and what libgptq saves. CPU kernels build their
// own layouts from it.
#pragma once

#include <cstdint>
#include <vector>

#include "quant/gptq.h"
#include "quant/gptq_linear.h"

namespace gptq {

struct QuantizedLinear {
  int bits = 4;
  int group_size = 128;          // -1: one group
  int64_t in_features = 0;       // K
  int64_t out_features = 0;      // N
  int64_t n_groups = 0;          // G
  std::vector<int32_t> qweight;  // [K*bits/32][N], packed along K
  std::vector<int32_t> zeros;    // [G][N], true zero points (not the v1 stored-minus-one)
  std::vector<uint16_t> scales;  // [G][N], fp16 bits
  std::vector<int32_t> g_idx;    // [K]

  // [N][K] fp32: scale * (q - zero).
  std::vector<float> dequantize() const;
  int64_t packed_bytes() const;
};

QuantizedLinear quantized_linear_from_checkpoint(const GptqLinearTensors& tensors, const QuantConfig& config);
QuantizedLinear quantized_linear_from_matrix(const QuantizedMatrix& matrix, int group_size);

}  // namespace gptq
