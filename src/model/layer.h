// One decoder layer's weights, and the single list of its linears (checkpoint
// name, member, where its input comes from, shape, bias) that loading, the
// quantizer and the saver all read, so an architecture's linears are named
// in one place.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/gptq_kernels.h"
#include "model/config.h"
#include "quant/quantized_linear.h"

namespace gptq {

struct Linear {
  std::string name;           // module name, for messages
  cpu::DenseWeights weights;  // [out_features, in_features]
  std::vector<float> bias;    // empty when the module has none
  // Weights held in memory rather than read from the mapped checkpoint
  // (fp32 working copies, dequantized GPTQ weights, transposed Conv1D
  // weights); `weights` points into it.
  std::shared_ptr<const void> owned;
  // Set when the layer is GPTQ-quantized: the weights in the CPU kernels'
  // packed layout (then `weights` carries only the shape).
  std::shared_ptr<const cpu::PackedGptq> packed;
  // The GPTQ tensors themselves, kept only for a model the quantizer made
  // (saving needs them); a loaded model's stay in its checkpoint.
  std::shared_ptr<const QuantizedLinear> quantized;

  // Makes this a GPTQ layer computed from packed weights.
  void set_packed(const QuantizedLinear& source);
  // What the kernels need to compute this layer's product into y.
  cpu::MatmulOutput output(float* y, int64_t ldy) const;
  int64_t weight_bytes() const;

  // Points this layer at in-memory fp32 weights [out_features][in_features].
  void set_owned_weights(std::vector<float> values, int64_t out_features, int64_t in_features);
  // The same for weights of any type, kept alive by `storage`.
  void set_owned_weights(std::shared_ptr<const void> storage, const void* data, cpu::WeightType type,
                         int64_t out_features, int64_t in_features);

  int64_t in_features() const { return weights.n_cols; }
  int64_t out_features() const { return weights.n_rows; }
  const float* bias_or_null() const { return bias.empty() ? nullptr : bias.data(); }
};

struct Norm {
  std::vector<float> weight;  // empty when the model has no such norm
  std::vector<float> bias;    // LayerNorm only
};

struct DecoderLayer {
  Norm attn_norm;
  Linear qkv_proj;                  // fused q/k/v (QkvLayout other than Separate)
  Linear q_proj, k_proj, v_proj;    // QkvLayout::Separate
  Norm q_norm, k_norm;              // per-head norms, when the architecture has them
  Linear o_proj;
  Norm ffn_norm;
  Linear gate_proj, up_proj;  // MlpKind::Gated (up_proj alone: Plain)
  Linear gate_up_proj;        // MlpKind::FusedGated
  Linear down_proj;
};

// Points inside a decoder layer where the input of a group of linears is
// ready: q/k/v, o, gate/up, down.
enum class LayerTap : unsigned char { AttentionInput, AttentionOutput, MlpInput, MlpHidden };

struct LayerLinear {
  const char* name;  // relative to the layer prefix
  Linear DecoderLayer::*member;
  LayerTap tap;      // where its input comes from
  int64_t in_features;
  int64_t out_features;
  bool bias;
};

// The linears a layer of this model has, in forward order.
std::vector<LayerLinear> layer_linears(const ModelConfig& config);

// The entry called `name`; GPTQ_ERR_INTERNAL when the table names no such linear.
const LayerLinear& layer_linear_named(std::span<const LayerLinear> linears, std::string_view name);

// "model.layers.3." for layer 3.
std::string layer_prefix(const ArchSpec& arch, int64_t layer);

}  // namespace gptq
