// One forward pass of the decoder over a batch of tokens that may belong to
// several sequences at different positions (batched prefill, batched decode).
// Reads the architecture description; holds scratch buffers sized for the
// largest batch.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/thread_pool.h"
#include "model/model.h"
#include "model/rope.h"
#include "runtime/kv_cache.h"

namespace gptq {

struct Batch {
  const int32_t* tokens = nullptr;
  const int32_t* seq = nullptr;
  const int32_t* pos = nullptr;  // position in its sequence; earlier positions are in the cache
  int32_t n_tokens = 0;
  // Batch rows whose logits are wanted, in output order.
  const int32_t* logit_rows = nullptr;
  int32_t n_logit_rows = 0;
};

// Sees the inputs of a layer's linears at each LayerTap (rows of the batch);
// returning false stops the layer there, since calibration often needs only
// a prefix of it.
using LayerObserver = std::function<bool(LayerTap tap, const float* rows, int64_t n_rows, int64_t row_stride)>;

class ForwardPass {
 public:
  ForwardPass(const Model& model, int32_t max_tokens, int32_t n_ctx);

  // Runs the batch, stores its keys/values in `cache`, and writes
  // n_logit_rows x vocab_size logits. Inputs are trusted (checked by Context).
  void run(ThreadPool& pool, KvCache& cache, const Batch& batch, float* logits);

  // Runs one decoder layer (any weights with the model's shapes) over
  // `hidden` ([n_tokens, hidden_size], updated in place), using layer
  // `cache_layer` of `cache`. Returns false when the observer stopped it.
  bool run_layer(ThreadPool& pool, KvCache& cache, const Batch& batch, const DecoderLayer& layer, int64_t cache_layer,
                 float* hidden, const LayerObserver* observer);

  int32_t max_tokens() const { return max_tokens_; }

 private:
  // Each block reads `hidden` and writes what it adds to the residual stream to `out`.
  bool attention_block(ThreadPool& pool, KvCache& cache, const Batch& batch, const DecoderLayer& layer,
                       int64_t cache_layer, const float* hidden, float* out, const LayerObserver* observer);
  bool mlp_block(ThreadPool& pool, const Batch& batch, const DecoderLayer& layer, const float* hidden, float* out,
                 const LayerObserver* observer);
  // The input of a block: its norm of `hidden` (in normed_), or `hidden` itself when the norms come after.
  const float* block_input(ThreadPool& pool, int64_t rows, const float* hidden, const Norm& norm);
  // hidden += delta, then the norm when it comes after the block.
  void add_to_residual(ThreadPool& pool, int64_t rows, float* hidden, const float* delta, const Norm& norm);
  void project_qkv(ThreadPool& pool, const DecoderLayer& layer, const float* input, int64_t rows);
  void matmul(ThreadPool& pool, const Linear& linear, const float* x, int64_t ldx, int64_t rows, float* y,
              int64_t ldy);
  template <typename RowFn>
  void for_each_row(ThreadPool& pool, int64_t rows, RowFn&& fn);

  const Model& model_;
  const ModelConfig& config_;
  int32_t max_tokens_;
  RopeTable rope_;
  // Scratch, row-major with one row per batch token.
  std::vector<float> hidden_;  // residual stream [T, hidden]
  std::vector<float> normed_;  // [T, hidden]
  std::vector<float> qkv_;     // [T, qkv_dim], fused projections only
  std::vector<float> q_, k_, v_;  // [T, q_dim], [T, kv_dim], [T, kv_dim]
  std::vector<float> attn_;    // [T, q_dim]
  std::vector<float> gate_, up_;  // [T, intermediate]
  std::vector<float> attn_out_, mlp_out_;  // [T, hidden]: each block's addition to the residual
};

}  // namespace gptq
