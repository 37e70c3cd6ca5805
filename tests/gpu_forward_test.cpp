// Whole models on the GPU: every supported fixture architecture and every
// GPTQ fixture against transformers' / AutoGPTQ's logits in fp32 and fp16
// compute, decoding through recorded steps against full forwards, tinydoc's
// perplexity, every architecture quantized here and run on the GPU against
// the CPU, placement split between the GPU and the CPU, and running out
// of GPU memory. Each test skips, saying why, where no GPU is usable.
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>

#include "generate/generator.h"
#include "eval/perplexity.h"
#include "io/json_file.h"
#include "io/safetensors.h"
#include "model/model.h"
#include "quant/quantizer.h"
#include "quant/save.h"
#include "runtime/context.h"
#include "test_util.h"

namespace gptq {
namespace {

std::unique_ptr<Model> load_on(const std::string& dir, const char* device, std::optional<FloatType> compute,
                               int32_t n_gpu_layers = -1, bool round_rope = true) {
  LoadOptions options;
  options.round_rope_to_weight_dtype = round_rope;
  options.device = device;
  options.gpu_compute = compute;
  options.n_gpu_layers = n_gpu_layers;
  return Model::load(dir, options);
}

std::unique_ptr<Context> context_for(const Model& model, int32_t n_seq = 1, int32_t n_batch = 512, int32_t n_ctx = 64) {
  ContextOptions options;
  options.n_ctx = n_ctx;
  options.n_seq_max = n_seq;
  options.n_batch = n_batch;
  options.n_threads = 2;
  return std::make_unique<Context>(model, resolve_context_options(model, options));
}

std::vector<float> all_logits(Context& context, std::span<const int32_t> tokens) {
  std::vector<float> logits(tokens.size() * context.model().config().vocab_size);
  context.clear(0);
  context.eval(0, tokens, LogitsMode::All, logits.data());
  return logits;
}

std::vector<int32_t> row_of(const SafetensorsFile& file, const char* name, int64_t row) {
  const TensorView& t = *file.find(name);
  const std::vector<int64_t> all = tensor_to_int64(t);
  const int64_t width = t.dim(1);
  return std::vector<int32_t>(all.begin() + row * width, all.begin() + (row + 1) * width);
}

std::vector<float> logits_row(const SafetensorsFile& file, const char* name, int64_t row) {
  const TensorView& t = *file.find(name);
  const std::vector<float> all = tensor_to_float(t);
  const int64_t per_row = t.dim(1) * t.dim(2);
  return std::vector<float>(all.begin() + row * per_row, all.begin() + (row + 1) * per_row);
}

class GpuArch : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    GPTQ_REQUIRE_GPU();
    dir_ = test::shared_path(std::string("fixtures/archs/") + GetParam());
    GPTQ_REQUIRE_PATH(dir_ + "/model.safetensors");
    reference_ = SafetensorsFile::open(dir_ + "/reference.safetensors", true);
  }
  std::string dir_;
  std::unique_ptr<SafetensorsFile> reference_;
};

// fp32 to 1e-4 and fp16 to 2e-3; bf16 (the auto choice for a bf16
// checkpoint) keeps 8 bits of mantissa per rounding, so it gets 1.5e-2.
TEST_P(GpuArch, LogitsMatchTransformersInFp32AndHalfCompute) {
  for (auto [compute, limit] : {std::pair{std::optional<FloatType>(FloatType::F32), 1e-4},
                                std::pair{std::optional<FloatType>(FloatType::F16), 2e-3},
                                std::pair{std::optional<FloatType>(), 1.5e-2}}) {
    auto model = load_on(dir_, "cuda", compute);
    auto context = context_for(*model);
    for (int64_t row = 0; row < 2; ++row) {
      const double error = test::relative_l2(all_logits(*context, row_of(*reference_, "input_ids", row)),
                                             logits_row(*reference_, "logits", row));
      std::printf("[ %s ] gpu %s row %ld relative L2 error %.3g\n", GetParam(),
                  float_type_name(model->placement().gpu_compute), static_cast<long>(row), error);
      EXPECT_LT(error, limit) << float_type_name(model->placement().gpu_compute) << " row " << row;
    }
  }
}

TEST_P(GpuArch, GreedyTokensMatchAndDecodingMatchesFullForward) {
  auto model = load_on(dir_, "cuda", FloatType::F32);
  const std::vector<int32_t> expected = row_of(*reference_, "gen_ids", 0);
  auto context = context_for(*model);
  GenerateOptions options;
  options.max_new_tokens = static_cast<int32_t>(expected.size()) - 6;
  options.stop_on_eos = false;
  const GenerationResult result =
      generate_from_tokens(*context, {std::vector<int32_t>(expected.begin(), expected.begin() + 6)}, options);
  EXPECT_EQ(result.sequences[0].tokens, std::vector<int32_t>(expected.begin() + 6, expected.end()));

  // One token at a time (recorded, then replayed steps) against one pass.
  const std::vector<int32_t> input = row_of(*reference_, "input_ids", 1);
  const std::vector<float> full = all_logits(*context, input);
  const int64_t vocab = model->config().vocab_size;
  auto stepwise = context_for(*model, 1, 3);
  std::vector<float> step(vocab);
  stepwise->eval(0, std::span(input).first(7), LogitsMode::None, nullptr);
  for (size_t t = 7; t < input.size(); ++t) {
    stepwise->eval(0, std::span(input).subspan(t, 1), LogitsMode::Last, step.data());
    EXPECT_LT(test::relative_l2(step, std::span<const float>(full).subspan(t * vocab, vocab)), 1e-5) << "t=" << t;
  }
}

TEST_P(GpuArch, SequencesBatchedTogetherMatchSeparateRuns) {
  auto model = load_on(dir_, "cuda", FloatType::F32);
  const std::vector<int32_t> a = row_of(*reference_, "input_ids", 0), b = row_of(*reference_, "input_ids", 1);
  const int64_t vocab = model->config().vocab_size;
  auto separate = context_for(*model);
  std::vector<float> last_a(vocab), last_b(vocab);
  separate->eval(0, a, LogitsMode::Last, last_a.data());
  separate->clear(0);
  separate->eval(0, std::span(b).first(13), LogitsMode::Last, last_b.data());
  auto together = context_for(*model, 2, 16);
  const SequenceInput inputs[] = {{1, std::span(b).first(13)}, {0, a}};
  std::vector<float> both(2 * vocab);
  together->eval_sequences(inputs, both.data());
  EXPECT_LT(test::relative_l2(std::span<const float>(both).first(vocab), last_b), 1e-5);
  EXPECT_LT(test::relative_l2(std::span<const float>(both).subspan(vocab), last_a), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Llama, GpuArch,
                         ::testing::Values("llama", "llama_tied_bf16", "llama_rope_scaled", "mistral", "qwen2",
                                           "qwen3", "gemma", "phi3", "stablelm", "starcoder2"));
INSTANTIATE_TEST_SUITE_P(Gpt, GpuArch,
                         ::testing::Values("gpt2", "opt", "gpt_neox", "gptj", "phi", "gpt_bigcode", "falcon",
                                           "falcon_new_arch", "codegen", "gpt_neo", "bloom"));
INSTANTIATE_TEST_SUITE_P(Moe, GpuArch, ::testing::Values("mixtral"));

// The routed MLP (mixtral) on the GPU against the CPU: a prefill longer
// than any expert's share, and decode steps recorded once and replayed
// with other routings.
class GpuMoe : public ::testing::Test {
 protected:
  void SetUp() override {
    GPTQ_REQUIRE_GPU();
    dir_ = test::shared_path("fixtures/archs/mixtral");
    GPTQ_REQUIRE_PATH(dir_ + "/model.safetensors");
    cpu_ = load_on(dir_, "cpu", std::nullopt);
    for (size_t i = 0; i < tokens_.size(); ++i) tokens_[i] = static_cast<int32_t>((i * 131 + 7) % 512);
    want_ = all_logits(*context_for(*cpu_), tokens_);
  }
  std::string dir_;
  std::unique_ptr<Model> cpu_;
  std::vector<int32_t> tokens_ = std::vector<int32_t>(40);
  std::vector<float> want_;
};

TEST_F(GpuMoe, LogitsMatchTheCpuInFp32AndHalfCompute) {
  for (auto [compute, limit] : {std::pair{FloatType::F32, 1e-4}, std::pair{FloatType::F16, 2e-3}}) {
    auto model = load_on(dir_, "cuda", compute);
    const double error = test::relative_l2(all_logits(*context_for(*model), tokens_), want_);
    std::printf("[ mixtral ] gpu %s relative L2 to the CPU %.3g\n", float_type_name(compute), error);
    EXPECT_LT(error, limit) << float_type_name(compute);
  }
}

TEST_F(GpuMoe, RecordedDecodeStepsMatchTheCpu) {
  auto model = load_on(dir_, "cuda", FloatType::F32);
  const int64_t vocab = model->config().vocab_size;
  auto stepwise = context_for(*model, 1, 4);
  stepwise->eval(0, std::span(tokens_).first(5), LogitsMode::None, nullptr);
  std::vector<float> step(vocab);
  for (size_t t = 5; t < tokens_.size(); ++t) {
    stepwise->eval(0, std::span(tokens_).subspan(t, 1), LogitsMode::Last, step.data());
    EXPECT_LT(test::relative_l2(step, std::span<const float>(want_).subspan(t * vocab, vocab)), 1e-4) << "t=" << t;
  }
}

class GpuGptq : public ::testing::TestWithParam<const char*> {};

TEST_P(GpuGptq, LogitsMatchAutoGptqAndTheCpu) {
  GPTQ_REQUIRE_GPU();
  const std::string dir = test::shared_path(std::string("fixtures/gptq/") + GetParam());
  GPTQ_REQUIRE_PATH(dir + "/config.json");
  auto reference = SafetensorsFile::open(dir + "/reference.safetensors", true);
  const std::vector<float> expected = tensor_to_float(*reference->find("logits"));
  auto cpu = load_on(dir, "cpu", std::nullopt, -1, false);
  auto cpu_context = context_for(*cpu);
  for (auto [compute, limit] : {std::pair{std::optional<FloatType>(FloatType::F32), 1e-4},
                                std::pair{std::optional<FloatType>(), 2e-3}}) {
    auto model = load_on(dir, "cuda", compute, -1, false);
    auto context = context_for(*model);
    for (int64_t row = 0; row < 2; ++row) {
      const std::vector<int32_t> tokens = row_of(*reference, "input_ids", row);
      const std::vector<float> logits = all_logits(*context, tokens);
      const double vs_cpu = test::relative_l2(logits, all_logits(*cpu_context, tokens));
      const double vs_autogptq = test::relative_l2(
          logits, std::span<const float>(expected).subspan(row * logits.size(), logits.size()));
      std::printf("[ %s ] gpu %s row %ld relative L2: %.3g to the CPU, %.3g to AutoGPTQ\n", GetParam(),
                  float_type_name(model->placement().gpu_compute), static_cast<long>(row), vs_cpu, vs_autogptq);
      EXPECT_LT(vs_cpu, limit);
      EXPECT_LT(vs_autogptq, 1e-3 + limit);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Llama, GpuGptq,
                         ::testing::Values("llama-w4-g128", "llama-w4-g32-act", "llama-w4-g64-act-static",
                                           "llama-w3-g128", "llama-w8-gnone-act", "llama-w2-g64-asym",
                                           "llama-w4-g128-asym-act"));
INSTANTIATE_TEST_SUITE_P(Gpt, GpuGptq, ::testing::Values("gpt2-w4-g128", "opt-w4-g128", "gpt_neox-w4-g64-act"));

// Every architecture's quantized form on the GPU: quantized here (4 bits,
// groups of 32, act-order, from random calibration tokens), saved, and
// run on the GPU in fp32 and fp16 compute against the same checkpoint on
// the CPU.
class GpuQuantizedArch : public ::testing::TestWithParam<const char*> {};

TEST_P(GpuQuantizedArch, LogitsMatchTheCpu) {
  GPTQ_REQUIRE_GPU();
  const std::string source_dir = test::shared_path(std::string("fixtures/archs/") + GetParam());
  GPTQ_REQUIRE_PATH(source_dir + "/config.json");
  auto source = load_on(source_dir, "cpu", std::nullopt);
  std::mt19937 rng(5);
  std::uniform_int_distribution<int32_t> token(0, static_cast<int32_t>(source->config().vocab_size) - 1);
  CalibrationSet calibration(4, std::vector<int32_t>(32));
  for (auto& sample : calibration) {
    for (int32_t& t : sample) t = token(rng);
  }
  QuantizeOptions options;
  options.config.group_size = 32;
  options.config.desc_act = true;
  ThreadPool pool(2);
  const std::unique_ptr<Model> quantized = quantize_model(pool, *source, calibration, options, nullptr);
  const std::string dir = test::scratch_dir(std::string("gpu-quantized-") + GetParam()) + "/model";
  save_model(*quantized, dir, {});
  std::vector<int32_t> tokens(12);
  for (int32_t& t : tokens) t = token(rng);
  const std::vector<float> want = all_logits(*context_for(*load_on(dir, "cpu", std::nullopt)), tokens);
  for (auto [compute, limit] : {std::pair{std::optional<FloatType>(FloatType::F32), 1e-4},
                                std::pair{std::optional<FloatType>(), 2e-3}}) {
    auto model = load_on(dir, "cuda", compute);
    const double diff = test::relative_l2(all_logits(*context_for(*model), tokens), want);
    std::printf("[ %s ] quantized, gpu %s: relative L2 %.3g to the CPU\n", GetParam(),
                float_type_name(model->placement().gpu_compute), diff);
    EXPECT_LT(diff, limit);
  }
}

INSTANTIATE_TEST_SUITE_P(Llama, GpuQuantizedArch,
                         ::testing::Values("mistral", "qwen2", "qwen3", "gemma", "phi3", "stablelm", "starcoder2"));
INSTANTIATE_TEST_SUITE_P(Gpt, GpuQuantizedArch,
                         ::testing::Values("gptj", "phi", "gpt_bigcode", "falcon", "falcon_new_arch", "codegen",
                                           "gpt_neo", "bloom"));
INSTANTIATE_TEST_SUITE_P(Moe, GpuQuantizedArch, ::testing::Values("mixtral"));

class GpuTinydoc : public ::testing::Test {
 protected:
  void SetUp() override {
    GPTQ_REQUIRE_GPU();
    dir_ = test::shared_path("models/tinydoc-llama-13m");
    GPTQ_REQUIRE_PATH(dir_ + "/model.safetensors");
    GPTQ_REQUIRE_PATH(text_path());
  }
  static std::string text_path() { return test::shared_path("data/wikitext-2/test.txt"); }
  std::string dir_;
};

TEST_F(GpuTinydoc, PerplexityOnWikitext2InHalfCompute) {
  auto model = load_on(dir_, "cuda", std::nullopt, -1, false);
  auto context = context_for(*model, 1, 512, 512);
  PerplexityOptions options;
  options.window = 512;
  const PerplexityResult result = perplexity(*context, read_text_file(text_path()), options);
  std::printf("[ tinydoc ] gpu fp16 WikiText-2 test perplexity %.4f (%.0f tokens/s)\n", result.perplexity,
              result.tokens_per_second);
  EXPECT_NEAR(result.perplexity, 35.70, 35.70 * 0.003);
}

TEST_F(GpuTinydoc, QuantizedModelPerplexityMatchesTheCpu) {
  auto cpu = load_on(dir_, "cpu", std::nullopt, -1, false);
  ThreadPool pool(2);
  QuantizeOptions options;
  options.rtn = true;  // the layout, not the algorithm, is under test here
  std::unique_ptr<Model> q4 = quantize_model(pool, *cpu, {}, options, nullptr);
  const std::string dir = test::scratch_dir("gpu-tinydoc-q4") + "/model";
  save_model(*q4, dir, {});
  auto on_cpu = load_on(dir, "cpu", std::nullopt, -1, false);
  auto on_gpu = load_on(dir, "cuda", std::nullopt, -1, false);
  PerplexityOptions ppl;
  ppl.window = 512;
  ppl.max_windows = 8;
  const std::string text = read_text_file(text_path());
  const double cpu_ppl = perplexity(*context_for(*on_cpu, 1, 512, 512), text, ppl).perplexity;
  const double gpu_ppl = perplexity(*context_for(*on_gpu, 1, 512, 512), text, ppl).perplexity;
  std::printf("[ tinydoc ] 4-bit perplexity over 8 windows: cpu %.4f, gpu fp16 %.4f\n", cpu_ppl, gpu_ppl);
  EXPECT_NEAR(gpu_ppl, cpu_ppl, cpu_ppl * 0.003);
}

TEST_F(GpuTinydoc, SplitBetweenGpuAndCpuGivesTheSameLogits) {
  const std::vector<int32_t> tokens = {1, 450, 2472, 310, 278, 4272, 338, 263, 1784, 2989, 322, 372};
  auto cpu = load_on(dir_, "cpu", std::nullopt, -1, false);
  const std::vector<float> want = all_logits(*context_for(*cpu), tokens);
  for (int32_t layers : {-1, 3, 0}) {
    auto model = load_on(dir_, "cuda", FloatType::F32, layers, false);
    std::printf("[ tinydoc ] n_gpu_layers %d: %s\n", layers, model->placement().describe().c_str());
    EXPECT_EQ(model->placement().n_gpu_layers(), layers < 0 ? 6 : layers);
    EXPECT_LT(test::relative_l2(all_logits(*context_for(*model), tokens), want), 1e-5) << "n_gpu_layers " << layers;
  }
}

TEST_F(GpuTinydoc, RunningOutOfGpuMemoryIsAStatusAndTheModelStaysUsable) {
  auto model = load_on(dir_, "cuda", std::nullopt, -1, false);
  std::string message;
  // 4096 sequences of 1M positions: far more KV cache than any GPU holds.
  EXPECT_EQ(test::status_of([&] { context_for(*model, 4096, 64, 1 << 20); }, &message), GPTQ_ERR_OUT_OF_MEMORY);
  std::printf("[ tinydoc ] %s\n", message.c_str());
  EXPECT_NE(message.find("bytes"), std::string::npos) << message;
  EXPECT_NE(message.find("free"), std::string::npos) << message;
  const std::vector<int32_t> tokens = {1, 450, 2472};
  EXPECT_EQ(all_logits(*context_for(*model), tokens).size(), 3u * model->config().vocab_size);
}

}  // namespace
}  // namespace gptq
