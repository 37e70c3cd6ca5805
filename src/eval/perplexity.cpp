#include "eval/perplexity.h"

#include <chrono>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace gptq {

PerplexityResult perplexity_of_tokens(Context& context, std::span<const int32_t> tokens,
                                      const PerplexityOptions& options) {
  const Model& model = context.model();
  const int32_t window = options.window;
  if (window < 2) fail(GPTQ_ERR_INVALID_ARGUMENT, "perplexity window must be at least 2 tokens, not ", window);
  if (window > context.n_ctx()) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, "perplexity window of ", window, " tokens exceeds the context's n_ctx ",
         context.n_ctx());
  }
  if (options.max_windows < 0) fail(GPTQ_ERR_INVALID_ARGUMENT, "max_windows must be >= 0");
  const int32_t bos = options.add_bos && model.tokenizer() != nullptr ? model.tokenizer()->bos() : -1;
  if (options.add_bos && bos < 0) fail(GPTQ_ERR_INVALID_ARGUMENT, "add_bos asked for, but the model has no BOS token");
  const int64_t text_per_window = bos >= 0 ? window - 1 : window;
  int64_t n_windows = static_cast<int64_t>(tokens.size()) / text_per_window;
  if (options.max_windows > 0) n_windows = std::min<int64_t>(n_windows, options.max_windows);
  if (n_windows == 0) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, "the text has ", tokens.size(), " tokens, fewer than one window of ", window);
  }

  std::vector<int32_t> input(window);
  std::vector<double> row_nll(window);
  PerplexityResult result;
  result.n_text_tokens = static_cast<int64_t>(tokens.size());
  double total_nll = 0.0;
  const auto start = std::chrono::steady_clock::now();
  for (int64_t w = 0; w < n_windows; ++w) {
    const int32_t* text = tokens.data() + w * text_per_window;
    int32_t n = 0;
    if (bos >= 0) input[n++] = bos;
    for (int64_t i = 0; i < text_per_window; ++i) input[n++] = text[i];
    context.clear(0);
    // Row t predicts token t + 1; BOS itself is never a target.
    context.score(0, input, row_nll.data());
    const int32_t rows = window - 1;
    for (int32_t r = 0; r < rows; ++r) total_nll += row_nll[r];
    result.n_scored += rows;
    if (options.progress && !options.progress(static_cast<float>(w + 1) / static_cast<float>(n_windows))) {
      context.clear(0);
      fail(GPTQ_ERR_CANCELLED, "perplexity was cancelled after ", w + 1, " of ", n_windows, " windows");
    }
  }
  context.clear(0);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.n_windows = static_cast<int32_t>(n_windows);
  result.mean_nll = total_nll / static_cast<double>(result.n_scored);
  result.perplexity = std::exp(result.mean_nll);
  result.tokens_per_second = result.seconds > 0 ? static_cast<double>(n_windows * window) / result.seconds : 0;
  return result;
}

PerplexityResult perplexity(Context& context, std::string_view text, const PerplexityOptions& options) {
  const Tokenizer& tokenizer = context.model().require_tokenizer();
  const std::vector<int32_t> tokens = tokenizer.encode(text, /*add_special=*/false, /*parse_special=*/false);
  return perplexity_of_tokens(context, tokens, options);
}

}  // namespace gptq
