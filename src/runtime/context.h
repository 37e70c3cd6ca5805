// What one user of a model owns: the KV cache of its sequences, scratch
// buffers and worker threads. Used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/thread_pool.h"
#include "model/model.h"
#include "runtime/forward.h"
#include "runtime/kv_cache.h"

namespace gptq {

struct ContextOptions {
  int32_t n_ctx = 0;      // 0: the model's max_position_embeddings, at most 4096
  int32_t n_seq_max = 1;
  int32_t n_batch = 512;
  int32_t n_threads = 0;  // 0: physical cores
  // The KV cache of GPU layers (null: their compute type); CPU layers keep fp32.
  std::optional<FloatType> kv_type;
};

enum class LogitsMode { None, Last, All };

// Tokens to append to one sequence.
struct SequenceInput {
  int32_t seq = 0;
  std::span<const int32_t> tokens;
};

class Context {
 public:
  Context(const Model& model, const ContextOptions& options);

  const Model& model() const { return model_; }
  int32_t n_ctx() const { return cache_.n_ctx(); }
  int32_t n_seq_max() const { return cache_.n_seq(); }
  int32_t n_batch() const { return forward_.max_tokens(); }
  int32_t n_threads() const { return pool_.size(); }
  ThreadPool& pool() { return pool_; }

  void clear(int32_t seq);  // -1: all
  int32_t seq_length(int32_t seq) const { return cache_.length(seq); }

  // Makes sequence `to` hold the first `end` positions of `from`, copying
  // only [begin, end): the caller knows `to` already holds the same first
  // `begin` positions (beam search: the beams' shared prefix).
  void copy_positions(int32_t from, int32_t to, int32_t begin, int32_t end);

  // Appends tokens to one sequence; writes logits as `mode` asks
  // (vocab_size floats for Last, n x vocab_size for All).
  void eval(int32_t seq, std::span<const int32_t> tokens, LogitsMode mode, float* logits);

  // Appends tokens to several sequences at once, packing them into shared
  // batches; writes the logits of each input's last token, in input order
  // (inputs.size() x vocab_size). Every input needs at least one token.
  void eval_sequences(std::span<const SequenceInput> inputs, float* last_logits);

  // Appends tokens to one sequence and writes nll[i] = -log p(tokens[i + 1])
  // for i < tokens.size() - 1, computed where the logits are (perplexity).
  void score(int32_t seq, std::span<const int32_t> tokens, double* nll);

 private:
  void check_room(int32_t seq, size_t n_tokens) const;
  void check_tokens(std::span<const int32_t> tokens) const;

  const Model& model_;
  ThreadPool pool_;
  BackendSet backends_;
  KvCache cache_;
  ForwardPass forward_;
  std::vector<int32_t> batch_tokens_, batch_seq_, batch_pos_, batch_logit_rows_, batch_targets_;
  std::vector<float> batch_logits_;
};

ContextOptions resolve_context_options(const Model& model, ContextOptions options);

}  // namespace gptq
