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

#include "core/dense_matrix.h"
#include "model/config.h"
#include "quant/quantized_linear.h"

namespace gptq {

class PreparedWeights;
class WeightPreparer;

// One linear layer, y = x . W^T + bias, as the checkpoint gives it: dense
// weights [out_features, in_features] (a view into the mapped checkpoint,
// or held in memory), or GPTQ-quantized weights in the ecosystem's own
// format, the single format libgptq owns them in. Each device computes from
// a prepared form made from that source once, at placement
// (backend/prepare.h): CPU panels, GPU tile layouts, converted copies.
class Linear {
 public:
  Linear() = default;
  // A view of dense weights, kept alive by `owner` when they are not the
  // checkpoint's (which outlives the model's layers).
  static Linear dense(std::string name, const DenseMatrix& weights, std::shared_ptr<const void> owner = nullptr);
  // fp32 weights [out_features][in_features] held by the layer.
  static Linear dense(std::string name, std::vector<float> values, int64_t out_features, int64_t in_features);
  static Linear quantized(std::string name, std::shared_ptr<const QuantizedLinear> weights);

  const std::string& name() const { return name_; }  // module name, for messages
  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return out_features_; }
  bool is_quantized() const { return quantized_ != nullptr; }
  // The dense weights; only for !is_quantized().
  const DenseMatrix& dense_weights() const { return dense_; }
  // The GPTQ tensors; only for is_quantized().
  const QuantizedLinear& gptq() const { return *quantized_; }
  const std::shared_ptr<const QuantizedLinear>& gptq_shared() const { return quantized_; }

  const std::vector<float>& bias() const { return bias_; }  // empty when the module has none
  const float* bias_or_null() const { return bias_.empty() ? nullptr : bias_.data(); }
  void set_bias(std::vector<float> bias) { bias_ = std::move(bias); }

  // The form the device this layer was placed on computes from; set by
  // the preparation step (null before it).
  const PreparedWeights* prepared() const { return prepared_.get(); }
  void set_prepared(std::shared_ptr<const PreparedWeights> prepared) { prepared_ = std::move(prepared); }

  // Bytes of the weights as held (packed for GPTQ).
  int64_t weight_bytes() const;

 private:
  std::string name_;
  int64_t in_features_ = 0, out_features_ = 0;
  DenseMatrix dense_;
  std::shared_ptr<const void> owner_;
  std::shared_ptr<const QuantizedLinear> quantized_;
  std::vector<float> bias_;
  std::shared_ptr<const PreparedWeights> prepared_;
};

struct Norm {
  std::vector<float> weight;  // empty when the model has no such norm
  std::vector<float> bias;    // LayerNorm only
  // The device's copy where it needs one (GPUs); the CPU reads the vectors.
  std::shared_ptr<const PreparedWeights> prepared;
};

// One expert of a routed MLP: a Gated MLP of its own.
struct ExpertMlp {
  Linear gate_proj, up_proj, down_proj;
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
  Linear router;                 // MlpKind::Routed: [n_experts, hidden]
  std::vector<ExpertMlp> experts;  // MlpKind::Routed
};

// Points inside a decoder layer where the input of a group of linears is
// ready: q/k/v, o, gate/up (the router's too), down; in a routed MLP, an
// expert's gate/up (the rows routed to it) and its down.
enum class LayerTap : unsigned char { AttentionInput, AttentionOutput, MlpInput, MlpHidden, ExpertInput, ExpertHidden };

struct LayerLinear {
  std::string name;  // relative to the layer prefix
  Linear DecoderLayer::*member;  // null for an expert's linear
  LayerTap tap;      // where its input comes from
  int64_t in_features;
  int64_t out_features;
  bool bias;
  int32_t expert = -1;  // an expert's linear: its index, and which of its three
  Linear ExpertMlp::*expert_member = nullptr;

  Linear& of(DecoderLayer& layer) const {
    return expert < 0 ? layer.*member : layer.experts[static_cast<size_t>(expert)].*expert_member;
  }
  const Linear& of(const DecoderLayer& layer) const {
    return expert < 0 ? layer.*member : layer.experts[static_cast<size_t>(expert)].*expert_member;
  }
};

// The linears a layer of this model has, in forward order (each expert's
// after the router).
std::vector<LayerLinear> layer_linears(const ModelConfig& config);

// An expert's module name: `pattern` with its `*` replaced by the index.
std::string expert_module(std::string_view pattern, int64_t expert);

// The entry called `name`; GPTQ_ERR_INTERNAL when the table names no such linear.
const LayerLinear& layer_linear_named(std::span<const LayerLinear> linears, std::string_view name);

// Gives every linear and norm of the layer its device form; returns the
// device bytes they hold.
int64_t prepare_layer(DecoderLayer& layer, const ModelConfig& config, WeightPreparer& preparer);

// "model.layers.3." for layer 3.
std::string layer_prefix(const ArchSpec& arch, int64_t layer);

}  // namespace gptq
