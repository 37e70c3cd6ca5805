// Perplexity the standard way (GPTQ paper, AutoGPTQ, llama.cpp's numbers are
// comparable with it): tokenize the whole text once, cut it into
// non-overlapping windows, and average the negative log-likelihood over every
// predicted token.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

#include "runtime/context.h"

namespace gptq {

struct PerplexityOptions {
  int32_t window = 512;
  bool add_bos = false;   // each window: BOS + window-1 text tokens
  int32_t max_windows = 0;  // 0: all
  std::function<bool(float)> progress;  // fraction done -> false to cancel
};

struct PerplexityResult {
  double perplexity = 0;
  double mean_nll = 0;
  int64_t n_scored = 0;
  int64_t n_text_tokens = 0;
  int32_t n_windows = 0;
  double seconds = 0;
  double tokens_per_second = 0;
};

PerplexityResult perplexity(Context& context, std::string_view text, const PerplexityOptions& options);
PerplexityResult perplexity_of_tokens(Context& context, std::span<const int32_t> tokens,
                                      const PerplexityOptions& options);

}  // namespace gptq
