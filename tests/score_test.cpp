// Scoring continuations: the log-likelihoods against the logits of the
// whole sequence, the greedy flag against greedy decoding, the
// lm-evaluation-harness token split, batches, and bad requests; tinydoc on
// the CPU (the same Context calls run a GPU model).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "eval/score.h"
#include "gptq.h"
#include "model/model.h"
#include "runtime/context.h"
#include "test_util.h"

namespace gptq {
namespace {

std::string tinydoc_dir() { return test::shared_path("models/tinydoc-llama-13m"); }

class Score : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!test::path_exists(tinydoc_dir() + "/model.safetensors")) return;
    model_ = Model::load(tinydoc_dir(), {}).release();
  }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }
  void SetUp() override { GPTQ_REQUIRE_PATH(tinydoc_dir() + "/model.safetensors"); }

  static std::unique_ptr<Context> context(int32_t n_ctx = 256) {
    ContextOptions options;
    options.n_ctx = n_ctx;
    options.n_threads = 2;
    return std::make_unique<Context>(*model_, resolve_context_options(*model_, options));
  }
  static const Tokenizer& tokenizer() { return model_->require_tokenizer(); }
  static int64_t vocab() { return model_->config().vocab_size; }

  // log softmax(row)[token], in double.
  static double log_prob(const float* row, int32_t token) {
    const float best = *std::max_element(row, row + vocab());
    double sum = 0;
    for (int64_t v = 0; v < vocab(); ++v) sum += std::exp(static_cast<double>(row[v]) - best);
    return static_cast<double>(row[token]) - best - std::log(sum);
  }

  static Model* model_;
};

Model* Score::model_ = nullptr;

TEST_F(Score, LogLikelihoodsAreThoseOfTheWholeSequencesLogits) {
  const ScoreTokens tokens = split_score_request(tokenizer(), "The history of the city", " began in the year", true);
  ASSERT_FALSE(tokens.continuation.empty());
  EXPECT_EQ(tokens.context.front(), tokenizer().bos());
  auto ctx = context();
  const ContinuationScore score = score_continuation(*ctx, 0, tokens.context, tokens.continuation);
  EXPECT_EQ(ctx->seq_length(0), static_cast<int32_t>(tokens.context.size() + tokens.continuation.size()));

  std::vector<int32_t> whole = tokens.context;
  whole.insert(whole.end(), tokens.continuation.begin(), tokens.continuation.end());
  std::vector<float> logits(whole.size() * vocab());
  ctx->clear(0);
  ctx->eval(0, whole, LogitsMode::All, logits.data());
  double sum = 0;
  for (size_t i = 0; i < tokens.continuation.size(); ++i) {
    const size_t row = tokens.context.size() + i - 1;
    const double want = log_prob(logits.data() + row * vocab(), tokens.continuation[i]);
    EXPECT_NEAR(score.token_log_probs[i], want, 1e-4) << "token " << i;
    sum += want;
  }
  EXPECT_NEAR(score.log_likelihood, sum, 1e-3);
  EXPECT_LT(score.log_likelihood, 0.0);
}

TEST_F(Score, GreedyContinuationsAreFlaggedAndOthersAreNot) {
  const std::vector<int32_t> prompt = tokenizer().encode("Once upon a time", true, false);
  auto ctx = context();
  // Greedy decoding, one token at a time.
  std::vector<int32_t> greedy;
  std::vector<float> logits(vocab());
  ctx->eval(0, prompt, LogitsMode::Last, logits.data());
  int32_t runner_up = -1;
  for (int step = 0; step < 6; ++step) {
    std::vector<int32_t> order(vocab());
    for (int32_t v = 0; v < vocab(); ++v) order[v] = v;
    std::partial_sort(order.begin(), order.begin() + 2, order.end(),
                      [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
    greedy.push_back(order[0]);
    runner_up = order[1];
    ctx->eval(0, {&greedy.back(), 1}, LogitsMode::Last, logits.data());
  }
  const ContinuationScore best = score_continuation(*ctx, 0, prompt, greedy);
  EXPECT_TRUE(best.greedy);
  std::vector<int32_t> other = greedy;
  other.back() = runner_up;
  const ContinuationScore second = score_continuation(*ctx, 0, prompt, other);
  EXPECT_FALSE(second.greedy);
  EXPECT_LT(second.log_likelihood, best.log_likelihood);
  EXPECT_EQ(second.token_log_probs.front(), best.token_log_probs.front());
}

TEST_F(Score, TrailingWhitespaceOfTheContextMovesToTheContinuation) {
  const ScoreTokens a = split_score_request(tokenizer(), "The cat ", "sat down", true);
  const ScoreTokens b = split_score_request(tokenizer(), "The cat", " sat down", true);
  EXPECT_EQ(a.context, b.context);
  EXPECT_EQ(a.continuation, b.continuation);
  // The continuation is the whole text's tokens past the context's own.
  std::vector<int32_t> whole = tokenizer().prefix_tokens();
  for (int32_t t : tokenizer().encode("The cat sat down", false, true)) whole.push_back(t);
  ASSERT_GT(whole.size(), a.context.size());
  EXPECT_EQ(a.continuation, std::vector<int32_t>(whole.begin() + a.context.size(), whole.end()));
}

TEST_F(Score, AnEmptyContextIsTheTokenizersPrefix) {
  const ScoreTokens with_bos = split_score_request(tokenizer(), "", "Hello world", true);
  EXPECT_EQ(with_bos.context, tokenizer().prefix_tokens());
  EXPECT_EQ(with_bos.continuation, tokenizer().encode("Hello world", false, true));
  const ScoreTokens without = split_score_request(tokenizer(), "  ", "Hello", false);
  EXPECT_EQ(without.context, std::vector<int32_t>{tokenizer().eos()});
}

// Through the C API: a batch of requests gives what each gives alone.
class ScoreApi : public ::testing::Test {
 protected:
  void SetUp() override {
    GPTQ_REQUIRE_PATH(tinydoc_dir() + "/model.safetensors");
    ASSERT_EQ(gptq_model_load(tinydoc_dir().c_str(), nullptr, &model_), GPTQ_OK) << gptq_last_error();
    gptq_context_params params;
    gptq_context_default_params(&params, sizeof params);
    params.n_ctx = 64;
    ASSERT_EQ(gptq_context_new(model_, &params, &context_), GPTQ_OK) << gptq_last_error();
  }
  void TearDown() override {
    gptq_context_free(context_);
    gptq_model_free(model_);
  }
  gptq_scores* score(std::vector<gptq_score_request> requests, gptq_status want = GPTQ_OK) {
    gptq_scores* scores = nullptr;
    EXPECT_EQ(gptq_score(context_, requests.data(), requests.size(), nullptr, &scores), want) << gptq_last_error();
    return scores;
  }
  gptq_model* model_ = nullptr;
  gptq_context* context_ = nullptr;
};

TEST_F(ScoreApi, ABatchScoresAsEachRequestAlone) {
  const std::vector<gptq_score_request> requests = {
      {"The capital of France is", " Paris"}, {"The capital of France is", " a small dog"}, {"", "Once upon a time"}};
  gptq_scores* together = score(requests);
  ASSERT_NE(together, nullptr);
  ASSERT_EQ(gptq_scores_count(together), 3u);
  for (size_t i = 0; i < requests.size(); ++i) {
    gptq_scores* alone = score({requests[i]});
    ASSERT_NE(alone, nullptr);
    EXPECT_EQ(gptq_scores_log_likelihood(together, i), gptq_scores_log_likelihood(alone, 0)) << i;
    EXPECT_EQ(gptq_scores_is_greedy(together, i), gptq_scores_is_greedy(alone, 0)) << i;
    const int32_t* tokens = nullptr;
    const float* log_probs = nullptr;
    const size_t n = gptq_scores_tokens(together, i, &tokens, &log_probs);
    ASSERT_GT(n, 0u);
    double sum = 0;
    for (size_t t = 0; t < n; ++t) sum += log_probs[t];
    EXPECT_NEAR(sum, gptq_scores_log_likelihood(together, i), 1e-4);
    gptq_scores_free(alone);
  }
  EXPECT_TRUE(std::isnan(gptq_scores_log_likelihood(together, 3)));
  EXPECT_EQ(gptq_scores_is_greedy(together, 3), -1);
  EXPECT_EQ(gptq_scores_tokens(together, 3, nullptr, nullptr), 0u);
  gptq_scores_free(together);
}

TEST_F(ScoreApi, BadRequestsGiveAStatusNamingTheRequest) {
  gptq_scores* scores = nullptr;
  const gptq_score_request ok = {"Hello", " world"};
  EXPECT_EQ(gptq_score(nullptr, &ok, 1, nullptr, &scores), GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(gptq_score(context_, &ok, 1, nullptr, nullptr), GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(gptq_score(context_, nullptr, 1, nullptr, &scores), GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(scores, nullptr);
  score({ok, {"Hello", nullptr}}, GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(gptq_last_error()).find("requests[1].continuation"), std::string::npos) << gptq_last_error();
  score({{"Hello", ""}}, GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(gptq_last_error()).find("requests[0]"), std::string::npos) << gptq_last_error();
  std::string long_text;
  for (int i = 0; i < 80; ++i) long_text += " word";
  score({{"Hello", long_text.c_str()}}, GPTQ_ERR_CONTEXT_FULL);
  gptq_score_params params;
  gptq_score_default_params(&params, sizeof params);
  EXPECT_EQ(params.add_special, 1);
  params.struct_size = 1;
  EXPECT_EQ(gptq_score(context_, &ok, 1, &params, &scores), GPTQ_ERR_INVALID_ARGUMENT);
  // The context stays usable.
  gptq_scores* after = score({ok});
  EXPECT_EQ(gptq_scores_count(after), 1u);
  gptq_scores_free(after);
  gptq_scores* none = score({});
  EXPECT_EQ(gptq_scores_count(none), 0u);
  gptq_scores_free(none);
}

}  // namespace
}  // namespace gptq
