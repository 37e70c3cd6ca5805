// Generation through the C API: parameters in, a gptq_generation out.
#include <limits>
#include <string>
#include <vector>

#include "api/abi_sizes.h"
#include "api/guard.h"
#include "api/handles.h"

using namespace gptq;
using namespace gptq::api;

namespace {

gptq_generate_params generate_defaults() {
  gptq_generate_params p{};
  p.struct_size = sizeof p;
  p.max_new_tokens = 128;
  p.temperature = 0.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.repetition_penalty = 1.0f;
  p.repetition_last_n = 0;
  p.seed = 0;
  p.add_special = 1;
  p.stop_on_eos = 1;
  p.num_beams = 1;
  p.length_penalty = 1.0f;
  p.early_stopping = GPTQ_EARLY_STOPPING_FALSE;
  p.num_return_sequences = 1;
  return p;
}

GenerateOptions to_options(const gptq_generate_params& p) {
  GenerateOptions o;
  o.sampling.temperature = p.temperature;
  o.sampling.top_k = p.top_k;
  o.sampling.top_p = p.top_p;
  o.sampling.min_p = p.min_p;
  o.sampling.repetition_penalty = p.repetition_penalty;
  o.sampling.repetition_last_n = p.repetition_last_n;
  o.seed = p.seed;
  o.max_new_tokens = p.max_new_tokens;
  o.add_special = p.add_special != 0;
  o.stop_on_eos = p.stop_on_eos != 0;
  o.beam.num_beams = p.num_beams;
  o.beam.length_penalty = p.length_penalty;
  o.beam.early_stopping = static_cast<EarlyStopping>(p.early_stopping);
  o.beam.num_return_sequences = p.num_return_sequences;
  if (p.n_stop_strings < 0) fail(GPTQ_ERR_INVALID_ARGUMENT, "n_stop_strings is negative");
  if (p.n_stop_strings > 0) require_arg(p.stop_strings, "stop_strings");
  for (int32_t i = 0; i < p.n_stop_strings; ++i) {
    if (p.stop_strings[i] == nullptr) fail(GPTQ_ERR_INVALID_ARGUMENT, "stop_strings[", i, "] is NULL");
    o.stop_strings.emplace_back(p.stop_strings[i]);
  }
  if (p.on_token != nullptr) {
    o.on_token = [callback = p.on_token, user_data = p.user_data](int32_t seq, int32_t token, std::string_view text) {
      const std::string piece(text);  // NUL-terminated for C callers
      return callback(seq, token, piece.c_str(), piece.size(), user_data) == 0;
    };
  }
  return o;
}

std::vector<std::string> prompt_texts(const char* const* prompts, size_t n_prompts) {
  require_arg(prompts, "prompts");
  std::vector<std::string> texts;
  for (size_t i = 0; i < n_prompts; ++i) {
    if (prompts[i] == nullptr) fail(GPTQ_ERR_INVALID_ARGUMENT, "prompts[", i, "] is NULL");
    texts.emplace_back(prompts[i]);
  }
  return texts;
}

const SequenceResult* entry(const gptq_generation* generation, size_t index) {
  if (generation == nullptr || index >= generation->result.sequences.size()) return nullptr;
  return &generation->result.sequences[index];
}

}  // namespace

extern "C" {

void gptq_generate_default_params(gptq_generate_params* params, size_t struct_size) {
  write_defaults(params, struct_size, generate_defaults());
}

gptq_status gptq_generate_batch(gptq_context* context, const char* const* prompts, size_t n_prompts,
                                const gptq_generate_params* params, gptq_generation** out) {
  return guarded([&] {
    require_arg(out, "out");
    *out = nullptr;
    Context& ctx = context_of(context);
    const gptq_generate_params p = read_params(params, generate_defaults(), kGenerateParamsMinSize, "params");
    auto handle = std::make_unique<gptq_generation>();
    handle->result = generate(ctx, prompt_texts(prompts, n_prompts), to_options(p));
    *out = handle.release();
  });
}

gptq_status gptq_generate(gptq_context* context, const char* prompt, const gptq_generate_params* params,
                          gptq_generation** out) {
  const char* prompts[] = {prompt};
  if (prompt == nullptr) {
    return guarded([] { fail(GPTQ_ERR_INVALID_ARGUMENT, "prompt is NULL"); });
  }
  return gptq_generate_batch(context, prompts, 1, params, out);
}

size_t gptq_generation_count(const gptq_generation* generation) {
  return generation == nullptr ? 0 : generation->result.sequences.size();
}

const char* gptq_generation_text(const gptq_generation* generation, size_t index) {
  const SequenceResult* e = entry(generation, index);
  return e == nullptr ? nullptr : e->text.c_str();
}

size_t gptq_generation_tokens(const gptq_generation* generation, size_t index, const int32_t** tokens) {
  const SequenceResult* e = entry(generation, index);
  if (tokens != nullptr) *tokens = e == nullptr ? nullptr : e->tokens.data();
  return e == nullptr ? 0 : e->tokens.size();
}

size_t gptq_generation_prompt_tokens(const gptq_generation* generation, size_t index, const int32_t** tokens) {
  const SequenceResult* e = entry(generation, index);
  if (tokens != nullptr) *tokens = e == nullptr ? nullptr : e->prompt_tokens.data();
  return e == nullptr ? 0 : e->prompt_tokens.size();
}

int32_t gptq_generation_stop_reason(const gptq_generation* generation, size_t index) {
  const SequenceResult* e = entry(generation, index);
  return e == nullptr ? -1 : static_cast<int32_t>(e->stop);
}

int32_t gptq_generation_prompt_index(const gptq_generation* generation, size_t index) {
  const SequenceResult* e = entry(generation, index);
  return e == nullptr ? -1 : e->prompt_index;
}

double gptq_generation_score(const gptq_generation* generation, size_t index) {
  const SequenceResult* e = entry(generation, index);
  return e == nullptr ? std::numeric_limits<double>::quiet_NaN() : e->score;
}

gptq_status gptq_generation_timings(const gptq_generation* generation, gptq_timings* timings) {
  return guarded([&] {
    require_arg(generation, "generation");
    const GenerationTimings& t = generation->result.timings;
    gptq_timings out{};
    out.struct_size = sizeof out;
    out.prompt_tokens = t.prompt_tokens;
    out.prompt_seconds = t.prompt_seconds;
    out.generated_tokens = t.generated_tokens;
    out.generate_seconds = t.generate_seconds;
    out.prompt_tokens_per_second = t.prompt_seconds > 0 ? t.prompt_tokens / t.prompt_seconds : 0;
    out.generated_tokens_per_second = t.generate_seconds > 0 ? t.generated_tokens / t.generate_seconds : 0;
    write_output(timings, out, kTimingsMinSize, "timings");
  });
}

void gptq_generation_free(gptq_generation* generation) { delete generation; }

gptq_status gptq_stream_begin(gptq_context* context, const char* const* prompts, size_t n_prompts,
                              const gptq_generate_params* params, gptq_stream** out) {
  return guarded([&] {
    require_arg(out, "out");
    *out = nullptr;
    Context& ctx = context_of(context);
    const gptq_generate_params p = read_params(params, generate_defaults(), kGenerateParamsMinSize, "params");
    GenerateOptions options = to_options(p);
    options.on_token = nullptr;
    const auto tokens = tokenize_prompts(ctx.model(), prompt_texts(prompts, n_prompts), options.add_special);
    auto handle = std::make_unique<gptq_stream>();
    handle->generator = std::make_unique<BatchGenerator>(ctx, tokens, options);
    *out = handle.release();
  });
}

gptq_status gptq_stream_next(gptq_stream* stream, gptq_stream_event* event, int32_t* done) {
  return guarded([&] {
    require_arg(stream, "stream");
    require_arg(event, "event");
    require_arg(done, "done");
    if (event->struct_size < kStreamEventMinSize) {
      fail(GPTQ_ERR_INVALID_ARGUMENT, "event->struct_size is ", event->struct_size, "; set it to sizeof(*event)");
    }
    while (stream->next_event >= stream->pending.size()) {
      stream->pending.clear();
      stream->next_event = 0;
      if (!stream->generator->step(&stream->pending)) {
        *done = 1;
        return;
      }
    }
    stream->current = std::move(stream->pending[stream->next_event++]);
    gptq_stream_event out{};
    out.struct_size = sizeof out;
    out.sequence = stream->current.sequence;
    out.token = stream->current.token;
    out.text = stream->current.text.c_str();
    out.text_len = stream->current.text.size();
    out.finished = stream->current.finished ? 1 : 0;
    write_output(event, out, kStreamEventMinSize, "event");
    *done = 0;
  });
}

gptq_status gptq_stream_stop(gptq_stream* stream, int32_t sequence) {
  return guarded([&] {
    require_arg(stream, "stream");
    if (sequence < 0 || static_cast<size_t>(sequence) >= stream->generator->result().sequences.size()) {
      fail(GPTQ_ERR_INVALID_ARGUMENT, "sequence ", sequence, " is not part of this stream");
    }
    stream->generator->stop(sequence);
  });
}

gptq_status gptq_stream_result(const gptq_stream* stream, gptq_generation** out) {
  return guarded([&] {
    require_arg(stream, "stream");
    require_arg(out, "out");
    auto handle = std::make_unique<gptq_generation>();
    handle->result = stream->generator->result();
    *out = handle.release();
  });
}

void gptq_stream_free(gptq_stream* stream) { delete stream; }

}  // extern "C"
