#include "eval/score.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace gptq {

ContinuationScore score_continuation(Context& context, int32_t seq, std::span<const int32_t> context_tokens,
                                     std::span<const int32_t> continuation) {
  if (context_tokens.empty()) fail(GPTQ_ERR_INVALID_ARGUMENT, "scoring needs at least one context token");
  if (continuation.empty()) fail(GPTQ_ERR_INVALID_ARGUMENT, "scoring needs at least one continuation token");
  const size_t n = continuation.size();
  if (context_tokens.size() + n > static_cast<size_t>(context.n_ctx())) {
    fail(GPTQ_ERR_CONTEXT_FULL, "a context of ", context_tokens.size(), " tokens and a continuation of ", n,
         " exceed n_ctx ", context.n_ctx());
  }
  context.clear(seq);
  // The logits that predict the continuation are those of the last context
  // token and of every continuation token but the last.
  context.eval(seq, context_tokens.first(context_tokens.size() - 1), LogitsMode::None, nullptr);
  std::vector<int32_t> predicting(n);
  predicting[0] = context_tokens.back();
  std::copy(continuation.begin(), continuation.end() - 1, predicting.begin() + 1);
  const int64_t vocab = context.model().config().vocab_size;
  std::vector<float> logits(n * static_cast<size_t>(vocab));
  context.eval(seq, predicting, LogitsMode::All, logits.data());
  // The last token joins the cache too, so the sequence holds both parts.
  context.eval(seq, continuation.last(1), LogitsMode::None, nullptr);

  ContinuationScore score;
  score.tokens.assign(continuation.begin(), continuation.end());
  score.greedy = true;
  for (size_t i = 0; i < n; ++i) {
    const float* row = logits.data() + i * vocab;
    const float* best = std::max_element(row, row + vocab);
    double sum = 0;
    for (int64_t v = 0; v < vocab; ++v) sum += std::exp(static_cast<double>(row[v]) - *best);
    const double log_prob = static_cast<double>(row[continuation[i]]) - *best - std::log(sum);
    score.token_log_probs.push_back(static_cast<float>(log_prob));
    score.log_likelihood += log_prob;
    // A tie with the argmax counts as greedy: the token is one greedy decoding may pick.
    score.greedy = score.greedy && row[continuation[i]] == *best;
  }
  return score;
}

ScoreTokens split_score_request(const Tokenizer& tokenizer, std::string_view context, std::string_view continuation,
                                bool add_prefix) {
  const size_t kept = context.find_last_not_of(" \t\n\r\f\v");
  const size_t moved = kept == std::string_view::npos ? context.size() : context.size() - kept - 1;
  std::string whole(context);
  whole += continuation;
  const std::string_view head = std::string_view(whole).substr(0, context.size() - moved);
  const std::vector<int32_t> prefix = add_prefix ? tokenizer.prefix_tokens() : std::vector<int32_t>{};
  ScoreTokens out;
  out.context = prefix;
  if (!head.empty()) {
    const std::vector<int32_t> encoded = tokenizer.encode(head, /*add_special=*/false, /*parse_special=*/true);
    out.context.insert(out.context.end(), encoded.begin(), encoded.end());
  }
  std::vector<int32_t> all = prefix;
  const std::vector<int32_t> encoded = tokenizer.encode(whole, /*add_special=*/false, /*parse_special=*/true);
  all.insert(all.end(), encoded.begin(), encoded.end());
  const size_t split = std::min(out.context.size(), all.size());
  out.continuation.assign(all.begin() + static_cast<std::ptrdiff_t>(split), all.end());
  if (out.context.empty()) {
    if (tokenizer.eos() < 0) {
      fail(GPTQ_ERR_INVALID_ARGUMENT, "an empty context needs a BOS or EOS token to stand for it; the tokenizer has neither");
    }
    out.context.push_back(tokenizer.eos());
  }
  return out;
}

}  // namespace gptq
