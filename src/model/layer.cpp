#include "model/layer.h"

#include <cstdio>

#include "backend/prepare.h"
#include "core/error.h"

namespace gptq {

Linear Linear::dense(std::string name, const DenseMatrix& weights, std::shared_ptr<const void> owner) {
  Linear linear;
  linear.name_ = std::move(name);
  linear.in_features_ = weights.n_cols;
  linear.out_features_ = weights.n_rows;
  linear.dense_ = weights;
  linear.owner_ = std::move(owner);
  return linear;
}

Linear Linear::dense(std::string name, std::vector<float> values, int64_t out_features, int64_t in_features) {
  auto storage = std::make_shared<const std::vector<float>>(std::move(values));
  const DenseMatrix weights{storage->data(), FloatType::F32, out_features, in_features, in_features};
  return dense(std::move(name), weights, std::move(storage));
}

Linear Linear::quantized(std::string name, std::shared_ptr<const QuantizedLinear> weights) {
  Linear linear;
  linear.name_ = std::move(name);
  linear.in_features_ = weights->in_features;
  linear.out_features_ = weights->out_features;
  linear.quantized_ = std::move(weights);
  return linear;
}

int64_t Linear::weight_bytes() const {
  if (quantized_) return quantized_->packed_bytes();
  return in_features_ * out_features_ * static_cast<int64_t>(float_type_size(dense_.type));
}

std::vector<LayerLinear> layer_linears(const ModelConfig& c) {
  const ArchSpec& arch = *c.arch;
  const LayerModuleNames& n = arch.layer;
  const int64_t H = c.hidden_size, I = c.intermediate_size;
  std::vector<LayerLinear> linears;
  if (arch.qkv_layout == QkvLayout::Separate) {
    linears.push_back({n.q_proj, &DecoderLayer::q_proj, LayerTap::AttentionInput, H, c.q_dim(), c.attention_bias});
    linears.push_back({n.k_proj, &DecoderLayer::k_proj, LayerTap::AttentionInput, H, c.kv_dim(), c.attention_bias});
    linears.push_back({n.v_proj, &DecoderLayer::v_proj, LayerTap::AttentionInput, H, c.kv_dim(), c.attention_bias});
  } else {
    linears.push_back(
        {n.qkv_proj, &DecoderLayer::qkv_proj, LayerTap::AttentionInput, H, c.qkv_dim(), c.attention_bias});
  }
  linears.push_back({n.o_proj, &DecoderLayer::o_proj, LayerTap::AttentionOutput, c.q_dim(), H, c.o_proj_bias});
  if (arch.mlp == MlpKind::Routed) {
    linears.push_back({n.router, &DecoderLayer::router, LayerTap::MlpInput, H, c.n_experts, false});
    for (int32_t e = 0; e < c.n_experts; ++e) {
      const LayerLinear expert[] = {
          {expert_module(n.gate_proj, e), nullptr, LayerTap::ExpertInput, H, I, c.mlp_bias, e, &ExpertMlp::gate_proj},
          {expert_module(n.up_proj, e), nullptr, LayerTap::ExpertInput, H, I, c.mlp_bias, e, &ExpertMlp::up_proj},
          {expert_module(n.down_proj, e), nullptr, LayerTap::ExpertHidden, I, H, c.mlp_bias, e, &ExpertMlp::down_proj}};
      linears.insert(linears.end(), std::begin(expert), std::end(expert));
    }
    return linears;
  }
  if (arch.mlp == MlpKind::FusedGated) {
    linears.push_back({n.gate_up_proj, &DecoderLayer::gate_up_proj, LayerTap::MlpInput, H, 2 * I, c.mlp_bias});
  } else {
    if (arch.mlp == MlpKind::Gated) {
      linears.push_back({n.gate_proj, &DecoderLayer::gate_proj, LayerTap::MlpInput, H, I, c.mlp_bias});
    }
    linears.push_back({n.up_proj, &DecoderLayer::up_proj, LayerTap::MlpInput, H, I, c.mlp_bias});
  }
  linears.push_back({n.down_proj, &DecoderLayer::down_proj, LayerTap::MlpHidden, I, H, c.mlp_bias});
  return linears;
}

std::string expert_module(std::string_view pattern, int64_t expert) {
  const size_t star = pattern.find('*');
  if (star == std::string_view::npos) fail(GPTQ_ERR_INTERNAL, "expert module pattern '", pattern, "' has no '*'");
  return std::string(pattern.substr(0, star)) + std::to_string(expert) + std::string(pattern.substr(star + 1));
}

const LayerLinear& layer_linear_named(std::span<const LayerLinear> linears, std::string_view name) {
  for (const LayerLinear& linear : linears) {
    if (name == linear.name) return linear;
  }
  fail(GPTQ_ERR_INTERNAL, "the architecture table names unknown module '", name, "'");
}

int64_t prepare_layer(DecoderLayer& layer, const ModelConfig& config, WeightPreparer& preparer) {
  int64_t bytes = 0;
  for (Norm* norm : {&layer.attn_norm, &layer.ffn_norm, &layer.q_norm, &layer.k_norm}) {
    if (norm->weight.empty()) continue;
    norm->prepared = preparer.norm(*norm);
    if (norm->prepared) bytes += norm->prepared->device_bytes();
  }
  for (const LayerLinear& entry : layer_linears(config)) {
    Linear& linear = entry.of(layer);
    linear.set_prepared(preparer.linear(linear));
    bytes += linear.prepared()->device_bytes();
  }
  return bytes;
}

std::string layer_prefix(const ArchSpec& arch, int64_t layer) {
  char buffer[128];
  std::snprintf(buffer, sizeof buffer, arch.layer_prefix, static_cast<int>(layer));
  return buffer;
}

}  // namespace gptq
