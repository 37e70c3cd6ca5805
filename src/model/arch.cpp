#include "model/arch.h"

namespace gptq {
namespace {

constexpr LayerModuleNames kLlamaLayer = {
    "input_layernorm",         "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
    "self_attn.o_proj",        "post_attention_layernorm", "mlp.gate_proj", "mlp.up_proj",
    "mlp.down_proj",
};

// AutoGPTQ's inside_layer_modules for the llama family.
constexpr const char* kLlamaQkv[] = {"self_attn.k_proj", "self_attn.v_proj", "self_attn.q_proj", nullptr};
constexpr const char* kLlamaO[] = {"self_attn.o_proj", nullptr};
constexpr const char* kLlamaUpGate[] = {"mlp.up_proj", "mlp.gate_proj", nullptr};
constexpr const char* kLlamaDown[] = {"mlp.down_proj", nullptr};
constexpr const char* const* kLlamaGroups[] = {kLlamaQkv, kLlamaO, kLlamaUpGate, kLlamaDown, nullptr};

constexpr ArchSpec llama_like(const char* model_type, bool qkv_bias) {
  return ArchSpec{
      model_type,  "model.embed_tokens.weight", "model.norm", "lm_head", "model.layers.%d.",
      kLlamaLayer, NormKind::RmsNorm,           MlpKind::Gated, RotaryStyle::Half, qkv_bias,
      "silu",      kLlamaGroups,
  };
}

constexpr ArchSpec kArchs[] = {
    llama_like("llama", false),
    llama_like("mistral", false),
    llama_like("qwen2", true),
};

}  // namespace

const ArchSpec* find_arch(std::string_view model_type) {
  for (const ArchSpec& arch : kArchs) {
    if (model_type == arch.model_type) return &arch;
  }
  return nullptr;
}

const char* known_arch_names() { return "llama, mistral, qwen2"; }

}  // namespace gptq
