#include "model/model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "backend/prepare.h"
#include "core/error.h"
#include "core/half.h"
#include "core/log.h"
#include "model/rope.h"
#include "quant/gptq_linear.h"

namespace gptq {
namespace {

FloatType weight_type_of(const TensorView& t) {
  switch (t.dtype) {
    case DType::F32: return FloatType::F32;
    case DType::F16: return FloatType::F16;
    case DType::BF16: return FloatType::BF16;
    default:
      fail(GPTQ_ERR_FORMAT, "tensor '", t.name, "' in '", *t.file, "' has dtype ", dtype_name(t.dtype),
           "; weights must be F32, F16 or BF16");
  }
}

void check_shape(const TensorView& t, std::initializer_list<int64_t> expected) {
  const std::vector<int64_t> want(expected);
  if (t.shape != want) {
    TensorView shape_only;
    shape_only.shape = want;
    fail(GPTQ_ERR_FORMAT, "tensor '", t.name, "' in '", *t.file, "' has shape ", t.shape_string(),
         " but config.json implies ", shape_only.shape_string());
  }
}

// What a layer's prepared forms hold on their device.
int64_t layer_device_bytes(const DecoderLayer& layer, const std::vector<LayerLinear>& linears) {
  int64_t bytes = 0;
  for (const Norm* norm : {&layer.attn_norm, &layer.ffn_norm, &layer.q_norm, &layer.k_norm}) {
    if (norm->prepared) bytes += norm->prepared->device_bytes();
  }
  for (const LayerLinear& entry : linears) {
    if (const PreparedWeights* p = entry.of(layer).prepared()) bytes += p->device_bytes();
  }
  return bytes;
}

// What a GPU may hold of the model without a budget given: 90% of its free
// memory, less a reserve for activations and scratch.
int64_t default_gpu_budget(DeviceId device) {
  int64_t free_bytes = 0, total = 0;
  if (!gpu::memory(device.index, &free_bytes, &total)) return 0;
  return std::max<int64_t>(0, free_bytes / 10 * 9 - (int64_t{1} << 30));
}

}  // namespace

PartCosts Model::part_costs(const LoadOptions& options, FloatType gpu_compute) const {
  const ModelConfig& c = config_;
  const int64_t element = static_cast<int64_t>(float_type_size(gpu_compute));
  auto linear_cost = [&](const Linear& l) {
    return l.is_quantized() ? l.weight_bytes() : l.in_features() * l.out_features() * element;
  };
  PartCosts costs;
  costs.embedding = (embed_tokens_.n_rows + position_embeddings_.n_rows) * c.hidden_size * element;
  costs.head = c.tie_word_embeddings ? 0 : linear_cost(lm_head_);
  const std::vector<LayerLinear> linears = layer_linears(c);
  for (const DecoderLayer& layer : layers_) {
    int64_t bytes = 0;
    for (const LayerLinear& entry : linears) bytes += linear_cost(entry.of(layer));
    costs.layers.push_back(bytes);
  }
  const int64_t n_ctx = options.plan_n_ctx > 0 ? options.plan_n_ctx : c.default_context_length();
  const int64_t per_position = 2 * c.n_kv_heads * c.head_dim * n_ctx * std::max(1, options.plan_n_seq);
  costs.kv_per_layer = per_position * element;
  costs.kv_per_layer_cpu = per_position * 4;
  return costs;
}

const Tokenizer& Model::require_tokenizer() const {
  if (!tokenizer_) {
    fail(GPTQ_ERR_NOT_FOUND, "the model in '", dir_, "' has no tokenizer (tokenizer.json or tokenizer.model)");
  }
  return *tokenizer_;
}

DenseMatrix Model::bind_matrix(const std::string& tensor, int64_t rows, int64_t cols) {
  const TensorView& t = checkpoint_->require(tensor);
  DenseMatrix w;
  w.type = weight_type_of(t);
  check_shape(t, {rows, cols});
  w.data = t.data;
  w.n_rows = rows;
  w.n_cols = cols;
  w.row_stride = cols;
  n_params_ += rows * cols;
  weight_bytes_ += static_cast<int64_t>(t.n_bytes);
  return w;
}

Linear Model::bind_linear(const std::string& module, int64_t in_features, int64_t out_features, bool has_bias,
                          bool stored_transposed) {
  Linear linear;
  if (quant_config_ && has_gptq_tensors(*checkpoint_, module)) {
    // GPTQ packs every linear [in, out] the same way, Conv1D or not.
    linear = Linear::quantized(module, std::make_shared<const QuantizedLinear>(read_quantized_linear(
                                           checkpoint_, module, in_features, out_features, *quant_config_)));
    weight_bytes_ += linear.weight_bytes();
    n_params_ += in_features * out_features;
  } else if (stored_transposed) {
    linear = bind_transposed(module, out_features, in_features);
  } else {
    linear = Linear::dense(module, bind_matrix(module + ".weight", out_features, in_features));
  }
  if (has_bias) {
    const TensorView& bias = checkpoint_->require(module + ".bias");
    check_shape(bias, {out_features});
    linear.set_bias(tensor_to_float(bias));
    n_params_ += out_features;
  }
  return linear;
}

// A Conv1D weight is stored [in, out] (rows x cols transposed); the kernels
// read [out, in], so it is transposed once here, keeping its dtype.
Linear Model::bind_transposed(const std::string& module, int64_t rows, int64_t cols) {
  const TensorView& t = checkpoint_->require(module + ".weight");
  const FloatType type = weight_type_of(t);
  check_shape(t, {cols, rows});
  const size_t element = dtype_size(t.dtype);
  auto storage = std::make_shared<std::vector<uint8_t>>(t.n_bytes);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      std::memcpy(storage->data() + (r * cols + c) * element, t.data + (c * rows + r) * element, element);
    }
  }
  n_params_ += rows * cols;
  weight_bytes_ += static_cast<int64_t>(t.n_bytes);
  const DenseMatrix weights{storage->data(), type, rows, cols, cols};
  return Linear::dense(module, weights, std::move(storage));
}

Norm Model::bind_norm(const std::string& module, int64_t size, bool has_bias) {
  Norm norm;
  const TensorView& weight = checkpoint_->require(module + ".weight");
  check_shape(weight, {size});
  norm.weight = tensor_to_float(weight);
  for (float& w : norm.weight) w += arch().norm_weight_offset;
  n_params_ += size;
  if (has_bias) {
    const TensorView& bias = checkpoint_->require(module + ".bias");
    check_shape(bias, {size});
    norm.bias = tensor_to_float(bias);
    n_params_ += size;
  }
  return norm;
}

void Model::bind_layer(int64_t index, DecoderLayer& layer) {
  const ModelConfig& c = config_;
  const ArchSpec& a = arch();
  const std::string prefix = layer_prefix(index);
  const bool layer_norm = a.norm == NormKind::LayerNorm;
  layer.attn_norm = bind_norm(prefix + a.layer.attn_norm, c.hidden_size, layer_norm);
  // One norm may feed both blocks (GPT-J): bound, and counted, once.
  layer.ffn_norm = std::string_view(a.layer.ffn_norm) == a.layer.attn_norm
                       ? layer.attn_norm
                       : bind_norm(prefix + a.layer.ffn_norm, c.hidden_size, layer_norm);
  // Per-head norms are RMS norms over head_dim, whatever the layer norms are.
  if (a.layer.q_norm != nullptr) layer.q_norm = bind_norm(prefix + a.layer.q_norm, c.head_dim, false);
  if (a.layer.k_norm != nullptr) layer.k_norm = bind_norm(prefix + a.layer.k_norm, c.head_dim, false);
  layer.experts.resize(static_cast<size_t>(c.n_experts));
  for (const LayerLinear& l : layer_linears(c)) {
    l.of(layer) = bind_linear(prefix + l.name, l.in_features, l.out_features, l.bias, a.conv1d_weights);
  }
}

std::string Model::stored_name(std::string_view name) const {
  if (!dropped_prefix_.empty() && name.starts_with(dropped_prefix_)) name.remove_prefix(dropped_prefix_.size());
  return std::string(name);
}

std::string Model::layer_prefix(int64_t layer) const { return stored_name(gptq::layer_prefix(arch(), layer)); }

// The head's module name: the architecture's, or the alias some exporters
// write instead (GPT-NeoX's embed_out saved as lm_head).
std::string Model::lm_head_module() const {
  const ArchSpec& a = arch();
  auto present = [&](const char* module) {
    return checkpoint_->find(std::string(module) + ".weight") != nullptr ||
           checkpoint_->find(std::string(module) + ".qweight") != nullptr;
  };
  if (a.lm_head_alias != nullptr && !present(a.lm_head) && present(a.lm_head_alias)) return a.lm_head_alias;
  return a.lm_head;
}

std::unique_ptr<Model> Model::with_layers(const Model& base, std::vector<DecoderLayer> layers,
                                         std::optional<QuantConfig> quant_config) {
  std::unique_ptr<Model> model(new Model(base));
  model->quant_config_ = std::move(quant_config);
  // Recount what the layers hold; embeddings, norms and lm_head stay as they are.
  const std::vector<LayerLinear> linears = layer_linears(base.config_);
  auto linear_stats = [&](const std::vector<DecoderLayer>& ls, int64_t* params, int64_t* bytes) {
    for (const DecoderLayer& l : ls) {
      for (const LayerLinear& entry : linears) {
        const Linear* lin = &entry.of(l);
        *params += lin->in_features() * lin->out_features();
        *bytes += lin->weight_bytes();
      }
    }
  };
  int64_t old_params = 0, old_bytes = 0, new_params = 0, new_bytes = 0;
  linear_stats(base.layers_, &old_params, &old_bytes);
  linear_stats(layers, &new_params, &new_bytes);
  model->n_params_ += new_params - old_params;
  model->weight_bytes_ += new_bytes - old_bytes;
  // The new layers on the base's devices; embeddings and head keep theirs.
  std::vector<std::pair<DeviceId, std::unique_ptr<WeightPreparer>>> preparers;
  for (size_t l = 0; l < layers.size(); ++l) {
    const DeviceId device = model->placement_.layers[l];
    auto it = std::find_if(preparers.begin(), preparers.end(), [&](const auto& p) { return p.first == device; });
    if (it == preparers.end()) {
      preparers.emplace_back(device, make_preparer(device, model->placement_.gpu_compute));
      it = preparers.end() - 1;
    }
    const int64_t bytes = prepare_layer(layers[l], model->config_, *it->second);
    if (device.is_gpu()) model->gpu_weight_bytes_ += bytes - layer_device_bytes(base.layers_[l], linears);
  }
  for (auto& [device, p] : preparers) p->finish();
  model->layers_ = std::move(layers);
  return model;
}

void Model::prepare_weights(const std::function<void(float)>& progress) {
  std::vector<std::pair<DeviceId, std::unique_ptr<WeightPreparer>>> preparers;
  auto preparer = [&](DeviceId device) -> WeightPreparer& {
    for (auto& [d, p] : preparers) {
      if (d == device) return *p;
    }
    preparers.emplace_back(device, make_preparer(device, placement_.gpu_compute));
    return *preparers.back().second;
  };
  int64_t gpu_bytes = 0;
  auto count = [&](DeviceId device, const PreparedWeights* prepared) {
    if (device.is_gpu() && prepared != nullptr) gpu_bytes += prepared->device_bytes();
  };
  WeightPreparer& embedding = preparer(placement_.embedding);
  embed_tokens_prepared_ = embedding.table(embed_tokens_);
  count(placement_.embedding, embed_tokens_prepared_.get());
  if (position_embeddings_.data != nullptr) {
    position_embeddings_prepared_ = embedding.table(position_embeddings_);
    count(placement_.embedding, position_embeddings_prepared_.get());
  }
  if (!embed_norm_.weight.empty()) {
    embed_norm_.prepared = embedding.norm(embed_norm_);
    count(placement_.embedding, embed_norm_.prepared.get());
  }
  for (size_t l = 0; l < layers_.size(); ++l) {
    const int64_t bytes = prepare_layer(layers_[l], config_, preparer(placement_.layers[l]));
    if (placement_.layers[l].is_gpu()) gpu_bytes += bytes;
    if (progress) progress(static_cast<float>(l + 1) / static_cast<float>(layers_.size()));
  }
  WeightPreparer& head = preparer(placement_.head);
  if (!final_norm_.weight.empty()) {
    final_norm_.prepared = head.norm(final_norm_);
    count(placement_.head, final_norm_.prepared.get());
  }
  lm_head_.set_prepared(head.linear(lm_head_));
  // A tied head on the embedding's GPU shares its matrix, counted once.
  const bool shared = config_.tie_word_embeddings && placement_.head == placement_.embedding;
  if (!shared) count(placement_.head, lm_head_.prepared());
  for (auto& [device, p] : preparers) p->finish();
  gpu_weight_bytes_ = gpu_bytes;
}

std::unique_ptr<Model> Model::load(const std::string& dir, const LoadOptions& options) {
  auto report = [&](float fraction, const char* stage) {
    if (options.progress && !options.progress(fraction, stage)) {
      fail(GPTQ_ERR_CANCELLED, "loading '", dir, "' was cancelled");
    }
  };
  if (!directory_exists(dir)) fail(GPTQ_ERR_NOT_FOUND, "model directory '", dir, "' does not exist");
  // Before any weight is read: a device that is not there fails at once.
  const bool by_memory = options.device.find(',') != std::string::npos || !options.max_memory.empty();
  const std::vector<DeviceBudget> budgets =
      by_memory ? device_budgets(options.device, options.max_memory, default_gpu_budget) : std::vector<DeviceBudget>{};
  const DeviceId device = by_memory ? kCpu : resolve_device(options.device);
  const std::string config_path = join_path(dir, "config.json");
  const Json config_json = load_json_file(config_path);

  std::unique_ptr<Model> model(new Model());
  model->dir_ = dir;
  model->config_ = parse_model_config(config_json, config_path);
  const ModelConfig& c = model->config_;
  const ArchSpec& arch = *c.arch;
  model->quant_config_ = read_quant_config(dir, config_json);
  model->source_config_ = config_json.dump();
  report(0.0f, "load");

  const std::string base_name = model->quant_config_ ? model->quant_config_->model_file_base_name : "";
  model->checkpoint_ = Checkpoint::open(dir, options.use_mmap, base_name, [&](size_t done, size_t total) {
    report(0.5f * static_cast<float>(done) / static_cast<float>(total), "load");
  });

  // A checkpoint of the bare model names its embeddings without the prefix, and so every other tensor.
  const std::string_view embed_tokens = arch.embed_tokens, base = arch.base_model_prefix ? arch.base_model_prefix : "";
  if (!base.empty() && embed_tokens.starts_with(base) && !model->checkpoint_->find(embed_tokens) &&
      model->checkpoint_->find(embed_tokens.substr(base.size()))) {
    model->dropped_prefix_ = base;
  }
  model->embed_tokens_ = model->bind_matrix(model->stored_name(embed_tokens), c.vocab_size, c.hidden_size);
  if (arch.positions == PositionKind::Learned) {
    model->position_embeddings_ = model->bind_matrix(
        model->stored_name(arch.position_embeddings), c.max_position_embeddings + arch.position_offset, c.hidden_size);
  }
  if (arch.embed_norm != nullptr) {
    model->embed_norm_ =
        model->bind_norm(model->stored_name(arch.embed_norm), c.hidden_size, arch.norm == NormKind::LayerNorm);
  }
  // Grown as bound: a config claiming 2^31 layers fails at the first missing one, not in an allocation.
  for (int64_t i = 0; i < c.n_layers; ++i) {
    model->bind_layer(i, model->layers_.emplace_back());
    report(0.5f + 0.3f * static_cast<float>(i + 1) / static_cast<float>(c.n_layers), "load");
  }
  if (c.final_norm) {
    model->final_norm_ =
        model->bind_norm(model->stored_name(arch.final_norm), c.hidden_size, arch.norm == NormKind::LayerNorm);
  }

  if (c.tie_word_embeddings) {
    model->lm_head_ = Linear::dense(arch.lm_head, model->embed_tokens_);
  } else {
    // Some heads carry a bias (GPT-J's).
    const std::string head = model->lm_head_module();
    const bool head_bias = model->checkpoint_->find(head + ".bias") != nullptr;
    model->lm_head_ = model->bind_linear(head, c.hidden_size, c.vocab_size, head_bias, false);
  }
  if (arch.positions == PositionKind::Rotary) {
    model->rope_inv_freq_ = gptq::rope_inverse_frequencies(c);
    if (options.round_rope_to_weight_dtype && arch.rotary_table_buffer) {
      model->rope_table_type_ = model->embed_tokens_.type;
    } else if (options.round_rope_to_weight_dtype) {
      for (float& f : model->rope_inv_freq_) f = round_to_type(f, model->embed_tokens_.type);
    }
  }
  // Gemma multiplies by the factor in the model's dtype, as its original
  // implementation does (sqrt(3072) = 55.4256 becomes 55.5 in bf16), and so
  // do transformers and vLLM.
  if (arch.scale_embeddings) {
    model->embedding_scale_ =
        round_to_type(std::sqrt(static_cast<float>(c.hidden_size)), model->embed_tokens_.type);
  }

  const FloatType gpu_compute = options.gpu_compute.value_or(
      model->embed_tokens_.type == FloatType::BF16 ? FloatType::BF16 : FloatType::F16);
  model->placement_ = by_memory ? plan_by_memory(model->part_costs(options, gpu_compute), budgets, gpu_compute)
                              : plan_placement(c.n_layers, device, options.n_gpu_layers, gpu_compute);
  model->prepare_weights([&](float fraction) { report(0.8f + 0.2f * fraction, "load"); });

  if (Tokenizer::present(dir)) {
    model->tokenizer_ = Tokenizer::load(dir, config_json);
    if (model->tokenizer_->vocab_size() > c.vocab_size) {
      fail(GPTQ_ERR_FORMAT, "the tokenizer '", model->tokenizer_->file(), "' has ", model->tokenizer_->vocab_size(),
           " tokens but the model only ", c.vocab_size, " (vocab_size in ", config_path, ")");
    }
  } else {
    log_warn("'", dir, "' has no tokenizer.json or tokenizer.model: only token ids can be used");
  }
  report(1.0f, "load");
  log_info("loaded ", c.model_type, " model from '", dir, "': ", c.n_layers, " layers, hidden ", c.hidden_size,
           ", vocab ", c.vocab_size, ", ", model->n_params_, " parameters");
  return model;
}

}  // namespace gptq
