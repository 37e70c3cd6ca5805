// An architecture is a description, not code: tensor names, norm, MLP and
// rotary variants, and the true-sequential order of its linears. The forward
// pass and the quantizer read this table; adding a llama-like architecture
// is a new row.
#pragma once

#include <string_view>

namespace gptq {

enum class NormKind : unsigned char { RmsNorm, LayerNorm };
enum class MlpKind : unsigned char {
  Gated,  // down(act(gate(x)) * up(x))
  Plain   // down(act(up(x)))
};
enum class RotaryStyle : unsigned char {
  None,
  Half,        // rotate_half: dims i and i + rotary_dim/2 form a pair (llama, neox)
  Interleaved  // dims 2i and 2i+1 form a pair (gpt-j)
};

// Module names inside one decoder layer, relative to the layer prefix. A
// linear module `m` stores `m.weight` (+ `m.bias`), or `m.qweight`,
// `m.qzeros`, `m.scales`, `m.g_idx` when GPTQ-quantized.
struct LayerModuleNames {
  const char* attn_norm;
  const char* q_proj;
  const char* k_proj;
  const char* v_proj;
  const char* o_proj;
  const char* ffn_norm;
  const char* gate_proj;  // null for MlpKind::Plain
  const char* up_proj;
  const char* down_proj;
};

struct ArchSpec {
  const char* model_type;       // config.json's model_type
  const char* embed_tokens;     // tensor name
  const char* final_norm;       // module name (".weight" / ".bias" appended)
  const char* lm_head;          // module name
  const char* layer_prefix;     // printf pattern with one %d: "model.layers.%d."
  LayerModuleNames layer;
  NormKind norm;
  MlpKind mlp;
  RotaryStyle rotary;
  bool qkv_bias;                // q/k/v carry biases unless config says otherwise
  const char* default_activation;
  // The GPTQ true-sequential order: groups of linears quantized together,
  // each fed the outputs of the groups before it (names as in `layer`).
  const char* const* const* sequential_groups;  // null-terminated list of null-terminated lists
};

// The row for `model_type`, or null when libgptq does not know it.
const ArchSpec* find_arch(std::string_view model_type);
// "llama, mistral, qwen2": for messages.
const char* known_arch_names();

}  // namespace gptq
