// Scoring continuations: how likely the model finds a continuation after a
// context, token by token, and whether greedy decoding would have written
// it. The building block of multiple-choice and classification evaluation
// (lm-evaluation-harness's loglikelihood requests, AutoGPTQ's sequence
// classification task).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "runtime/context.h"
#include "tokenizer/tokenizer.h"

namespace gptq {

struct ContinuationScore {
  double log_likelihood = 0;         // sum of token_log_probs, in double
  bool greedy = false;               // every token the argmax of the logits before it
  std::vector<int32_t> tokens;       // the continuation's tokens
  std::vector<float> token_log_probs;
};

// Scores `continuation` after `context` (at least one token) in sequence
// `seq` of the context, which is cleared first and holds both afterwards.
// Only the continuation's logit rows are brought to the host.
ContinuationScore score_continuation(Context& context, int32_t seq, std::span<const int32_t> context_tokens,
                                     std::span<const int32_t> continuation);

// The tokens of one text request, split as lm-evaluation-harness splits
// them: whitespace at the end of the context moves to the continuation's
// start, context + continuation is encoded whole (so tokens that span the
// boundary stay as the model would see them), and the continuation is what
// lies past the context's own encoding. `prefix` (BOS, when asked for)
// leads both; an empty context is the prefix, or EOS when there is none.
struct ScoreTokens {
  std::vector<int32_t> context, continuation;
};
ScoreTokens split_score_request(const Tokenizer& tokenizer, std::string_view context, std::string_view continuation,
                                bool add_prefix);

}  // namespace gptq
