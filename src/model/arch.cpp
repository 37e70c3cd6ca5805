#include "model/arch.h"

#include <array>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/config.h"

namespace gptq {
namespace {

// AutoGPTQ's inside_layer_modules of each family.
constexpr const char* kLlamaQkv[] = {"self_attn.k_proj", "self_attn.v_proj", "self_attn.q_proj", nullptr};
constexpr const char* kLlamaO[] = {"self_attn.o_proj", nullptr};
constexpr const char* kLlamaUpGate[] = {"mlp.up_proj", "mlp.gate_proj", nullptr};
constexpr const char* kLlamaDown[] = {"mlp.down_proj", nullptr};
constexpr const char* const* kLlamaGroups[] = {kLlamaQkv, kLlamaO, kLlamaUpGate, kLlamaDown, nullptr};

constexpr const char* kGpt2Qkv[] = {"attn.c_attn", nullptr};
constexpr const char* kGpt2O[] = {"attn.c_proj", nullptr};
constexpr const char* kGpt2Up[] = {"mlp.c_fc", nullptr};
constexpr const char* kGpt2Down[] = {"mlp.c_proj", nullptr};
constexpr const char* const* kGpt2Groups[] = {kGpt2Qkv, kGpt2O, kGpt2Up, kGpt2Down, nullptr};

constexpr const char* kGptNeoQkv[] = {"attn.attention.k_proj", "attn.attention.v_proj", "attn.attention.q_proj",
                                     nullptr};
constexpr const char* kGptNeoO[] = {"attn.attention.out_proj", nullptr};
constexpr const char* const* kGptNeoGroups[] = {kGptNeoQkv, kGptNeoO, kGpt2Up, kGpt2Down, nullptr};

constexpr const char* kOptO[] = {"self_attn.out_proj", nullptr};
constexpr const char* kOptUp[] = {"fc1", nullptr};
constexpr const char* kOptDown[] = {"fc2", nullptr};
constexpr const char* const* kOptGroups[] = {kLlamaQkv, kOptO, kOptUp, kOptDown, nullptr};

constexpr const char* kGptjQkv[] = {"attn.k_proj", "attn.v_proj", "attn.q_proj", nullptr};
constexpr const char* kGptjO[] = {"attn.out_proj", nullptr};
constexpr const char* kGptjUp[] = {"mlp.fc_in", nullptr};
constexpr const char* kGptjDown[] = {"mlp.fc_out", nullptr};
constexpr const char* const* kGptjGroups[] = {kGptjQkv, kGptjO, kGptjUp, kGptjDown, nullptr};

constexpr const char* kCodegenQkv[] = {"attn.qkv_proj", nullptr};
constexpr const char* const* kCodegenGroups[] = {kCodegenQkv, kGptjO, kGptjUp, kGptjDown, nullptr};

constexpr const char* kPhiO[] = {"self_attn.dense", nullptr};
constexpr const char* kPhiUp[] = {"mlp.fc1", nullptr};
constexpr const char* kPhiDown[] = {"mlp.fc2", nullptr};
constexpr const char* const* kPhiGroups[] = {kLlamaQkv, kPhiO, kPhiUp, kPhiDown, nullptr};

constexpr const char* kNeoxQkv[] = {"attention.query_key_value", nullptr};
constexpr const char* kNeoxO[] = {"attention.dense", nullptr};
constexpr const char* kNeoxUp[] = {"mlp.dense_h_to_4h", nullptr};
constexpr const char* kNeoxDown[] = {"mlp.dense_4h_to_h", nullptr};
constexpr const char* const* kNeoxGroups[] = {kNeoxQkv, kNeoxO, kNeoxUp, kNeoxDown, nullptr};

constexpr const char* kFalconQkv[] = {"self_attention.query_key_value", nullptr};
constexpr const char* kFalconO[] = {"self_attention.dense", nullptr};
constexpr const char* const* kFalconGroups[] = {kFalconQkv, kFalconO, kNeoxUp, kNeoxDown, nullptr};

constexpr const char* kPhi3Qkv[] = {"self_attn.qkv_proj", nullptr};
constexpr const char* kPhi3GateUp[] = {"mlp.gate_up_proj", nullptr};
constexpr const char* const* kPhi3Groups[] = {kPhi3Qkv, kLlamaO, kPhi3GateUp, kLlamaDown, nullptr};

constexpr const char* kStarcoder2Up[] = {"mlp.c_fc", nullptr};
constexpr const char* kStarcoder2Down[] = {"mlp.c_proj", nullptr};
constexpr const char* const* kStarcoder2Groups[] = {kLlamaQkv, kLlamaO, kStarcoder2Up, kStarcoder2Down, nullptr};

// Every expert's w1 and w3 (gate and up), then every expert's w2 (down),
// as AutoGPTQ's mixtral list spells out for eight experts.
constexpr const char* kMixtralGateUp[] = {"block_sparse_moe.experts.*.w1", "block_sparse_moe.experts.*.w3", nullptr};
constexpr const char* kMixtralDown[] = {"block_sparse_moe.experts.*.w2", nullptr};
constexpr const char* const* kMixtralGroups[] = {kLlamaQkv, kLlamaO, kMixtralGateUp, kMixtralDown, nullptr};

constexpr LayerModuleNames kLlamaLayer = {
    .attn_norm = "input_layernorm",
    .q_proj = "self_attn.q_proj",
    .k_proj = "self_attn.k_proj",
    .v_proj = "self_attn.v_proj",
    .o_proj = "self_attn.o_proj",
    .ffn_norm = "post_attention_layernorm",
    .gate_proj = "mlp.gate_proj",
    .up_proj = "mlp.up_proj",
    .down_proj = "mlp.down_proj",
};

constexpr ArchSpec llama_like(const char* model_type) {
  return ArchSpec{
      .model_type = model_type,
      .embed_tokens = "model.embed_tokens.weight",
      .final_norm = "model.norm",
      .lm_head = "lm_head",
      .layer_prefix = "model.layers.%d.",
      .base_model_prefix = "model.",
      .layer = kLlamaLayer,
      // llama's attention_bias covers q/k/v and o.
      .bias = {.qkv_key = "attention_bias", .o_key = "attention_bias", .mlp_key = "mlp_bias"},
      .sequential_groups = kLlamaGroups,
  };
}

constexpr ArchSpec qwen2() {
  ArchSpec arch = llama_like("qwen2");
  arch.bias = {.qkv = true};  // always on q/k/v, never on o
  return arch;
}

constexpr ArchSpec qwen3() {
  ArchSpec arch = llama_like("qwen3");
  arch.layer.q_norm = "self_attn.q_norm";
  arch.layer.k_norm = "self_attn.k_norm";
  return arch;
}

constexpr ArchSpec gemma() {
  ArchSpec arch = llama_like("gemma");
  arch.norm_weight_offset = 1.0f;
  arch.scale_embeddings = true;
  arch.default_activation = "gelu_pytorch_tanh";
  arch.default_tied_embeddings = true;
  return arch;
}

constexpr ArchSpec phi3() {
  ArchSpec arch = llama_like("phi3");
  arch.layer.qkv_proj = "self_attn.qkv_proj";
  arch.layer.q_proj = arch.layer.k_proj = arch.layer.v_proj = nullptr;
  arch.layer.gate_up_proj = "mlp.gate_up_proj";
  arch.layer.gate_proj = arch.layer.up_proj = nullptr;
  arch.qkv_layout = QkvLayout::Concatenated;
  arch.mlp = MlpKind::FusedGated;
  arch.bias = {};
  arch.sequential_groups = kPhi3Groups;
  return arch;
}

// Phi-1/2: llama's names around GPT-J's parallel layer (one norm feeding
// both blocks), biases everywhere, half-style partial rotary.
constexpr ArchSpec phi() {
  ArchSpec arch = llama_like("phi");
  arch.final_norm = "model.final_layernorm";
  arch.layer.o_proj = "self_attn.dense";
  arch.layer.ffn_norm = arch.layer.attn_norm;
  arch.layer.gate_proj = nullptr;
  arch.layer.up_proj = "mlp.fc1";
  arch.layer.down_proj = "mlp.fc2";
  arch.norm = NormKind::LayerNorm;
  arch.mlp = MlpKind::Plain;
  arch.residual = ResidualLayout::Parallel;
  arch.bias = {.qkv = true, .o = true, .mlp = true};
  arch.default_activation = "gelu_new";
  arch.default_rotary_fraction = 0.5;  // PhiConfig's partial_rotary_factor
  arch.sequential_groups = kPhiGroups;
  return arch;
}

// MixtralConfig's defaults are 8 experts, 2 per token; num_experts is its
// attribute_map's alias. router_jitter_noise only perturbs training.
void read_mixtral_config(const Json& config, const std::string& where, ModelConfig& c) {
  const char* experts_key = config.contains("num_local_experts") ? "num_local_experts" : "num_experts";
  c.n_experts = json_int(config, experts_key, where).value_or(8);
  c.n_experts_per_token = json_int(config, "num_experts_per_tok", where).value_or(2);
  if (c.n_experts <= 0 || c.n_experts > 1024) {
    fail(GPTQ_ERR_FORMAT, where, ": ", experts_key, " must lie in [1, 1024], not ", c.n_experts);
  }
  if (c.n_experts_per_token <= 0 || c.n_experts_per_token > c.n_experts) {
    fail(GPTQ_ERR_FORMAT, where, ": num_experts_per_tok must lie in [1, ", experts_key, " = ", c.n_experts, "], not ",
         c.n_experts_per_token);
  }
}

// Mixtral: mistral's attention around a routed MLP of SwiGLU experts
// (w1 gate, w3 up, w2 down).
constexpr ArchSpec mixtral() {
  ArchSpec arch = llama_like("mixtral");
  arch.layer.router = "block_sparse_moe.gate";
  arch.layer.gate_proj = "block_sparse_moe.experts.*.w1";
  arch.layer.up_proj = "block_sparse_moe.experts.*.w3";
  arch.layer.down_proj = "block_sparse_moe.experts.*.w2";
  arch.mlp = MlpKind::Routed;
  arch.bias = {};
  arch.sequential_groups = kMixtralGroups;
  arch.read_config = read_mixtral_config;
  return arch;
}

constexpr ArchSpec stablelm() {
  ArchSpec arch = llama_like("stablelm");
  arch.norm = NormKind::LayerNorm;
  arch.bias = {.qkv_key = "use_qkv_bias"};
  arch.default_rotary_fraction = 0.25;  // StableLmConfig's partial_rotary_factor
  return arch;
}

constexpr ArchSpec starcoder2() {
  ArchSpec arch = llama_like("starcoder2");
  arch.layer.gate_proj = nullptr;
  arch.layer.up_proj = "mlp.c_fc";
  arch.layer.down_proj = "mlp.c_proj";
  arch.norm = NormKind::LayerNorm;
  arch.mlp = MlpKind::Plain;
  arch.bias = {.qkv = true, .o = true, .mlp = true, .qkv_key = "use_bias", .o_key = "use_bias", .mlp_key = "use_bias"};
  arch.default_activation = "gelu_pytorch_tanh";
  arch.default_tied_embeddings = true;
  arch.sequential_groups = kStarcoder2Groups;
  return arch;
}

constexpr ArchSpec kGpt2 = {
    .model_type = "gpt2",
    .embed_tokens = "transformer.wte.weight",
    .position_embeddings = "transformer.wpe.weight",
    .final_norm = "transformer.ln_f",
    .lm_head = "lm_head",
    .layer_prefix = "transformer.h.%d.",
    .base_model_prefix = "transformer.",
    .layer = {.attn_norm = "ln_1",
              .qkv_proj = "attn.c_attn",
              .o_proj = "attn.c_proj",
              .ffn_norm = "ln_2",
              .up_proj = "mlp.c_fc",
              .down_proj = "mlp.c_proj"},
    .norm = NormKind::LayerNorm,
    .mlp = MlpKind::Plain,
    .positions = PositionKind::Learned,
    .qkv_layout = QkvLayout::Concatenated,
    .conv1d_weights = true,
    .bias = {.qkv = true, .o = true, .mlp = true},
    .default_activation = "gelu_new",
    .default_ffn_multiple = 4,  // n_inner: null
    .default_tied_embeddings = true,
    .sequential_groups = kGpt2Groups,
};

// GPT-BigCode (SantaCoder, StarCoder): gpt2's row with nn.Linear weights
// and multi-query attention, c_attn's outputs [q | k | v] with one k and
// one v head. Without multi_query, c_attn holds [q_h | k_h | v_h] per head.
constexpr ArchSpec gpt_bigcode(QkvLayout layout) {
  ArchSpec arch = kGpt2;
  arch.model_type = "gpt_bigcode";
  arch.qkv_layout = layout;
  arch.conv1d_weights = false;
  arch.default_activation = "gelu_pytorch_tanh";
  return arch;
}

constexpr ArchSpec kGptBigcodeMultiHead = gpt_bigcode(QkvLayout::HeadInterleaved);

// multi_query (on unless a config says otherwise) leaves one kv head;
// returns whether it is on.
bool read_multi_query(const Json& config, const std::string& where, ModelConfig& c) {
  const bool multi_query = json_bool(config, "multi_query", where).value_or(true);
  c.n_kv_heads = multi_query ? 1 : c.n_heads;
  return multi_query;
}

void read_gpt_bigcode_config(const Json& config, const std::string& where, ModelConfig& c) {
  if (!read_multi_query(config, where, c)) c.arch = &kGptBigcodeMultiHead;
}

constexpr ArchSpec kGptBigcode = [] {
  ArchSpec arch = gpt_bigcode(QkvLayout::Concatenated);
  arch.read_config = read_gpt_bigcode_config;
  return arch;
}();

// Each layer's attention kind, "global" or "local": attention_layers, or
// older configs' attention_types ([[kinds, repeats], ...]) expanded as
// GPTNeoConfig does.
std::vector<std::string> gpt_neo_attention_layers(const Json& config, const std::string& where, int64_t n_layers) {
  std::vector<std::string> layers;
  auto add = [&](const Json& kind) {
    if (!kind.is_string()) fail(GPTQ_ERR_FORMAT, where, ": attention_layers holds a non-string");
    layers.push_back(kind.get<std::string>());
  };
  if (auto it = config.find("attention_layers"); it != config.end() && !it->is_null()) {
    if (!it->is_array()) fail(GPTQ_ERR_FORMAT, where, ": attention_layers must be a list");
    for (const Json& kind : *it) add(kind);
    return layers;
  }
  static const Json kDefaultTypes = Json::parse(R"([[["global", "local"], 12]])");  // GPTNeoConfig's
  const auto it = config.find("attention_types");
  const Json& types = it != config.end() && !it->is_null() ? *it : kDefaultTypes;
  if (!types.is_array()) fail(GPTQ_ERR_FORMAT, where, ": attention_types must be a list");
  for (const Json& entry : types) {
    if (!entry.is_array() || entry.size() != 2 || !entry[0].is_array() || !entry[1].is_number_integer()) {
      fail(GPTQ_ERR_FORMAT, where, ": attention_types entries must be [[kinds...], repeats]");
    }
    // Expanded before the count is compared with the layers: bound it first.
    if (entry[1].get<int64_t>() < 0 || entry[1].get<int64_t>() > n_layers) {
      fail(GPTQ_ERR_FORMAT, where, ": attention_types repeats ", json_excerpt(entry[1]), " for ", n_layers, " layers");
    }
    for (int64_t r = 0; r < entry[1].get<int64_t>(); ++r) {
      for (const Json& kind : entry[0]) add(kind);
    }
  }
  return layers;
}

// GPT-Neo's layers attend to every earlier position ("global") or to the
// last window_size ("local"), as attention_layers says; q.k is not scaled.
void read_gpt_neo_config(const Json& config, const std::string& where, ModelConfig& c) {
  c.attention_scale = 1.0;
  const int64_t window = json_int(config, "window_size", where).value_or(256);
  if (window <= 0) fail(GPTQ_ERR_FORMAT, where, ": window_size must be positive, not ", window);
  const std::vector<std::string> layers = gpt_neo_attention_layers(config, where, c.n_layers);
  if (static_cast<int64_t>(layers.size()) != c.n_layers) {
    fail(GPTQ_ERR_FORMAT, where, ": attention_layers has ", layers.size(), " entries for ", c.n_layers,
         " layers (num_layers)");
  }
  c.layer_windows.clear();
  for (const std::string& kind : layers) {
    if (kind != "global" && kind != "local") {
      fail(GPTQ_ERR_UNSUPPORTED, where, ": attention_layers kind '", kind, "' is not supported (global, local)");
    }
    c.layer_windows.push_back(kind == "local" ? window : 0);
  }
}

// GPT-Neo: gpt2's names around separate q/k/v projections (nn.Linear, no
// bias but on out_proj), learned positions, tied embeddings.
constexpr ArchSpec gpt_neo() {
  ArchSpec arch = kGpt2;
  arch.model_type = "gpt_neo";
  arch.layer.qkv_proj = nullptr;
  arch.layer.q_proj = "attn.attention.q_proj";
  arch.layer.k_proj = "attn.attention.k_proj";
  arch.layer.v_proj = "attn.attention.v_proj";
  arch.layer.o_proj = "attn.attention.out_proj";
  arch.qkv_layout = QkvLayout::Separate;
  arch.conv1d_weights = false;
  arch.bias = {.o = true, .mlp = true};
  arch.sequential_groups = kGptNeoGroups;
  arch.read_config = read_gpt_neo_config;
  return arch;
}

constexpr ArchSpec kOpt = {
    .model_type = "opt",
    .embed_tokens = "model.decoder.embed_tokens.weight",
    .position_embeddings = "model.decoder.embed_positions.weight",
    .position_offset = 2,
    .final_norm = "model.decoder.final_layer_norm",
    .lm_head = "lm_head",
    .layer_prefix = "model.decoder.layers.%d.",
    .base_model_prefix = "model.",
    .layer = {.attn_norm = "self_attn_layer_norm",
              .q_proj = "self_attn.q_proj",
              .k_proj = "self_attn.k_proj",
              .v_proj = "self_attn.v_proj",
              .o_proj = "self_attn.out_proj",
              .ffn_norm = "final_layer_norm",
              .up_proj = "fc1",
              .down_proj = "fc2"},
    .norm = NormKind::LayerNorm,
    .mlp = MlpKind::Plain,
    .positions = PositionKind::Learned,
    .bias = {.qkv = true,
             .o = true,
             .mlp = true,
             .qkv_key = "enable_bias",
             .o_key = "enable_bias",
             .mlp_key = "enable_bias"},
    .default_activation = "relu",
    .default_tied_embeddings = true,
    .sequential_groups = kOptGroups,
};

constexpr ArchSpec kGptNeox = {
    .model_type = "gpt_neox",
    .embed_tokens = "gpt_neox.embed_in.weight",
    .final_norm = "gpt_neox.final_layer_norm",
    .lm_head = "embed_out",
    .lm_head_alias = "lm_head",
    .layer_prefix = "gpt_neox.layers.%d.",
    .base_model_prefix = "gpt_neox.",
    .layer = {.attn_norm = "input_layernorm",
              .qkv_proj = "attention.query_key_value",
              .o_proj = "attention.dense",
              .ffn_norm = "post_attention_layernorm",
              .up_proj = "mlp.dense_h_to_4h",
              .down_proj = "mlp.dense_4h_to_h"},
    .norm = NormKind::LayerNorm,
    .mlp = MlpKind::Plain,
    .qkv_layout = QkvLayout::HeadInterleaved,
    .residual = ResidualLayout::Parallel,
    .bias = {.qkv = true, .o = true, .mlp = true, .qkv_key = "attention_bias", .o_key = "attention_bias"},
    .default_activation = "gelu",
    .default_rotary_fraction = 0.25,  // GPTNeoXConfig's rotary_pct
    .sequential_groups = kNeoxGroups,
};

// Bloom and falcon may take the residual from after the norm instead of
// before it; none of their released checkpoints does.
void refuse_post_norm_residual(const Json& config, const std::string& where) {
  if (json_bool(config, "apply_residual_connection_post_layernorm", where).value_or(false)) {
    fail(GPTQ_ERR_UNSUPPORTED, where, ": apply_residual_connection_post_layernorm is not supported");
  }
}

// How a falcon layer norms its two blocks.
enum class FalconNorms : unsigned char {
  Shared,     // input_layernorm feeds both blocks of the parallel layer (falcon-7b, falcon2-11b)
  Split,      // ln_attn and ln_mlp, both of the layer's input (falcon-40b, falcon-180b)
  Sequential  // input_layernorm and post_attention_layernorm around a sequential layer
};

// Falcon: rotary attention from a fused query_key_value laid out as the
// config says, a plain gelu MLP, one `bias` key for every linear.
constexpr ArchSpec falcon(QkvLayout layout, FalconNorms norms) {
  ArchSpec arch = {
      .model_type = "falcon",
      .embed_tokens = "transformer.word_embeddings.weight",
      .final_norm = "transformer.ln_f",
      .lm_head = "lm_head",
      .layer_prefix = "transformer.h.%d.",
      .base_model_prefix = "transformer.",
      .layer = {.attn_norm = "input_layernorm",
                .qkv_proj = "self_attention.query_key_value",
                .o_proj = "self_attention.dense",
                .ffn_norm = "input_layernorm",
                .up_proj = "mlp.dense_h_to_4h",
                .down_proj = "mlp.dense_4h_to_h"},
      .norm = NormKind::LayerNorm,
      .mlp = MlpKind::Plain,
      .qkv_layout = layout,
      .residual = ResidualLayout::Parallel,
      .bias = {.qkv_key = "bias", .o_key = "bias", .mlp_key = "bias"},
      .default_activation = "gelu",
      .default_ffn_multiple = 4,  // ffn_hidden_size: null
      .default_tied_embeddings = true,
      .sequential_groups = kFalconGroups,
  };
  if (norms == FalconNorms::Split) {
    arch.layer.attn_norm = "ln_attn";
    arch.layer.ffn_norm = "ln_mlp";
  } else if (norms == FalconNorms::Sequential) {
    arch.layer.ffn_norm = "post_attention_layernorm";
    arch.residual = ResidualLayout::Sequential;
  }
  return arch;
}

// Each fused layout a falcon config can select ([q | k | v] with one kv
// head under multi_query, [q_h | k_h | v_h] per head, kv groups under the
// new decoder architecture), with each way of norming.
constexpr QkvLayout kFalconLayouts[] = {QkvLayout::Concatenated, QkvLayout::HeadInterleaved, QkvLayout::KvGrouped};
constexpr auto kFalconVariants = [] {
  std::array<std::array<ArchSpec, 3>, std::size(kFalconLayouts)> rows{};
  for (size_t l = 0; l < rows.size(); ++l) {
    for (size_t n = 0; n < 3; ++n) rows[l][n] = falcon(kFalconLayouts[l], static_cast<FalconNorms>(n));
  }
  return rows;
}();

const ArchSpec* falcon_variant(QkvLayout layout, FalconNorms norms) {
  size_t l = 0;
  while (kFalconLayouts[l] != layout) ++l;
  return &kFalconVariants[l][static_cast<size_t>(norms)];
}

// transformers' FalconConfig, and the RefinedWeb (falcon-40b) and
// RefinedWebModel (falcon-7b) configs of the first checkpoints. The new
// decoder architecture (RefinedWeb's, which named no key for it) groups
// query_key_value by kv head and norms each block of the parallel layer on
// its own, or both with one norm under num_ln_in_parallel_attn 1; without
// it, multi_query (default on) leaves one kv head and parallel_attn
// (default on) one norm feeding both blocks.
void read_falcon_config(const Json& config, const std::string& where, ModelConfig& c) {
  if (json_bool(config, "alibi", where).value_or(false)) {
    fail(GPTQ_ERR_UNSUPPORTED, where, ": falcon with alibi (ALiBi attention biases in place of rotary) is not supported");
  }
  refuse_post_norm_residual(config, where);
  const bool refined_web = c.model_type == "RefinedWeb";
  const bool new_architecture = json_bool(config, "new_decoder_architecture", where).value_or(refined_web);
  const bool parallel = json_bool(config, "parallel_attn", where).value_or(true);
  if (new_architecture) {
    const int64_t default_kv = refined_web ? 1 : c.n_heads;
    c.kv_heads_key = config.contains("num_kv_heads") ? "num_kv_heads" : "n_head_kv";
    c.n_kv_heads = json_int(config, c.kv_heads_key, where).value_or(default_kv);
    const int64_t norms = json_int(config, "num_ln_in_parallel_attn", where).value_or(2);
    if (norms != 1 && norms != 2) {
      fail(GPTQ_ERR_FORMAT, where, ": num_ln_in_parallel_attn must be 1 or 2, not ", norms);
    }
    if (norms == 1 && !parallel) {
      fail(GPTQ_ERR_UNSUPPORTED, where, ": num_ln_in_parallel_attn 1 with parallel_attn off is not supported");
    }
    c.arch = falcon_variant(QkvLayout::KvGrouped, norms == 2 ? FalconNorms::Split : FalconNorms::Shared);
  } else {
    const bool multi_query = read_multi_query(config, where, c);
    c.arch = falcon_variant(multi_query ? QkvLayout::Concatenated : QkvLayout::HeadInterleaved,
                            parallel ? FalconNorms::Shared : FalconNorms::Sequential);
  }
  c.parallel_residual = c.arch->residual == ResidualLayout::Parallel;
}

// The row a falcon config is looked up by; read_falcon_config picks the variant.
constexpr ArchSpec falcon_row(const char* model_type) {
  ArchSpec arch = falcon(QkvLayout::Concatenated, FalconNorms::Shared);
  arch.model_type = model_type;
  arch.read_config = read_falcon_config;
  return arch;
}

// BLOOM: the layout falcon took from it (a fused query_key_value
// interleaved per head, sequential blocks, the head tied to the
// embeddings), with ALiBi instead of rotary, a layer norm on the
// embeddings, biases everywhere and gelu's tanh form.
constexpr ArchSpec bloom() {
  ArchSpec arch = falcon(QkvLayout::HeadInterleaved, FalconNorms::Sequential);
  arch.model_type = "bloom";
  arch.embed_norm = "transformer.word_embeddings_layernorm";
  arch.positions = PositionKind::Alibi;
  arch.bias = {.qkv = true, .o = true, .mlp = true};
  arch.default_activation = "gelu_pytorch_tanh";
  arch.read_config = [](const Json& config, const std::string& where, ModelConfig&) {
    refuse_post_norm_residual(config, where);
  };
  return arch;
}

// GPT-J: one layer norm feeds both blocks of the parallel layer (named as
// both norms: it is applied twice, to the same input), rotary over the
// first rotary_dim dims of each head in interleaved pairs, a biased head.
constexpr ArchSpec kGptj = {
    .model_type = "gptj",
    .embed_tokens = "transformer.wte.weight",
    .final_norm = "transformer.ln_f",
    .lm_head = "lm_head",
    .layer_prefix = "transformer.h.%d.",
    .base_model_prefix = "transformer.",
    .layer = {.attn_norm = "ln_1",
              .q_proj = "attn.q_proj",
              .k_proj = "attn.k_proj",
              .v_proj = "attn.v_proj",
              .o_proj = "attn.out_proj",
              .ffn_norm = "ln_1",
              .up_proj = "mlp.fc_in",
              .down_proj = "mlp.fc_out"},
    .norm = NormKind::LayerNorm,
    .mlp = MlpKind::Plain,
    .rotary = RotaryStyle::Interleaved,
    .residual = ResidualLayout::Parallel,
    .rotary_table_buffer = true,
    .bias = {.mlp = true},
    .default_activation = "gelu_new",
    .default_ffn_multiple = 4,  // n_inner: null
    .sequential_groups = kGptjGroups,
};

// CodeGen (and MOSS, a copy of it): GPT-J's layer with one fused
// qkv_proj laid out for four model-parallel shards, each [q | v | k] of a
// quarter of the heads (mp_num = 4 in transformers' CodeGenAttention).
constexpr ArchSpec codegen(const char* model_type) {
  ArchSpec arch = kGptj;
  arch.model_type = model_type;
  arch.layer.qkv_proj = "attn.qkv_proj";
  arch.layer.q_proj = arch.layer.k_proj = arch.layer.v_proj = nullptr;
  arch.qkv_layout = QkvLayout::CodegenShards;
  arch.sequential_groups = kCodegenGroups;
  return arch;
}

constexpr ArchSpec kArchs[] = {
    llama_like("llama"),
    llama_like("mistral"),
    qwen2(),
    qwen3(),
    gemma(),
    phi3(),
    stablelm(),
    starcoder2(),
    kGpt2,
    kGptBigcode,
    gpt_neo(),
    kOpt,
    kGptNeox,
    kGptj,
    codegen("codegen"),
    codegen("moss"),
    phi(),
    falcon_row("falcon"),
    falcon_row("RefinedWebModel"),
    falcon_row("RefinedWeb"),
    bloom(),
    mixtral(),
};

}  // namespace

const ArchSpec* find_arch(std::string_view model_type) {
  for (const ArchSpec& arch : kArchs) {
    if (model_type == arch.model_type) return &arch;
  }
  return nullptr;
}

const char* known_arch_names() {
  static const std::string names = [] {
    std::string joined;
    for (const ArchSpec& arch : kArchs) joined += (joined.empty() ? "" : ", ") + std::string(arch.model_type);
    return joined;
  }();
  return names.c_str();
}

}  // namespace gptq
