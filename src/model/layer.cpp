#include "model/layer.h"

#include <cstdio>

#include "core/error.h"

namespace gptq {

void Linear::set_owned_weights(std::vector<float> values, int64_t out_features, int64_t in_features) {
  auto storage = std::make_shared<const std::vector<float>>(std::move(values));
  const float* data = storage->data();
  set_owned_weights(std::move(storage), data, cpu::WeightType::F32, out_features, in_features);
}

void Linear::set_owned_weights(std::shared_ptr<const void> storage, const void* data, cpu::WeightType type,
                               int64_t out_features, int64_t in_features) {
  weights = {data, type, out_features, in_features, in_features};
  owned = std::move(storage);
}

void Linear::set_packed(const QuantizedLinear& q) {
  const cpu::GptqSource source{q.bits,          q.in_features,       q.out_features, q.n_groups,
                               q.qweight.data(), q.zeros.data(), q.scales.data(),   q.g_idx.data()};
  packed = cpu::pack_gptq(source);
  weights = {nullptr, cpu::WeightType::F32, q.out_features, q.in_features, q.in_features};
  owned.reset();
}

cpu::MatmulOutput Linear::output(float* y, int64_t ldy) const {
  cpu::MatmulOutput out;
  out.w = weights;
  out.bias = bias_or_null();
  out.y = y;
  out.ldy = ldy;
  out.gptq = packed.get();
  return out;
}

int64_t Linear::weight_bytes() const {
  if (packed) return packed->bytes();
  return in_features() * out_features() * (weights.type == cpu::WeightType::F32 ? 4 : 2);
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

const LayerLinear& layer_linear_named(std::span<const LayerLinear> linears, std::string_view name) {
  for (const LayerLinear& linear : linears) {
    if (name == linear.name) return linear;
  }
  fail(GPTQ_ERR_INTERNAL, "the architecture table names unknown module '", name, "'");
}

std::string layer_prefix(const ArchSpec& arch, int64_t layer) {
  char buffer[128];
  std::snprintf(buffer, sizeof buffer, arch.layer_prefix, static_cast<int>(layer));
  return buffer;
}

}  // namespace gptq
