// A GPTQ-quantized linear layer in the ecosystem's format: what a
// checkpoint stores, what the quantizer makes and what libgptq saves, and
// the one form a model owns GPTQ weights in. Each device repacks it into a
// layout of its own at placement (GptqSource is the view they read).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/gptq_source.h"
#include "quant/gptq.h"

namespace gptq {

struct QuantizedLinear {
  int bits = 4;
  int group_size = 128;          // -1: one group
  int64_t in_features = 0;       // K
  int64_t out_features = 0;      // N
  int64_t n_groups = 0;          // G
  // [K*bits/32][N], packed along K: a loaded model's point into the mapped
  // checkpoint (4-byte aligned there, else copied), a quantized model's
  // into memory of its own; `qweight_storage` keeps either alive.
  const int32_t* qweight = nullptr;
  std::shared_ptr<const void> qweight_storage;
  std::vector<int32_t> zeros;    // [G][N], true zero points (not the v1 stored-minus-one)
  std::vector<uint16_t> scales;  // [G][N], fp16 bits
  std::vector<int32_t> g_idx;    // [K]

  int64_t qweight_words() const { return in_features * bits / 32 * out_features; }
  // The view the repacks read.
  GptqSource source() const;
  // [N][K] fp32: scale * (q - zero).
  std::vector<float> dequantize() const;
  // Bytes of the four tensors as a checkpoint stores them.
  int64_t packed_bytes() const;
};

QuantizedLinear quantized_linear_from_matrix(const QuantizedMatrix& matrix, int group_size);

}  // namespace gptq
