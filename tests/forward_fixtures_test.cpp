// The forward pass against transformers' own logits and greedy tokens on the
// tiny random-weight checkpoints in ../shared/fixtures/archs.
#include <memory>

#include "generate/generator.h"
#include "io/safetensors.h"
#include "model/model.h"
#include "runtime/context.h"
#include "test_util.h"

namespace gptq {
namespace {

class ArchFixture : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    dir_ = test::shared_path(std::string("fixtures/archs/") + GetParam());
    GPTQ_REQUIRE_PATH(dir_ + "/model.safetensors");
    // These references come from a model cast to its stored dtype before
    // being run in fp32, which left its rotary frequencies rounded to it.
    LoadOptions options;
    options.round_rope_to_weight_dtype = true;
    model_ = Model::load(dir_, options);
    reference_ = SafetensorsFile::open(dir_ + "/reference.safetensors", true);
  }

  std::unique_ptr<Context> make_context(int32_t n_seq = 1, int32_t threads = 2, int32_t n_batch = 512) {
    ContextOptions options;
    options.n_ctx = 64;
    options.n_seq_max = n_seq;
    options.n_threads = threads;
    options.n_batch = n_batch;
    return std::make_unique<Context>(*model_, resolve_context_options(*model_, options));
  }

  std::vector<int32_t> ids(const char* name, int64_t row) {
    const TensorView& t = *reference_->find(name);
    const std::vector<int64_t> all = tensor_to_int64(t);
    const int64_t width = t.dim(1);
    return std::vector<int32_t>(all.begin() + row * width, all.begin() + (row + 1) * width);
  }

  std::vector<float> reference_logits(const char* name, int64_t row) {
    const TensorView& t = *reference_->find(name);
    const std::vector<float> all = tensor_to_float(t);
    const int64_t per_row = t.dim(1) * t.dim(2);
    return std::vector<float>(all.begin() + row * per_row, all.begin() + (row + 1) * per_row);
  }

  int64_t vocab() const { return model_->config().vocab_size; }

  std::string dir_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<SafetensorsFile> reference_;
};

TEST_P(ArchFixture, LogitsMatchTransformers) {
  auto context = make_context();
  for (int64_t row = 0; row < 2; ++row) {
    const std::vector<int32_t> input = ids("input_ids", row);
    std::vector<float> logits(input.size() * vocab());
    context->clear(0);
    context->eval(0, input, LogitsMode::All, logits.data());
    const double error = test::relative_l2(logits, reference_logits("logits", row));
    EXPECT_LT(error, 1e-4) << GetParam() << " row " << row;
    RecordProperty(std::string("rel_l2_row") + std::to_string(row), std::to_string(error));
    std::printf("[ %s ] logits row %ld relative L2 error %.3g\n", GetParam(), static_cast<long>(row), error);
  }
}

TEST_P(ArchFixture, GreedyGenerationMatchesTransformers) {
  const std::vector<int32_t> expected = ids("gen_ids", 0);
  auto context = make_context();
  GenerateOptions options;
  options.max_new_tokens = static_cast<int32_t>(expected.size()) - 6;
  options.stop_on_eos = false;
  const GenerationResult result =
      generate_from_tokens(*context, {std::vector<int32_t>(expected.begin(), expected.begin() + 6)}, options);
  EXPECT_EQ(result.sequences[0].tokens, std::vector<int32_t>(expected.begin() + 6, expected.end()));

  std::vector<float> logits(expected.size() * vocab());
  context->clear(0);
  context->eval(0, expected, LogitsMode::All, logits.data());
  EXPECT_LT(test::relative_l2(logits, reference_logits("gen_logits", 0)), 1e-4);
}

TEST_P(ArchFixture, KvCacheDecodingMatchesFullForward) {
  const std::vector<int32_t> input = ids("input_ids", 1);
  auto context = make_context();
  std::vector<float> full(input.size() * vocab());
  context->eval(0, input, LogitsMode::All, full.data());

  // A prompt of 7 tokens, then one token at a time; also chunked prefill
  // through a small n_batch.
  auto stepwise = make_context(1, 1, 3);
  std::vector<float> logits(7 * vocab());
  stepwise->eval(0, std::span(input).first(7), LogitsMode::All, logits.data());
  std::vector<float> step(vocab());
  for (size_t t = 7; t < input.size(); ++t) {
    stepwise->eval(0, std::span(input).subspan(t, 1), LogitsMode::Last, step.data());
    EXPECT_LT(test::relative_l2(step, std::span<const float>(full).subspan(t * vocab(), vocab())), 1e-5) << "t=" << t;
  }
  EXPECT_LT(test::relative_l2(logits, std::span<const float>(full).first(7 * vocab())), 1e-5);
  EXPECT_EQ(stepwise->seq_length(0), static_cast<int32_t>(input.size()));
}

TEST_P(ArchFixture, SequencesBatchedTogetherMatchSeparateRuns) {
  const std::vector<int32_t> a = ids("input_ids", 0), b = ids("input_ids", 1);
  auto separate = make_context();
  std::vector<float> last_a(vocab()), last_b(vocab());
  separate->eval(0, a, LogitsMode::Last, last_a.data());
  separate->clear(0);
  separate->eval(0, std::span(b).first(13), LogitsMode::Last, last_b.data());

  auto together = make_context(2, 2, 16);  // forces the two prompts to share and straddle batches
  const SequenceInput inputs[] = {{1, std::span(b).first(13)}, {0, a}};
  std::vector<float> both(2 * vocab());
  together->eval_sequences(inputs, both.data());
  EXPECT_LT(test::relative_l2(std::span<const float>(both).first(vocab()), last_b), 1e-5);
  EXPECT_LT(test::relative_l2(std::span<const float>(both).subspan(vocab()), last_a), 1e-5);
}

TEST_P(ArchFixture, ResultsDoNotDependOnThreadCount) {
  const std::vector<int32_t> input = ids("input_ids", 0);
  std::vector<float> one(input.size() * vocab()), three(input.size() * vocab());
  make_context(1, 1)->eval(0, input, LogitsMode::All, one.data());
  make_context(1, 3)->eval(0, input, LogitsMode::All, three.data());
  EXPECT_EQ(one, three);
}

INSTANTIATE_TEST_SUITE_P(Llama, ArchFixture,
                         ::testing::Values("llama", "llama_tied_bf16", "llama_rope_scaled", "mistral", "qwen2",
                                           "qwen3", "gemma", "phi3", "stablelm", "starcoder2"));
// Learned positions, LayerNorm, plain MLPs, fused or Conv1D projections,
// partial rotary, parallel residuals, multi-query attention and ALiBi.
INSTANTIATE_TEST_SUITE_P(Gpt, ArchFixture,
                         ::testing::Values("gpt2", "opt", "gpt_neox", "gptj", "phi", "gpt_bigcode", "falcon",
                                           "falcon_new_arch", "codegen", "gpt_neo", "bloom"));
// A routed MLP: each token's top-2 of 4 SwiGLU experts.
INSTANTIATE_TEST_SUITE_P(Moe, ArchFixture, ::testing::Values("mixtral"));

}  // namespace
}  // namespace gptq
