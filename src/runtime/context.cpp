#include "runtime/context.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace gptq {

ContextOptions resolve_context_options(const Model& model, ContextOptions o) {
  if (o.n_ctx < 0 || o.n_seq_max < 0 || o.n_batch < 0 || o.n_threads < 0) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, "context parameters must not be negative (n_ctx ", o.n_ctx, ", n_seq_max ",
         o.n_seq_max, ", n_batch ", o.n_batch, ", n_threads ", o.n_threads, ")");
  }
  if (o.n_ctx == 0) o.n_ctx = static_cast<int32_t>(model.config().default_context_length());
  if (o.n_seq_max == 0) o.n_seq_max = 1;
  if (o.n_batch == 0) o.n_batch = 512;
  if (o.n_threads == 0) o.n_threads = default_thread_count();
  if (o.n_threads > 1024) fail(GPTQ_ERR_INVALID_ARGUMENT, "n_threads ", o.n_threads, " is more than 1024");
  if (o.n_seq_max > 4096) fail(GPTQ_ERR_INVALID_ARGUMENT, "n_seq_max ", o.n_seq_max, " is more than 4096");
  if (o.n_ctx > 1 << 22) fail(GPTQ_ERR_INVALID_ARGUMENT, "n_ctx ", o.n_ctx, " is more than 4194304");
  return o;
}

namespace {

BackendSet make_backends(const Model& model, const ContextOptions& options, ThreadPool& pool) {
  const Placement& placement = model.placement();
  BackendOptions backend_options;
  backend_options.pool = &pool;
  backend_options.model = &model;
  backend_options.gpu_compute = placement.gpu_compute;
  backend_options.gpu_kv = options.kv_type.value_or(placement.gpu_compute);
  backend_options.max_tokens = options.n_batch;
  std::vector<DeviceId> devices{placement.embedding, placement.head};
  devices.insert(devices.end(), placement.layers.begin(), placement.layers.end());
  BackendSet backends;
  std::vector<DeviceId> made;
  for (DeviceId device : devices) {
    if (std::find(made.begin(), made.end(), device) != made.end()) continue;
    backends.add(make_backend(device, backend_options));
    made.push_back(device);
  }
  return backends;
}

}  // namespace

Context::Context(const Model& model, const ContextOptions& options)
    : model_(model),
      pool_(options.n_threads),
      backends_(make_backends(model, options, pool_)),
      cache_(make_kv_cache(model.config(), model.config().n_layers, options.n_ctx, options.n_seq_max,
                           [&](int64_t l) -> Backend& { return backends_.on(model.placement().layers[l]); })),
      forward_(model, backends_, options.n_batch, options.n_ctx) {
  batch_tokens_.resize(options.n_batch);
  batch_seq_.resize(options.n_batch);
  batch_pos_.resize(options.n_batch);
  batch_logit_rows_.resize(options.n_batch);
  batch_targets_.resize(options.n_batch);
}

void Context::clear(int32_t seq) {
  if (seq == -1) {
    for (int32_t s = 0; s < cache_.n_seq(); ++s) cache_.set_length(s, 0);
    return;
  }
  if (seq < 0 || seq >= cache_.n_seq()) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, "sequence id ", seq, " is outside [0, ", cache_.n_seq(), ")");
  }
  cache_.set_length(seq, 0);
}

void Context::copy_positions(int32_t from, int32_t to, int32_t begin, int32_t end) {
  check_room(from, 0);
  check_room(to, 0);
  if (begin < 0 || begin > end || begin > cache_.length(to) || end > cache_.length(from)) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, "cannot copy positions [", begin, ", ", end, ") of sequence ", from, " (",
         cache_.length(from), " held) to sequence ", to, " (", cache_.length(to), " held)");
  }
  if (begin < end && from != to) {
    for (int64_t l = 0; l < cache_.n_layers(); ++l) {
      backends_.on(model_.placement().layers[l]).copy_kv(cache_.layer(l), model_.config().head_dim, from, to, begin, end);
    }
  }
  cache_.set_length(to, end);
}

void Context::check_room(int32_t seq, size_t n_tokens) const {
  if (seq < 0 || seq >= cache_.n_seq()) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, "sequence id ", seq, " is outside [0, ", cache_.n_seq(), ")");
  }
  if (n_tokens > static_cast<size_t>(cache_.n_ctx() - cache_.length(seq))) {
    fail(GPTQ_ERR_CONTEXT_FULL, "sequence ", seq, " holds ", cache_.length(seq), " of ", cache_.n_ctx(),
         " tokens; ", n_tokens, " more do not fit (raise n_ctx)");
  }
}

void Context::check_tokens(std::span<const int32_t> tokens) const {
  const int64_t vocab = model_.config().vocab_size;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= vocab) {
      fail(GPTQ_ERR_INVALID_ARGUMENT, "token ", tokens[i], " at index ", i, " is outside the vocabulary [0, ", vocab, ")");
    }
  }
}

void Context::eval(int32_t seq, std::span<const int32_t> tokens, LogitsMode mode, float* logits) {
  check_room(seq, tokens.size());
  check_tokens(tokens);
  const int64_t vocab = model_.config().vocab_size;
  const int32_t n_batch = forward_.max_tokens();
  for (size_t start = 0; start < tokens.size(); start += n_batch) {
    const int32_t n = static_cast<int32_t>(std::min<size_t>(n_batch, tokens.size() - start));
    const bool last_chunk = start + n == tokens.size();
    int32_t n_rows = 0;
    const int32_t base_pos = cache_.length(seq);
    for (int32_t i = 0; i < n; ++i) {
      batch_tokens_[i] = tokens[start + i];
      batch_seq_[i] = seq;
      batch_pos_[i] = base_pos + i;
      if (mode == LogitsMode::All || (mode == LogitsMode::Last && last_chunk && i == n - 1)) {
        batch_logit_rows_[n_rows++] = i;
      }
    }
    Batch batch{batch_tokens_.data(), batch_seq_.data(), batch_pos_.data(), n, batch_logit_rows_.data(), n_rows};
    forward_.run(cache_, batch);
    cache_.set_length(seq, base_pos + n);
    if (n_rows > 0) forward_.copy_logits(n_rows, mode == LogitsMode::All ? logits + start * vocab : logits);
  }
}

void Context::eval_sequences(std::span<const SequenceInput> inputs, float* last_logits) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].tokens.empty()) fail(GPTQ_ERR_INVALID_ARGUMENT, "sequence input ", i, " holds no tokens");
    check_room(inputs[i].seq, inputs[i].tokens.size());
    check_tokens(inputs[i].tokens);
    for (size_t j = 0; j < i; ++j) {
      if (inputs[j].seq == inputs[i].seq) fail(GPTQ_ERR_INVALID_ARGUMENT, "sequence ", inputs[i].seq, " appears twice");
    }
  }
  const int64_t vocab = model_.config().vocab_size;
  const int32_t n_batch = forward_.max_tokens();
  batch_logits_.resize(static_cast<size_t>(n_batch) * vocab);
  std::vector<int32_t> row_owner(n_batch);  // which input a logit row belongs to
  size_t input = 0, offset = 0;
  while (input < inputs.size()) {
    int32_t n = 0, n_rows = 0;
    while (n < n_batch && input < inputs.size()) {
      const SequenceInput& in = inputs[input];
      const int32_t take = static_cast<int32_t>(std::min<size_t>(n_batch - n, in.tokens.size() - offset));
      const int32_t base_pos = cache_.length(in.seq);
      for (int32_t i = 0; i < take; ++i) {
        batch_tokens_[n + i] = in.tokens[offset + i];
        batch_seq_[n + i] = in.seq;
        batch_pos_[n + i] = base_pos + i;
      }
      cache_.set_length(in.seq, base_pos + take);
      n += take;
      offset += take;
      if (offset == in.tokens.size()) {
        row_owner[n_rows] = static_cast<int32_t>(input);
        batch_logit_rows_[n_rows++] = n - 1;
        ++input;
        offset = 0;
      }
    }
    Batch batch{batch_tokens_.data(), batch_seq_.data(), batch_pos_.data(), n, batch_logit_rows_.data(), n_rows};
    forward_.run(cache_, batch);
    if (n_rows > 0) forward_.copy_logits(n_rows, batch_logits_.data());
    for (int32_t r = 0; r < n_rows; ++r) {
      std::memcpy(last_logits + row_owner[r] * vocab, batch_logits_.data() + r * vocab, vocab * sizeof(float));
    }
  }
}

void Context::score(int32_t seq, std::span<const int32_t> tokens, double* nll) {
  check_room(seq, tokens.size());
  check_tokens(tokens);
  const int32_t n_batch = forward_.max_tokens();
  for (size_t start = 0; start < tokens.size(); start += n_batch) {
    const int32_t n = static_cast<int32_t>(std::min<size_t>(n_batch, tokens.size() - start));
    const int32_t base_pos = cache_.length(seq);
    int32_t n_rows = 0;
    for (int32_t i = 0; i < n; ++i) {
      batch_tokens_[i] = tokens[start + i];
      batch_seq_[i] = seq;
      batch_pos_[i] = base_pos + i;
      if (start + i + 1 < tokens.size()) {
        batch_logit_rows_[n_rows] = i;
        batch_targets_[n_rows++] = tokens[start + i + 1];
      }
    }
    Batch batch{batch_tokens_.data(), batch_seq_.data(), batch_pos_.data(), n, batch_logit_rows_.data(), n_rows,
                batch_targets_.data()};
    forward_.run(cache_, batch);
    cache_.set_length(seq, base_pos + n);
    if (n_rows > 0) forward_.score_logits(n_rows, nll + start);
  }
}

}  // namespace gptq
