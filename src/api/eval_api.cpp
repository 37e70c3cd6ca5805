// Perplexity through the C API.
#include "api/abi_sizes.h"
#include "api/guard.h"
#include "api/handles.h"
#include "eval/perplexity.h"
#include "io/mapped_file.h"

using namespace gptq;
using namespace gptq::api;

namespace {

gptq_perplexity_params perplexity_defaults() {
  gptq_perplexity_params p{};
  p.struct_size = sizeof p;
  p.window = 512;
  p.add_bos = 0;
  p.max_windows = 0;
  return p;
}

void run_perplexity(gptq_context* context, std::string_view text, const gptq_perplexity_params* params,
                    gptq_perplexity_result* result) {
  Context& ctx = context_of(context);
  require_arg(result, "result");
  const gptq_perplexity_params p = read_params(params, perplexity_defaults(), kPerplexityParamsMinSize, "params");
  PerplexityOptions options;
  options.window = p.window;
  options.add_bos = p.add_bos != 0;
  options.max_windows = p.max_windows;
  if (p.progress != nullptr) {
    options.progress = [&p](float fraction) { return p.progress(fraction, "perplexity", p.progress_user_data) == 0; };
  }
  const PerplexityResult r = perplexity(ctx, text, options);
  gptq_perplexity_result out{};
  out.struct_size = sizeof out;
  out.perplexity = r.perplexity;
  out.mean_nll = r.mean_nll;
  out.n_scored = r.n_scored;
  out.n_text_tokens = r.n_text_tokens;
  out.n_windows = r.n_windows;
  out.seconds = r.seconds;
  out.tokens_per_second = r.tokens_per_second;
  write_output(result, out, kPerplexityResultMinSize, "result");
}

}  // namespace

extern "C" {

void gptq_perplexity_default_params(gptq_perplexity_params* params, size_t struct_size) {
  write_defaults(params, struct_size, perplexity_defaults());
}

gptq_status gptq_perplexity(gptq_context* context, const char* text, size_t text_len,
                            const gptq_perplexity_params* params, gptq_perplexity_result* result) {
  return guarded([&] {
    if (text_len > 0) require_arg(text, "text");
    run_perplexity(context, std::string_view(text != nullptr ? text : "", text_len), params, result);
  });
}

gptq_status gptq_perplexity_file(gptq_context* context, const char* path, const gptq_perplexity_params* params,
                                 gptq_perplexity_result* result) {
  return guarded([&] {
    require_arg(path, "path");
    const std::string text = read_text_file(path);
    run_perplexity(context, text, params, result);
  });
}

}  // extern "C"
