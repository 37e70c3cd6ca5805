// An architecture is a description, not code: tensor names, norm, MLP,
// position and attention variants, and the true-sequential order of its
// linears. Model loading, the forward pass, the quantizer and the saver read
// this table; adding an architecture built from known parts is a new row.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace gptq {

using Json = nlohmann::json;
struct ModelConfig;

enum class NormKind : unsigned char { RmsNorm, LayerNorm };
enum class MlpKind : unsigned char {
  Gated,       // down(act(gate(x)) * up(x))
  FusedGated,  // the same with [gate | up] = gate_up(x), one projection (phi3)
  Plain,       // down(act(up(x)))
  // A router scores the experts per token; the top-k experts' Gated MLPs
  // run on that token and their outputs add up, weighted by the softmax of
  // the router's scores renormalised over the k (mixtral).
  Routed
};
// Where a token's position enters the model.
enum class PositionKind : unsigned char {
  Rotary,  // q and k rotated by position (RotaryStyle says how)
  Learned,  // a learned table row added to the token embedding (gpt2, opt)
  Alibi     // none in the embeddings: each head's scores are biased by its slope times the key's distance (bloom)
};
enum class RotaryStyle : unsigned char {
  Half,        // rotate_half: dims i and i + rotary_dim/2 form a pair (llama, neox)
  Interleaved  // dims 2i and 2i+1 form a pair (gpt-j)
};
// How q, k and v come out of the attention's input projection(s).
enum class QkvLayout : unsigned char {
  Separate,         // q_proj, k_proj, v_proj
  Concatenated,     // one projection whose outputs are [q | k | v] (gpt2's c_attn; multi-query: gpt_bigcode, falcon-7b)
  HeadInterleaved,  // one projection whose outputs are [q_h | k_h | v_h] per head (gpt-neox)
  KvGrouped,        // per kv head, [its q heads | k | v] (falcon's new decoder architecture)
  CodegenShards     // four shards, each [q | v | k] of a quarter of the heads (codegen's mp_num = 4)
};
enum class ResidualLayout : unsigned char {
  Sequential,  // x += attn(norm1(x)); x += mlp(norm2(x))
  Parallel     // x += attn(norm1(x)) + mlp(norm2(x)), both from the same x (gpt-neox)
};

// Module names inside one decoder layer, relative to the layer prefix. A
// linear module `m` stores `m.weight` (+ `m.bias`), or `m.qweight`,
// `m.qzeros`, `m.scales`, `m.g_idx` when GPTQ-quantized. Null: absent.
struct LayerModuleNames {
  const char* attn_norm = nullptr;
  const char* qkv_proj = nullptr;  // fused projection (QkvLayout other than Separate)
  const char* q_proj = nullptr;
  const char* k_proj = nullptr;
  const char* v_proj = nullptr;
  const char* q_norm = nullptr;  // RMS norm over each head of q (qwen3)
  const char* k_norm = nullptr;  // and of k
  const char* o_proj = nullptr;
  const char* ffn_norm = nullptr;
  // MlpKind::Routed: the router's linear; gate_proj, up_proj and
  // down_proj are then each expert's, with `*` standing for its index
  // (sequential_groups name them so too).
  const char* router = nullptr;
  const char* gate_proj = nullptr;     // MlpKind::Gated and Routed only
  const char* gate_up_proj = nullptr;  // MlpKind::FusedGated only
  const char* up_proj = nullptr;
  const char* down_proj = nullptr;
};

// Which linears carry a bias: defaults, and the config.json keys that
// override them (null: fixed by the architecture).
struct BiasRule {
  bool qkv = false;
  bool o = false;
  bool mlp = false;
  const char* qkv_key = nullptr;
  const char* o_key = nullptr;
  const char* mlp_key = nullptr;
};

struct ArchSpec {
  const char* model_type = nullptr;  // config.json's model_type
  // Checkpoint names outside the layers.
  const char* embed_tokens = nullptr;         // tensor
  const char* position_embeddings = nullptr;  // tensor, PositionKind::Learned only
  int64_t position_offset = 0;                // table row of position 0 (OPT keeps 2 spare rows)
  const char* embed_norm = nullptr;           // module normalising the embeddings before the first layer (bloom)
  const char* final_norm = nullptr;           // module (".weight" / ".bias" appended)
  const char* lm_head = nullptr;              // module, unless the embeddings are tied
  const char* lm_head_alias = nullptr;        // also accepted (some exporters rename the head)
  const char* layer_prefix = nullptr;         // printf pattern with one %d: "model.layers.%d."
  // What checkpoints saved from the bare model (transformers' base model,
  // as openai-community/gpt2 is) leave out of every name but the head's.
  const char* base_model_prefix = nullptr;
  LayerModuleNames layer;

  // How the layers compute.
  NormKind norm = NormKind::RmsNorm;
  float norm_weight_offset = 0;  // gemma's norms scale by (1 + weight)
  MlpKind mlp = MlpKind::Gated;
  PositionKind positions = PositionKind::Rotary;
  RotaryStyle rotary = RotaryStyle::Half;
  QkvLayout qkv_layout = QkvLayout::Separate;
  ResidualLayout residual = ResidualLayout::Sequential;  // config's use_parallel_residual may turn Parallel off
  bool conv1d_weights = false;    // float weights stored [in, out] (gpt2's Conv1D); GPTQ ones are not
  bool scale_embeddings = false;  // embeddings times sqrt(hidden_size) (gemma)
  // transformers holds the rotary cos/sin table (GPT-J's embed_positions),
  // not the frequencies, as the buffer a dtype cast rounds.
  bool rotary_table_buffer = false;

  // Defaults for what config.json may leave out.
  BiasRule bias;
  const char* default_activation = "silu";
  int64_t default_ffn_multiple = 0;       // intermediate size = this * hidden when absent (0: required)
  double default_rotary_fraction = 1.0;   // of head_dim, when the config names none
  bool default_tied_embeddings = false;   // transformers' default for tie_word_embeddings

  // The GPTQ true-sequential order (AutoGPTQ's inside_layer_modules):
  // groups of linears quantized together, each fed the outputs of the groups
  // before it (names as in `layer`).
  const char* const* const* sequential_groups = nullptr;  // null-terminated list of null-terminated lists

  // The family's own config.json keys, read after the shared ones: which
  // variant row a config selects (falcon's layouts; it may set c.arch),
  // kv heads (multi_query), per-layer windows, attention scale. Null: none.
  void (*read_config)(const Json& config, const std::string& where, ModelConfig& c) = nullptr;
};

// The row for `model_type`, or null when libgptq does not know it.
const ArchSpec* find_arch(std::string_view model_type);
// "llama, mistral, qwen2, ...": for messages.
const char* known_arch_names();

}  // namespace gptq
