// Sampling semantics: greedy, seeds, the filters, and the repetition penalty.
#include <cmath>

#include "core/error.h"
#include "generate/sampler.h"
#include "test_util.h"

namespace gptq {
namespace {

std::vector<float> log_probs(std::initializer_list<double> probs) {
  std::vector<float> out;
  for (double p : probs) out.push_back(static_cast<float>(std::log(p)));
  return out;
}

std::vector<double> frequencies(const SamplingParams& params, const std::vector<float>& logits, int draws) {
  Sampler sampler(params, 1234);
  std::vector<double> counts(logits.size(), 0.0);
  for (int i = 0; i < draws; ++i) {
    std::vector<float> copy = logits;
    counts[sampler.sample(copy, {})] += 1.0 / draws;
  }
  return counts;
}

TEST(Sampler, GreedyPicksTheFirstMaximum) {
  Sampler sampler({}, 0);
  std::vector<float> logits = {0.5f, 3.0f, -1.0f, 3.0f};
  EXPECT_EQ(sampler.sample(logits, {}), 1);
}

TEST(Sampler, SamplesInProportionToProbability) {
  SamplingParams params;
  params.temperature = 1.0f;
  const auto f = frequencies(params, log_probs({0.5, 0.3, 0.2}), 20000);
  EXPECT_NEAR(f[0], 0.5, 0.02);
  EXPECT_NEAR(f[1], 0.3, 0.02);
  EXPECT_NEAR(f[2], 0.2, 0.02);
}

TEST(Sampler, TemperatureSharpens) {
  SamplingParams params;
  params.temperature = 0.5f;  // p^2 renormalised: 0.25/0.38, 0.09/0.38, 0.04/0.38
  const auto f = frequencies(params, log_probs({0.5, 0.3, 0.2}), 20000);
  EXPECT_NEAR(f[0], 0.25 / 0.38, 0.02);
  EXPECT_NEAR(f[2], 0.04 / 0.38, 0.02);
}

TEST(Sampler, FiltersKeepTheRightTokens) {
  const auto logits = log_probs({0.5, 0.3, 0.15, 0.05});
  SamplingParams top_k;
  top_k.temperature = 1.0f;
  top_k.top_k = 2;
  auto f = frequencies(top_k, logits, 8000);
  EXPECT_EQ(f[2] + f[3], 0.0);
  EXPECT_NEAR(f[0], 0.5 / 0.8, 0.03);

  SamplingParams top_p;
  top_p.temperature = 1.0f;
  top_p.top_p = 0.6f;  // 0.5 < 0.6 <= 0.8: two tokens
  f = frequencies(top_p, logits, 8000);
  EXPECT_EQ(f[2] + f[3], 0.0);
  EXPECT_GT(f[1], 0.3);

  SamplingParams min_p;
  min_p.temperature = 1.0f;
  min_p.min_p = 0.25f;  // keeps p >= 0.125: three tokens
  f = frequencies(min_p, logits, 8000);
  EXPECT_EQ(f[3], 0.0);
  EXPECT_GT(f[2], 0.1);

  SamplingParams one;
  one.temperature = 2.0f;
  one.top_k = 1;
  EXPECT_NEAR(frequencies(one, logits, 100)[0], 1.0, 1e-9);
}

TEST(Sampler, SameSeedSameTokens) {
  SamplingParams params;
  params.temperature = 1.0f;
  const auto logits = log_probs({0.25, 0.25, 0.25, 0.25});
  auto draw = [&](uint64_t seed) {
    Sampler sampler(params, seed);
    std::vector<int32_t> out;
    for (int i = 0; i < 32; ++i) {
      std::vector<float> copy = logits;
      out.push_back(sampler.sample(copy, {}));
    }
    return out;
  };
  EXPECT_EQ(draw(7), draw(7));
  EXPECT_NE(draw(7), draw(8));
}

TEST(Sampler, RepetitionPenaltyAsTransformers) {
  SamplingParams params;
  params.repetition_penalty = 2.0f;
  Sampler sampler(params, 0);
  std::vector<float> logits = {2.0f, -2.0f, 1.5f};
  const int32_t history[] = {0, 1, 0};
  EXPECT_EQ(sampler.sample(logits, history), 2);
  EXPECT_EQ(logits[0], 1.0f);   // positive: divided once, though seen twice
  EXPECT_EQ(logits[1], -4.0f);  // negative: multiplied
  EXPECT_EQ(logits[2], 1.5f);

  params.repetition_last_n = 1;  // only the last token (0) is penalised
  Sampler windowed(params, 0);
  std::vector<float> l2 = {2.0f, -2.0f, 1.5f};
  windowed.sample(l2, history);
  EXPECT_EQ(l2[1], -2.0f);
}

TEST(Sampler, RejectsBadParameters) {
  auto status = [](SamplingParams p) {
    try {
      validate_sampling(p);
      return GPTQ_OK;
    } catch (const Error& e) {
      return e.status();
    }
  };
  SamplingParams p;
  EXPECT_EQ(status(p), GPTQ_OK);
  p.temperature = -1;
  EXPECT_EQ(status(p), GPTQ_ERR_INVALID_ARGUMENT);
  p = {};
  p.top_p = 0;
  EXPECT_EQ(status(p), GPTQ_ERR_INVALID_ARGUMENT);
  p = {};
  p.top_k = -3;
  EXPECT_EQ(status(p), GPTQ_ERR_INVALID_ARGUMENT);
  p = {};
  p.min_p = 1.5f;
  EXPECT_EQ(status(p), GPTQ_ERR_INVALID_ARGUMENT);
  p = {};
  p.repetition_penalty = 0;
  EXPECT_EQ(status(p), GPTQ_ERR_INVALID_ARGUMENT);
  p = {};
  p.temperature = NAN;
  EXPECT_EQ(status(p), GPTQ_ERR_INVALID_ARGUMENT);
}

}  // namespace
}  // namespace gptq
