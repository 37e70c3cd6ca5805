// The real model ../shared/models/tinydoc-llama-13m through the public C API:
// greedy continuations from prompt text, logits, and perplexity against the
// numbers transformers gave (models/PROVENANCE.md).
#include <cstring>
#include <vector>

#include "gptq.h"
#include "io/safetensors.h"
#include "test_util.h"

namespace gptq {
namespace {

class Tinydoc : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string dir = test::shared_path("models/tinydoc-llama-13m");
    if (!test::path_exists(dir)) return;
    ASSERT_EQ(gptq_model_load(dir.c_str(), nullptr, &model_), GPTQ_OK) << gptq_last_error();
    reference_ = SafetensorsFile::open(test::shared_path("models/tinydoc-llama-13m-reference.safetensors"), true).release();
  }
  static void TearDownTestSuite() {
    gptq_model_free(model_);
    model_ = nullptr;
    delete reference_;
    reference_ = nullptr;
  }
  void SetUp() override {
    if (model_ == nullptr) GTEST_SKIP() << "missing " << test::shared_path("models/tinydoc-llama-13m");
  }

  static std::vector<int32_t> reference_ids(const std::string& name) {
    const std::vector<int64_t> ids = tensor_to_int64(*reference_->find(name));
    return std::vector<int32_t>(ids.begin(), ids.end());
  }

  static gptq_model* model_;
  static SafetensorsFile* reference_;
};

gptq_model* Tinydoc::model_ = nullptr;
SafetensorsFile* Tinydoc::reference_ = nullptr;

TEST_F(Tinydoc, GreedyContinuationsFromPromptText) {
  gptq_context* context = nullptr;
  ASSERT_EQ(gptq_context_new(model_, nullptr, &context), GPTQ_OK) << gptq_last_error();
  for (int i = 0; i < 4; ++i) {
    const std::string prompt = reference_->metadata().at("prompt_" + std::to_string(i));
    const std::vector<int32_t> expected = reference_ids("gen_ids_" + std::to_string(i));
    gptq_generate_params params;
    gptq_generate_default_params(&params, sizeof params);
    params.max_new_tokens = 32;
    params.stop_on_eos = 0;
    gptq_generation* generation = nullptr;
    ASSERT_EQ(gptq_generate(context, prompt.c_str(), &params, &generation), GPTQ_OK) << gptq_last_error();
    const int32_t* prompt_ids = nullptr;
    const int32_t* ids = nullptr;
    const size_t n_prompt = gptq_generation_prompt_tokens(generation, 0, &prompt_ids);
    const size_t n = gptq_generation_tokens(generation, 0, &ids);
    std::vector<int32_t> all(prompt_ids, prompt_ids + n_prompt);
    all.insert(all.end(), ids, ids + n);
    EXPECT_EQ(all, expected) << "prompt " << i << ": " << prompt;
    const std::string expected_text = reference_->metadata().at("text_" + std::to_string(i));
    EXPECT_EQ(prompt + gptq_generation_text(generation, 0), expected_text);
    gptq_generation_free(generation);
  }
  gptq_context_free(context);
}

TEST_F(Tinydoc, WikiLogitsMatchTransformers) {
  const std::vector<int32_t> ids = reference_ids("wiki_ids");
  const std::vector<float> expected = tensor_to_float(*reference_->find("wiki_logits"));
  gptq_context* context = nullptr;
  ASSERT_EQ(gptq_context_new(model_, nullptr, &context), GPTQ_OK);
  std::vector<float> logits(expected.size());
  ASSERT_EQ(gptq_context_eval(context, 0, ids.data(), ids.size(), GPTQ_LOGITS_ALL, logits.data(), logits.size()),
            GPTQ_OK)
      << gptq_last_error();
  const double error = test::relative_l2(logits, expected);
  std::printf("[ tinydoc ] wiki_logits relative L2 error %.3g\n", error);
  EXPECT_LT(error, 1e-4);
  gptq_context_free(context);
}

TEST_F(Tinydoc, WikiTokensMatchTheReferenceEncoding) {
  const std::vector<int32_t> expected = reference_ids("wiki_ids");
  // The first 128 tokens of the whole file encoded at once: encode a prefix
  // long enough to hold them.
  FILE* f = std::fopen(test::shared_path("data/wikitext-2/test.txt").c_str(), "rb");
  ASSERT_NE(f, nullptr);
  std::string text(4096, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), f));
  std::fclose(f);
  std::vector<int32_t> ids(4096);
  size_t n = 0;
  ASSERT_EQ(gptq_tokenize(model_, text.data(), text.size(), 0, ids.data(), ids.size(), &n), GPTQ_OK);
  ASSERT_GE(n, expected.size());
  EXPECT_EQ(std::vector<int32_t>(ids.begin(), ids.begin() + expected.size()), expected);
}

TEST_F(Tinydoc, PerplexityOnWikitext2Test) {
  gptq_context_params cparams;
  gptq_context_default_params(&cparams, sizeof cparams);
  cparams.n_ctx = 512;
  gptq_context* context = nullptr;
  ASSERT_EQ(gptq_context_new(model_, &cparams, &context), GPTQ_OK);
  gptq_perplexity_result result;
  result.struct_size = sizeof result;
  const std::string file = test::shared_path("data/wikitext-2/test.txt");
  ASSERT_EQ(gptq_perplexity_file(context, file.c_str(), nullptr, &result), GPTQ_OK) << gptq_last_error();
  std::printf("[ tinydoc ] wikitext-2 test perplexity %.4f over %lld tokens (%d windows), %.1f s, %.0f tokens/s\n",
              result.perplexity, static_cast<long long>(result.n_scored), result.n_windows, result.seconds,
              result.tokens_per_second);
  EXPECT_NEAR(result.perplexity, 35.70, 35.70 * 0.002);
  EXPECT_EQ(result.n_scored, static_cast<int64_t>(result.n_windows) * 511);
  gptq_context_free(context);
}

}  // namespace
}  // namespace gptq
