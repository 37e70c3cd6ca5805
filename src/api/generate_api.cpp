// Generation through the C API: parameters in, a gptq_generation out.
#include <string>
#include <vector>

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
  return p;
}

constexpr size_t kGenerateParamsMinSize = sizeof(gptq_generate_params);
constexpr size_t kTimingsMinSize = sizeof(gptq_timings);

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
    require_arg(prompts, "prompts");
    const gptq_generate_params p = read_params(params, generate_defaults(), kGenerateParamsMinSize, "params");
    std::vector<std::string> texts;
    for (size_t i = 0; i < n_prompts; ++i) {
      if (prompts[i] == nullptr) fail(GPTQ_ERR_INVALID_ARGUMENT, "prompts[", i, "] is NULL");
      texts.emplace_back(prompts[i]);
    }
    auto handle = std::make_unique<gptq_generation>();
    handle->result = generate(ctx, texts, to_options(p));
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

}  // extern "C"
