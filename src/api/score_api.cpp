// Scoring continuations through the C API.
#include <cmath>
#include <limits>
#include <memory>

#include "api/abi_sizes.h"
#include "api/guard.h"
#include "api/handles.h"
#include "eval/score.h"

using namespace gptq;
using namespace gptq::api;

namespace {

gptq_score_params score_defaults() {
  gptq_score_params p{};
  p.struct_size = sizeof p;
  p.add_special = 1;
  return p;
}

const ContinuationScore* entry(const gptq_scores* scores, size_t index) {
  if (scores == nullptr || index >= scores->scores.size()) return nullptr;
  return &scores->scores[index];
}

}  // namespace

extern "C" {

void gptq_score_default_params(gptq_score_params* params, size_t struct_size) {
  write_defaults(params, struct_size, score_defaults());
}

gptq_status gptq_score(gptq_context* context, const gptq_score_request* requests, size_t n_requests,
                       const gptq_score_params* params, gptq_scores** out) {
  return guarded([&] {
    require_arg(out, "out");
    *out = nullptr;
    Context& ctx = context_of(context);
    if (n_requests > 0) require_arg(requests, "requests");
    const gptq_score_params p = read_params(params, score_defaults(), kScoreParamsMinSize, "params");
    const Tokenizer& tokenizer = ctx.model().require_tokenizer();
    auto handle = std::make_unique<gptq_scores>();
    for (size_t i = 0; i < n_requests; ++i) {
      if (requests[i].context == nullptr) fail(GPTQ_ERR_INVALID_ARGUMENT, "requests[", i, "].context is NULL");
      if (requests[i].continuation == nullptr) {
        fail(GPTQ_ERR_INVALID_ARGUMENT, "requests[", i, "].continuation is NULL");
      }
      const ScoreTokens tokens =
          split_score_request(tokenizer, requests[i].context, requests[i].continuation, p.add_special != 0);
      if (tokens.continuation.empty()) {
        fail(GPTQ_ERR_INVALID_ARGUMENT, "requests[", i, "].continuation gives no tokens after its context");
      }
      handle->scores.push_back(score_continuation(ctx, 0, tokens.context, tokens.continuation));
    }
    *out = handle.release();
  });
}

size_t gptq_scores_count(const gptq_scores* scores) { return scores == nullptr ? 0 : scores->scores.size(); }

double gptq_scores_log_likelihood(const gptq_scores* scores, size_t index) {
  const ContinuationScore* e = entry(scores, index);
  return e == nullptr ? std::numeric_limits<double>::quiet_NaN() : e->log_likelihood;
}

int32_t gptq_scores_is_greedy(const gptq_scores* scores, size_t index) {
  const ContinuationScore* e = entry(scores, index);
  return e == nullptr ? -1 : e->greedy ? 1 : 0;
}

size_t gptq_scores_tokens(const gptq_scores* scores, size_t index, const int32_t** tokens, const float** log_probs) {
  const ContinuationScore* e = entry(scores, index);
  if (tokens != nullptr) *tokens = e == nullptr ? nullptr : e->tokens.data();
  if (log_probs != nullptr) *log_probs = e == nullptr ? nullptr : e->token_log_probs.data();
  return e == nullptr ? 0 : e->tokens.size();
}

void gptq_scores_free(gptq_scores* scores) { delete scores; }

}  // extern "C"
