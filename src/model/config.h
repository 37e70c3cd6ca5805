// config.json as the forward pass needs it. Both spellings found in the wild
// are accepted: transformers 5.x (`rope_parameters`, `dtype`) and older
// (`rope_theta`, `rope_scaling`, `torch_dtype`, `rotary_pct`, `rotary_emb_base`).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/activation.h"
#include "io/json_file.h"
#include "model/arch.h"

namespace gptq {

struct RopeConfig {
  std::string type = "default";  // default, linear, llama3, dynamic, yarn
  double theta = 10000.0;
  double factor = 1.0;
  double low_freq_factor = 1.0;        // llama3
  double high_freq_factor = 4.0;       // llama3
  int64_t original_max_position = 0;  // llama3, yarn, dynamic
  double partial_rotary_factor = 1.0;  // fraction of head_dim rotated
};

struct ModelConfig {
  std::string model_type;
  const ArchSpec* arch = nullptr;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t n_layers = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  // The config key n_kv_heads came from, for errors (a family's own spelling).
  const char* kv_heads_key = "num_key_value_heads";
  int64_t head_dim = 0;
  int64_t max_position_embeddings = 0;
  double norm_eps = 1e-6;
  Activation activation = Activation::Silu;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // q/k/v (and o for llama's attention_bias)
  bool o_proj_bias = false;
  bool mlp_bias = false;
  // OPT's do_layer_norm_before: false norms each block's residual sum
  // instead of its input (and then the decoder has no final norm).
  bool norm_before = true;
  bool final_norm = true;
  bool parallel_residual = false;  // gpt-neox's use_parallel_residual
  double attention_scale = 0;      // applied to q.k: 1/sqrt(head_dim) unless gpt2's scale_attn_weights is off
  int64_t sliding_window = 0;  // 0: full attention
  // Each layer's window where layers differ (gpt_neo's local and global
  // layers); empty: sliding_window for every layer.
  std::vector<int64_t> layer_windows;
  // MlpKind::Routed: experts per layer, and how many each token runs.
  int64_t n_experts = 0;
  int64_t n_experts_per_token = 0;
  RopeConfig rope;
  std::string dtype;  // as declared: "float16", "bfloat16", "float32" or ""
  int64_t bos_token_id = -1;
  int64_t eos_token_id = -1;

  // Truncated as transformers does; the epsilon keeps a fraction made from
  // a whole rotary_dim (dim / head_dim) from rounding below it.
  int64_t rotary_dim() const {
    return static_cast<int64_t>(head_dim * rope.partial_rotary_factor + 1e-9) & ~int64_t{1};
  }
  int64_t attention_window(int64_t layer) const {
    return layer_windows.empty() ? sliding_window : layer_windows[static_cast<size_t>(layer)];
  }
  int64_t q_dim() const { return n_heads * head_dim; }
  int64_t kv_dim() const { return n_kv_heads * head_dim; }
  int64_t qkv_dim() const { return q_dim() + 2 * kv_dim(); }
  // A context's length when none is asked for: the trained positions, at
  // most 4096 (a 128k-position model would otherwise reserve a huge cache).
  int64_t default_context_length() const { return std::min<int64_t>(max_position_embeddings, 4096); }
};

// Parses and validates config.json; `where` names the file in messages.
ModelConfig parse_model_config(const Json& config, const std::string& where);

const char* activation_name(Activation activation);

}  // namespace gptq
