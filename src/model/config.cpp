#include "model/config.h"

#include <cmath>
#include <limits>
#include <span>

#include "core/error.h"

namespace gptq {
namespace {

// The names configs use for one setting: transformers' own first, then the
// spellings of families that predate it (their attribute_map).
constexpr const char* kHiddenSizeKeys[] = {"hidden_size", "n_embd", "n_embed"};
constexpr const char* kLayerCountKeys[] = {"num_hidden_layers", "n_layer", "num_layers"};
constexpr const char* kHeadCountKeys[] = {"num_attention_heads", "n_head", "num_heads"};
constexpr const char* kIntermediateKeys[] = {"intermediate_size", "n_inner", "ffn_dim", "ffn_hidden_size"};
constexpr const char* kMaxPositionKeys[] = {"max_position_embeddings", "n_positions"};
// gemma's hidden_activation overrides its hidden_act (which early releases set to exact gelu).
constexpr const char* kActivationKeys[] = {"hidden_activation", "hidden_act", "activation_function", "activation"};
constexpr const char* kNormEpsKeys[] = {"rms_norm_eps", "layer_norm_eps", "layer_norm_epsilon", "norm_epsilon"};

// The first of `keys` the config sets (not null), else the canonical one,
// so that messages about a missing value name it.
const char* key_in(const Json& config, std::span<const char* const> keys) {
  for (const char* key : keys) {
    const auto it = config.find(key);
    if (it != config.end() && !it->is_null()) return key;
  }
  return keys.front();
}

// Sizes reach callers as int32 (gptq_model_info), and products of two of
// them must not overflow int64.
constexpr int64_t kMaxSize = std::numeric_limits<int32_t>::max();

int64_t require_size(int64_t value, const char* key, const std::string& where) {
  if (value <= 0 || value > kMaxSize) {
    fail(GPTQ_ERR_FORMAT, where, ": '", key, "' must be positive and at most ", kMaxSize, ", not ", value);
  }
  return value;
}

int64_t require_positive(const Json& config, const char* key, const std::string& where) {
  const auto value = json_int(config, key, where);
  if (!value) fail(GPTQ_ERR_FORMAT, where, ": '", key, "' is missing");
  return require_size(*value, key, where);
}

Activation parse_activation(const std::string& name, const std::string& where) {
  if (name == "silu" || name == "swish") return Activation::Silu;
  if (name == "gelu") return Activation::GeluErf;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast") return Activation::GeluTanh;
  if (name == "relu") return Activation::Relu;
  fail(GPTQ_ERR_UNSUPPORTED, where, ": hidden_act '", name, "' is not supported (silu, gelu, gelu_new, relu)");
}

// First id of an int-or-list field such as eos_token_id; -1 for none or
// for an id no int32 vocabulary holds.
int64_t first_token_id(const Json& config, const char* key, const std::string& where) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return -1;
  int64_t id = -1;
  if (it->is_array()) {
    if (it->empty()) return -1;
    if (!(*it)[0].is_number_integer()) fail(GPTQ_ERR_FORMAT, where, ": '", key, "' holds a non-integer");
    id = (*it)[0].get<int64_t>();
  } else {
    id = json_int(config, key, where).value_or(-1);
  }
  return id >= 0 && id <= kMaxSize ? id : -1;
}

void parse_rope(const Json& config, const std::string& where, RopeConfig& rope) {
  // transformers 5.x nests everything under rope_parameters; older configs
  // keep rope_theta at the top and scaling under rope_scaling.
  const Json* params = nullptr;
  if (auto it = config.find("rope_parameters"); it != config.end() && it->is_object()) params = &*it;
  const Json* scaling = nullptr;
  if (auto it = config.find("rope_scaling"); it != config.end() && it->is_object()) scaling = &*it;

  if (auto theta = json_number(config, "rope_theta", where)) rope.theta = *theta;
  if (auto theta = json_number(config, "rotary_emb_base", where)) rope.theta = *theta;
  if (auto pct = json_number(config, "rotary_pct", where)) rope.partial_rotary_factor = *pct;
  if (auto pct = json_number(config, "partial_rotary_factor", where)) rope.partial_rotary_factor = *pct;

  for (const Json* section : {scaling, params}) {
    if (section == nullptr) continue;
    const std::string section_where = where + (section == params ? " rope_parameters" : " rope_scaling");
    if (auto theta = json_number(*section, "rope_theta", section_where)) rope.theta = *theta;
    if (auto pct = json_number(*section, "partial_rotary_factor", section_where)) rope.partial_rotary_factor = *pct;
    if (auto type = json_string(*section, "rope_type", section_where)) rope.type = *type;
    else if (auto legacy = json_string(*section, "type", section_where)) rope.type = *legacy;
    if (auto f = json_number(*section, "factor", section_where)) rope.factor = *f;
    if (auto f = json_number(*section, "low_freq_factor", section_where)) rope.low_freq_factor = *f;
    if (auto f = json_number(*section, "high_freq_factor", section_where)) rope.high_freq_factor = *f;
    if (auto n = json_int(*section, "original_max_position_embeddings", section_where)) rope.original_max_position = *n;
  }
  if (rope.type != "default" && rope.type != "linear" && rope.type != "llama3") {
    fail(GPTQ_ERR_UNSUPPORTED, where, ": rope type '", rope.type, "' is not supported (default, linear, llama3)");
  }
  if (!(rope.theta > 0)) fail(GPTQ_ERR_FORMAT, where, ": rope_theta must be positive");
  if (!(rope.factor > 0)) fail(GPTQ_ERR_FORMAT, where, ": rope scaling factor must be positive");
  if (!(rope.partial_rotary_factor > 0 && rope.partial_rotary_factor <= 1)) {
    fail(GPTQ_ERR_FORMAT, where, ": partial_rotary_factor must lie in (0, 1]");
  }
  if (rope.type == "llama3") {
    if (rope.original_max_position <= 0) {
      fail(GPTQ_ERR_FORMAT, where, ": llama3 rope scaling needs original_max_position_embeddings");
    }
    if (!(rope.high_freq_factor > rope.low_freq_factor)) {
      fail(GPTQ_ERR_FORMAT, where, ": llama3 rope scaling needs high_freq_factor > low_freq_factor");
    }
  }
}

// Biases, residual and norm placement, scales: what varies within a family.
void parse_layout(const Json& config, const std::string& where, ModelConfig& c) {
  const ArchSpec& arch = *c.arch;
  const BiasRule& bias = arch.bias;
  auto flag = [&](const char* key, bool fallback) {
    return key != nullptr ? json_bool(config, key, where).value_or(fallback) : fallback;
  };
  c.attention_bias = flag(bias.qkv_key, bias.qkv);
  c.o_proj_bias = flag(bias.o_key, bias.o);
  c.mlp_bias = flag(bias.mlp_key, bias.mlp);

  // A config may turn off the parallel layout its architecture defaults to
  // (some gpt-neox models do); elsewhere it names a variant not described here.
  const bool parallel_by_default = arch.residual == ResidualLayout::Parallel;
  c.parallel_residual = json_bool(config, "use_parallel_residual", where).value_or(parallel_by_default);
  if (c.parallel_residual && !parallel_by_default) {
    fail(GPTQ_ERR_UNSUPPORTED, where, ": use_parallel_residual is not supported for ", c.model_type);
  }
  c.norm_before = json_bool(config, "do_layer_norm_before", where).value_or(true);
  c.final_norm = c.norm_before && !json_bool(config, "_remove_final_layer_norm", where).value_or(false);
  if (c.parallel_residual && !c.norm_before) {
    fail(GPTQ_ERR_UNSUPPORTED, where, ": a parallel residual with the norms after each block is not supported");
  }
  const bool scaled = json_bool(config, "scale_attn_weights", where).value_or(true);
  c.attention_scale = scaled ? 1.0 / std::sqrt(static_cast<double>(c.head_dim)) : 1.0;

  // Settings that would change the computation in ways not implemented here.
  if (json_bool(config, "scale_attn_by_inverse_layer_idx", where).value_or(false)) {
    fail(GPTQ_ERR_UNSUPPORTED, where, ": scale_attn_by_inverse_layer_idx is not supported");
  }
  if (auto dim = json_int(config, "word_embed_proj_dim", where); dim && *dim != c.hidden_size) {
    fail(GPTQ_ERR_UNSUPPORTED, where, ": word_embed_proj_dim ", *dim, " differs from hidden_size ", c.hidden_size,
         " (OPT's project_in/project_out are not supported)");
  }
  if (json_bool(config, "qk_layernorm", where).value_or(false)) {
    fail(GPTQ_ERR_UNSUPPORTED, where, ": per-head q/k layer norms (qk_layernorm) are not supported");
  }
  if (!json_bool(config, "layer_norm_elementwise_affine", where).value_or(true)) {
    fail(GPTQ_ERR_UNSUPPORTED, where, ": layer norms without weights (layer_norm_elementwise_affine) are not supported");
  }
}

// After the family's keys: they may set the kv heads and the fused layout.
void check_heads(const ModelConfig& c, const std::string& where) {
  if (c.n_kv_heads <= 0 || c.n_heads % c.n_kv_heads != 0) {
    fail(GPTQ_ERR_FORMAT, where, ": ", c.kv_heads_key, " (", c.n_kv_heads, ") must divide the ", c.n_heads,
         " attention heads");
  }
  const QkvLayout layout = c.arch->qkv_layout;
  if (layout == QkvLayout::HeadInterleaved && c.n_kv_heads != c.n_heads) {
    fail(GPTQ_ERR_FORMAT, where, ": ", c.model_type, " interleaves q, k and v per head, so ", c.kv_heads_key, " (",
         c.n_kv_heads, ") must equal the ", c.n_heads, " attention heads");
  }
  if (layout == QkvLayout::CodegenShards && (c.n_heads % 4 != 0 || c.n_kv_heads != c.n_heads)) {
    fail(GPTQ_ERR_FORMAT, where, ": ", c.model_type, "'s qkv_proj holds four shards of heads, so n_head (", c.n_heads,
         ") must be a multiple of 4 (and ", c.kv_heads_key, " equal to it)");
  }
  if (!c.layer_windows.empty() && static_cast<int64_t>(c.layer_windows.size()) != c.n_layers) {
    fail(GPTQ_ERR_INTERNAL, where, ": ", c.layer_windows.size(), " layer windows for ", c.n_layers, " layers");
  }
}

}  // namespace

const char* activation_name(Activation activation) {
  switch (activation) {
    case Activation::Silu: return "silu";
    case Activation::GeluErf: return "gelu";
    case Activation::GeluTanh: return "gelu_tanh";
    case Activation::Relu: return "relu";
  }
  return "?";
}

ModelConfig parse_model_config(const Json& config, const std::string& where) {
  if (!config.is_object()) fail(GPTQ_ERR_FORMAT, where, " is not a JSON object");
  ModelConfig c;
  const auto model_type = json_string(config, "model_type", where);
  if (!model_type) fail(GPTQ_ERR_FORMAT, where, ": 'model_type' is missing");
  c.model_type = *model_type;
  c.arch = find_arch(c.model_type);
  if (c.arch == nullptr) {
    fail(GPTQ_ERR_UNSUPPORTED, where, ": model_type '", c.model_type, "' is not supported (supported: ",
         known_arch_names(), ")");
  }

  const ArchSpec& arch = *c.arch;
  c.vocab_size = require_positive(config, "vocab_size", where);
  c.hidden_size = require_positive(config, key_in(config, kHiddenSizeKeys), where);
  const char* ffn_key = key_in(config, kIntermediateKeys);
  c.intermediate_size = arch.default_ffn_multiple > 0 && !json_int(config, ffn_key, where)
                            ? arch.default_ffn_multiple * c.hidden_size
                            : require_positive(config, ffn_key, where);
  c.n_layers = require_positive(config, key_in(config, kLayerCountKeys), where);
  c.n_heads = require_positive(config, key_in(config, kHeadCountKeys), where);
  c.n_kv_heads = json_int(config, "num_key_value_heads", where).value_or(c.n_heads);
  if (auto head_dim = json_int(config, "head_dim", where)) {
    c.head_dim = *head_dim;
  } else {
    if (c.hidden_size % c.n_heads != 0) {
      fail(GPTQ_ERR_FORMAT, where, ": hidden_size ", c.hidden_size, " is not a multiple of num_attention_heads ", c.n_heads);
    }
    c.head_dim = c.hidden_size / c.n_heads;
  }
  require_size(c.head_dim, "head_dim", where);
  if (c.head_dim % 2 != 0) fail(GPTQ_ERR_FORMAT, where, ": head_dim must be even, not ", c.head_dim);
  const char* max_position_key = key_in(config, kMaxPositionKeys);
  c.max_position_embeddings = require_size(json_int(config, max_position_key, where).value_or(2048), max_position_key, where);

  // torch's LayerNorm defaults to 1e-5 (OPT's config names no epsilon).
  const double default_eps = arch.norm == NormKind::LayerNorm ? 1e-5 : 1e-6;
  c.norm_eps = json_number(config, key_in(config, kNormEpsKeys), where).value_or(default_eps);
  c.activation = parse_activation(
      json_string(config, key_in(config, kActivationKeys), where).value_or(arch.default_activation), where);
  c.tie_word_embeddings = json_bool(config, "tie_word_embeddings", where).value_or(arch.default_tied_embeddings);
  parse_layout(config, where, c);
  const bool sliding_enabled = json_bool(config, "use_sliding_window", where).value_or(true);
  if (sliding_enabled) c.sliding_window = json_int(config, "sliding_window", where).value_or(0);
  if (c.sliding_window < 0) fail(GPTQ_ERR_FORMAT, where, ": sliding_window must not be negative");

  c.rope.partial_rotary_factor = arch.default_rotary_fraction;
  parse_rope(config, where, c.rope);
  // GPT-J names its rotary dims, not their fraction of a head.
  if (auto dim = json_int(config, "rotary_dim", where)) {
    if (*dim <= 0 || *dim > c.head_dim || *dim % 2 != 0) {
      fail(GPTQ_ERR_FORMAT, where, ": rotary_dim ", *dim, " must be even and within head_dim ", c.head_dim);
    }
    c.rope.partial_rotary_factor = static_cast<double>(*dim) / static_cast<double>(c.head_dim);
  }
  c.dtype = json_string(config, "dtype", where).value_or(json_string(config, "torch_dtype", where).value_or(""));
  c.bos_token_id = first_token_id(config, "bos_token_id", where);
  c.eos_token_id = first_token_id(config, "eos_token_id", where);
  if (arch.read_config != nullptr) arch.read_config(config, where, c);
  check_heads(c, where);
  return c;
}

}  // namespace gptq
