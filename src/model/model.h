// A loaded model: configuration, weights (views into the mapped checkpoint)
// and tokenizer. Immutable after load, so any number of contexts on any
// number of threads can share it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend/placement.h"
#include "io/checkpoint.h"
#include "core/dense_matrix.h"
#include "model/config.h"
#include "model/layer.h"
#include "quant/quant_config.h"
#include "quant/quantized_linear.h"
#include "tokenizer/tokenizer.h"

namespace gptq {

struct LoadOptions {
  bool use_mmap = true;
  // Round the rotary inverse frequencies to the weights' fp16/bf16 type, as
  // transformers ends up doing for a model it holds in that dtype (the
  // frequencies are a buffer that the cast rounds; for GPT-J and CodeGen,
  // the cos/sin table is, and it is rounded instead). Off: exact
  // frequencies, as transformers in fp32, vLLM and llama.cpp compute them.
  bool round_rope_to_weight_dtype = false;
  // Called with (fraction, stage); returns false to cancel.
  std::function<bool(float, const char*)> progress;
  // Where the model runs (resolve_device's spelling), how many decoder
  // layers go on a GPU (-1: all), and the GPU parts' activation type (null:
  // bf16 for bf16 checkpoints, fp16 otherwise).
  std::string device = "cpu";
  int32_t n_gpu_layers = -1;
  std::optional<FloatType> gpu_compute;
  // A device list ("cuda:0,cuda:1,cpu") or memory budgets
  // ("cuda:0=30GiB,cpu=64GiB") place whole layers by memory instead
  // (placement.h's plan_by_memory), with KV caches sized for contexts of
  // plan_n_ctx positions (0: the default context's) x plan_n_seq sequences.
  std::string max_memory;
  int32_t plan_n_ctx = 0;
  int32_t plan_n_seq = 1;
};

class Model {
 public:
  static std::unique_ptr<Model> load(const std::string& dir, const LoadOptions& options);
  // A model sharing `base`'s checkpoint, tokenizer, embeddings and norms,
  // with new decoder layers (quantized ones, from the quantizer).
  static std::unique_ptr<Model> with_layers(const Model& base, std::vector<DecoderLayer> layers,
                                            std::optional<QuantConfig> quant_config);

  const std::string& dir() const { return dir_; }
  const ModelConfig& config() const { return config_; }
  const ArchSpec& arch() const { return *config_.arch; }
  // Set for a GPTQ checkpoint.
  const std::optional<QuantConfig>& quant_config() const { return quant_config_; }
  // Null when the checkpoint ships no tokenizer (the test fixtures).
  const Tokenizer* tokenizer() const { return tokenizer_.get(); }
  const Tokenizer& require_tokenizer() const;

  const Checkpoint& checkpoint() const { return *checkpoint_; }
  // A tensor or module name as this checkpoint spells it: the table's name,
  // less the base-model prefix when the checkpoint was saved without it.
  std::string stored_name(std::string_view name) const;
  // The stored prefix of layer `layer`'s modules: "model.layers.3.".
  std::string layer_prefix(int64_t layer) const;
  const DenseMatrix& embed_tokens() const { return embed_tokens_; }
  // Learned position table [max_position_embeddings + offset, hidden]; data is null without one.
  const DenseMatrix& position_embeddings() const { return position_embeddings_; }
  // Their device forms where the embedding's device needs them (null on the CPU).
  const PreparedWeights* embed_tokens_prepared() const { return embed_tokens_prepared_.get(); }
  const PreparedWeights* position_embeddings_prepared() const { return position_embeddings_prepared_.get(); }
  const std::vector<DecoderLayer>& layers() const { return layers_; }
  const Norm& embed_norm() const { return embed_norm_; }  // empty unless the architecture norms its embeddings
  const Norm& final_norm() const { return final_norm_; }  // empty when config().final_norm is off
  const Linear& lm_head() const { return lm_head_; }
  const std::vector<float>& rope_inverse_frequencies() const { return rope_inv_freq_; }
  // What the rotary cos/sin table is rounded to (F32: not rounded).
  FloatType rope_table_type() const { return rope_table_type_; }
  // Token embeddings are multiplied by it (gemma: sqrt(hidden_size) in the weights' dtype).
  float embedding_scale() const { return embedding_scale_; }
  FloatType weight_type() const { return embed_tokens_.type; }

  int64_t parameter_count() const { return n_params_; }
  int64_t weight_bytes() const { return weight_bytes_; }

  const Placement& placement() const { return placement_; }
  // Weight bytes held on GPUs.
  int64_t gpu_weight_bytes() const { return gpu_weight_bytes_; }

 private:
  Model() = default;
  void bind_layer(int64_t index, DecoderLayer& layer);
  Linear bind_linear(const std::string& module, int64_t in_features, int64_t out_features, bool has_bias,
                     bool stored_transposed);
  Linear bind_transposed(const std::string& module, int64_t rows, int64_t cols);
  // What each part costs on a device, for planning by memory.
  PartCosts part_costs(const LoadOptions& options, FloatType gpu_compute) const;
  // Makes every part's device form for the placement.
  void prepare_weights(const std::function<void(float)>& progress);
  Norm bind_norm(const std::string& module, int64_t size, bool has_bias);
  DenseMatrix bind_matrix(const std::string& tensor, int64_t rows, int64_t cols);
  std::string lm_head_module() const;

  std::string dir_;
  ModelConfig config_;
  std::optional<QuantConfig> quant_config_;
  std::shared_ptr<const Checkpoint> checkpoint_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  DenseMatrix embed_tokens_;
  DenseMatrix position_embeddings_;
  std::shared_ptr<const PreparedWeights> embed_tokens_prepared_, position_embeddings_prepared_;
  std::vector<DecoderLayer> layers_;
  Norm embed_norm_, final_norm_;
  Linear lm_head_;
  std::vector<float> rope_inv_freq_;
  FloatType rope_table_type_ = FloatType::F32;
  float embedding_scale_ = 1.0f;
  int64_t n_params_ = 0;
  int64_t weight_bytes_ = 0;
  Placement placement_;
  int64_t gpu_weight_bytes_ = 0;
  std::string source_config_;  // config.json as read, for saving
  std::string dropped_prefix_;  // the base-model prefix this checkpoint's names leave out, if they do
 public:
  const std::string& source_config_json() const { return source_config_; }
};

}  // namespace gptq
