// Contexts and direct evaluation of token ids.
#include "api/abi_sizes.h"
#include "api/dtypes.h"
#include "api/guard.h"
#include "api/handles.h"

using namespace gptq;
using namespace gptq::api;

namespace {

gptq_context_params context_defaults() {
  gptq_context_params p{};
  p.struct_size = sizeof p;
  p.n_ctx = 0;
  p.n_seq_max = 1;
  p.n_batch = 512;
  p.n_threads = 0;
  p.kv_dtype = GPTQ_DTYPE_AUTO;
  return p;
}

}  // namespace

extern "C" {

void gptq_context_default_params(gptq_context_params* params, size_t struct_size) {
  write_defaults(params, struct_size, context_defaults());
}

gptq_status gptq_context_new(const gptq_model* model, const gptq_context_params* params, gptq_context** out_context) {
  return guarded([&] {
    require_arg(out_context, "out_context");
    *out_context = nullptr;
    const Model& m = model_of(model);
    const gptq_context_params p = read_params(params, context_defaults(), kContextParamsMinSize, "params");
    ContextOptions options;
    options.n_ctx = p.n_ctx;
    options.n_seq_max = p.n_seq_max;
    options.n_batch = p.n_batch;
    options.n_threads = p.n_threads;
    options.kv_type = float_type_param(p.kv_dtype, "kv_dtype");
    auto handle = std::make_unique<gptq_context>();
    handle->impl = std::make_unique<Context>(m, resolve_context_options(m, options));
    *out_context = handle.release();
  });
}

void gptq_context_free(gptq_context* context) { delete context; }

int32_t gptq_context_n_ctx(const gptq_context* context) {
  return context != nullptr && context->impl ? context->impl->n_ctx() : 0;
}

int32_t gptq_context_n_seq_max(const gptq_context* context) {
  return context != nullptr && context->impl ? context->impl->n_seq_max() : 0;
}

int32_t gptq_context_n_threads(const gptq_context* context) {
  return context != nullptr && context->impl ? context->impl->n_threads() : 0;
}

gptq_status gptq_context_clear(gptq_context* context, int32_t seq_id) {
  return guarded([&] { context_of(context).clear(seq_id); });
}

int32_t gptq_context_seq_length(const gptq_context* context, int32_t seq_id) {
  if (context == nullptr || !context->impl || seq_id < 0 || seq_id >= context->impl->n_seq_max()) return -1;
  return context->impl->seq_length(seq_id);
}

gptq_status gptq_context_eval(gptq_context* context, int32_t seq_id, const int32_t* tokens, size_t n_tokens,
                              int32_t mode, float* logits, size_t logits_capacity) {
  return guarded([&] {
    Context& ctx = context_of(context);
    if (n_tokens == 0) fail(GPTQ_ERR_INVALID_ARGUMENT, "n_tokens is 0");
    require_arg(tokens, "tokens");
    const size_t vocab = static_cast<size_t>(ctx.model().config().vocab_size);
    size_t needed = 0;
    LogitsMode logits_mode = LogitsMode::None;
    switch (mode) {
      case GPTQ_LOGITS_NONE: break;
      case GPTQ_LOGITS_LAST: logits_mode = LogitsMode::Last; needed = vocab; break;
      case GPTQ_LOGITS_ALL: logits_mode = LogitsMode::All; needed = vocab * n_tokens; break;
      default: fail(GPTQ_ERR_INVALID_ARGUMENT, "mode ", mode, " is not a gptq_logits_mode");
    }
    if (needed > 0) {
      require_arg(logits, "logits");
      if (logits_capacity < needed) {
        fail(GPTQ_ERR_BUFFER_TOO_SMALL, "logits need room for ", needed, " floats; the buffer holds ", logits_capacity);
      }
    }
    ctx.eval(seq_id, std::span<const int32_t>(tokens, n_tokens), logits_mode, logits);
  });
}

}  // extern "C"
