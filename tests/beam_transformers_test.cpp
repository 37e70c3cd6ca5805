// Beam search against transformers' generate(num_beams=4,
// num_return_sequences=2, ...) on the same model and prompt ids: the
// expected ids and sequences_scores are written by scripts/beam_expected.py
// into tests/data/beam_expected.inc on a machine with torch. Without that
// file the test skips and says how to make it.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "api/handles.h"
#include "generate/generator.h"
#include "gptq.h"
#include "test_util.h"

namespace {

#ifdef GPTQ_BEAM_EXPECTED_FILE
struct Case {
  float length_penalty;
  int32_t early_stopping;  // 0 false, 1 true, 2 "never"
  int32_t max_new_tokens;
  std::vector<std::vector<int32_t>> sequences;  // generated ids, best first
  std::vector<double> scores;
};
#include GPTQ_BEAM_EXPECTED_FILE
#endif

TEST(BeamSearchTransformers, MatchesGenerate) {
#ifndef GPTQ_BEAM_EXPECTED_FILE
  GTEST_SKIP() << "tests/data/beam_expected.inc is absent; write it where torch and transformers are installed with "
                  "`python3 scripts/beam_expected.py ../shared/models/tinydoc-llama-13m --extra-end-ids 13 > "
                  "tests/data/beam_expected.inc`";
#else
  GPTQ_REQUIRE_PATH(gptq::test::shared_path(kModel));
  // The end ids transformers used, named the same way to libgptq.
  const std::string dir = kEndIds.empty() ? gptq::test::shared_path(kModel)
                                          : gptq::test::model_with_eos_ids(gptq::test::shared_path(kModel), kEndIds);
  gptq_model* model = nullptr;
  ASSERT_EQ(gptq_model_load(dir.c_str(), nullptr, &model), GPTQ_OK) << gptq_last_error();
  gptq_context_params cp;
  gptq_context_default_params(&cp, sizeof cp);
  cp.n_seq_max = kNumBeams;
  cp.n_ctx = 256;
  gptq_context* context = nullptr;
  ASSERT_EQ(gptq_context_new(model, &cp, &context), GPTQ_OK) << gptq_last_error();
  for (const Case& c : kCases) {
    SCOPED_TRACE("length_penalty " + std::to_string(c.length_penalty) + " early_stopping " +
                 std::to_string(c.early_stopping));
    gptq::GenerateOptions options;
    options.max_new_tokens = c.max_new_tokens;
    options.beam.num_beams = kNumBeams;
    options.beam.num_return_sequences = static_cast<int32_t>(c.sequences.size());
    options.beam.length_penalty = c.length_penalty;
    options.beam.early_stopping = static_cast<gptq::EarlyStopping>(c.early_stopping);
    const gptq::GenerationResult result = gptq::generate_from_tokens(*context->impl, {kPrompt}, options);
    ASSERT_EQ(result.sequences.size(), c.sequences.size());
    for (size_t i = 0; i < c.sequences.size(); ++i) {
      EXPECT_EQ(result.sequences[i].tokens, c.sequences[i]) << "sequence " << i;
      EXPECT_NEAR(result.sequences[i].score, c.scores[i], 1e-3 * std::max(1.0, std::fabs(c.scores[i])))
          << "sequence " << i;
    }
  }
  gptq_context_free(context);
  gptq_model_free(model);
#endif
}

}  // namespace
