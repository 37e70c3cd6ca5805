// The C ABI's promises: statuses and messages, struct_size handling, buffer
// sizing, streaming and stopping, batches, and sharing a model across threads.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "gptq.h"
#include "test_util.h"

namespace {

std::string tinydoc() { return gptq::test::shared_path("models/tinydoc-llama-13m"); }

class CApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (gptq::test::path_exists(tinydoc())) {
      ASSERT_EQ(gptq_model_load(tinydoc().c_str(), nullptr, &model_), GPTQ_OK) << gptq_last_error();
    }
  }
  static void TearDownTestSuite() {
    gptq_model_free(model_);
    model_ = nullptr;
  }
  void SetUp() override {
    if (model_ == nullptr) GTEST_SKIP() << "missing " << tinydoc();
  }

  static gptq_context* new_context(int32_t n_ctx = 256, int32_t n_seq = 1, int32_t threads = 2) {
    gptq_context_params params;
    gptq_context_default_params(&params, sizeof params);
    params.n_ctx = n_ctx;
    params.n_seq_max = n_seq;
    params.n_threads = threads;
    gptq_context* context = nullptr;
    EXPECT_EQ(gptq_context_new(model_, &params, &context), GPTQ_OK) << gptq_last_error();
    return context;
  }

  static gptq_model* model_;
};
gptq_model* CApi::model_ = nullptr;

TEST(CApiBasics, VersionAndStatusNames) {
  EXPECT_EQ(gptq_version(), static_cast<uint32_t>(GPTQ_VERSION_NUMBER));
  EXPECT_STREQ(gptq_version_string(), GPTQ_VERSION_STRING);
  EXPECT_STREQ(gptq_status_name(GPTQ_ERR_NOT_FOUND), "GPTQ_ERR_NOT_FOUND");
  EXPECT_STREQ(gptq_status_name(static_cast<gptq_status>(-1234)), "GPTQ_ERR_UNKNOWN");
  EXPECT_NE(std::string(gptq_system_info()).find("libgptq"), std::string::npos);
}

TEST(CApiBasics, ErrorsCarryMessagesPerThread) {
  gptq_model* model = reinterpret_cast<gptq_model*>(0x1);
  EXPECT_EQ(gptq_model_load("/no/such/model", nullptr, &model), GPTQ_ERR_NOT_FOUND);
  EXPECT_EQ(model, nullptr);
  EXPECT_NE(std::string(gptq_last_error()).find("/no/such/model"), std::string::npos);
  std::string other_thread_error = "unset";
  std::thread([&] { other_thread_error = gptq_last_error(); }).join();
  EXPECT_EQ(other_thread_error, "");
  EXPECT_EQ(gptq_model_load(nullptr, nullptr, &model), GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(gptq_last_error()).find("path"), std::string::npos);
  EXPECT_EQ(gptq_model_load("/x", nullptr, nullptr), GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(gptq_context_new(nullptr, nullptr, nullptr), GPTQ_ERR_INVALID_ARGUMENT);
  // Freeing NULL is a no-op everywhere.
  gptq_model_free(nullptr);
  gptq_context_free(nullptr);
  gptq_generation_free(nullptr);
}

TEST(CApiBasics, StructSizeIsHonoured) {
  // An older, smaller struct: defaults fill only what it has.
  unsigned char buffer[sizeof(gptq_model_params) + 16];
  std::memset(buffer, 0xAB, sizeof buffer);
  auto* params = reinterpret_cast<gptq_model_params*>(buffer);
  gptq_model_default_params(params, 8);
  EXPECT_EQ(params->struct_size, 8u);
  EXPECT_EQ(buffer[8], 0xAB);
  gptq_model_default_params(params, sizeof(gptq_model_params));
  EXPECT_EQ(params->struct_size, sizeof(gptq_model_params));
  EXPECT_EQ(params->use_mmap, 1);
  EXPECT_EQ(buffer[sizeof(gptq_model_params)], 0xAB);

  gptq_model_params truncated;
  gptq_model_default_params(&truncated, sizeof truncated);
  truncated.struct_size = 4;
  gptq_model* model = nullptr;
  EXPECT_EQ(gptq_model_load(tinydoc().c_str(), &truncated, &model), GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(gptq_last_error()).find("struct_size"), std::string::npos);
}

TEST_F(CApi, ModelInfo) {
  gptq_model_info info;
  info.struct_size = sizeof info;
  ASSERT_EQ(gptq_model_get_info(model_, &info), GPTQ_OK);
  EXPECT_STREQ(info.architecture, "llama");
  EXPECT_STREQ(info.tokenizer, "sentencepiece");
  EXPECT_EQ(info.vocab_size, 8192);
  EXPECT_EQ(info.n_layers, 6);
  EXPECT_EQ(info.n_kv_heads, 2);
  EXPECT_EQ(info.weight_dtype, GPTQ_DTYPE_F16);
  EXPECT_EQ(info.tied_embeddings, 1);
  EXPECT_EQ(info.bos_token, 1);
  EXPECT_EQ(info.eos_token, 2);
  EXPECT_EQ(info.quant_bits, 0);
  EXPECT_NEAR(static_cast<double>(info.n_params), 12.6e6, 0.1e6);
  EXPECT_STREQ(gptq_model_token_text(model_, 1), "<s>");
  EXPECT_EQ(gptq_model_token_text(model_, 8192), nullptr);
  EXPECT_EQ(gptq_model_token_is_eog(model_, 2), 1);
  EXPECT_EQ(gptq_model_token_is_eog(model_, 3), 0);
  info.struct_size = 2;
  EXPECT_EQ(gptq_model_get_info(model_, &info), GPTQ_ERR_INVALID_ARGUMENT);
}

TEST_F(CApi, TokenizeAndDetokenizeBuffers) {
  const char* text = "Hello world";
  size_t n = 0;
  ASSERT_EQ(gptq_tokenize(model_, text, std::strlen(text), GPTQ_TOKENIZE_ADD_SPECIAL, nullptr, 0, &n),
            GPTQ_ERR_BUFFER_TOO_SMALL);
  ASSERT_GT(n, 1u);
  std::vector<int32_t> ids(n);
  ASSERT_EQ(gptq_tokenize(model_, text, std::strlen(text), GPTQ_TOKENIZE_ADD_SPECIAL, ids.data(), ids.size(), &n),
            GPTQ_OK);
  EXPECT_EQ(ids[0], 1);  // BOS
  size_t len = 0;
  char small[4];
  EXPECT_EQ(gptq_detokenize(model_, ids.data(), ids.size(), GPTQ_DETOKENIZE_SKIP_SPECIAL, small, sizeof small, &len),
            GPTQ_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(len, std::strlen(text));
  std::vector<char> out(len + 1);
  ASSERT_EQ(gptq_detokenize(model_, ids.data(), ids.size(), GPTQ_DETOKENIZE_SKIP_SPECIAL, out.data(), out.size(), &len),
            GPTQ_OK);
  EXPECT_STREQ(out.data(), text);

  const char bad_utf8[] = "ok \xC3\x28";
  EXPECT_EQ(gptq_tokenize(model_, bad_utf8, sizeof bad_utf8 - 1, 0, ids.data(), ids.size(), &n),
            GPTQ_ERR_INVALID_ARGUMENT);
  const int32_t bad_id = 99999;
  EXPECT_EQ(gptq_detokenize(model_, &bad_id, 1, 0, out.data(), out.size(), &len), GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(gptq_tokenize(model_, text, std::strlen(text), 0x80, ids.data(), ids.size(), &n), GPTQ_ERR_INVALID_ARGUMENT);
}

TEST_F(CApi, EvalChecksItsArguments) {
  gptq_context* context = new_context(16);
  const int32_t tokens[] = {1, 450, 3303};
  std::vector<float> logits(3 * 8192);
  EXPECT_EQ(gptq_context_eval(context, 0, tokens, 3, GPTQ_LOGITS_ALL, logits.data(), 8192), GPTQ_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(gptq_context_seq_length(context, 0), 0);  // nothing ran
  EXPECT_EQ(gptq_context_eval(context, 0, tokens, 3, 7, logits.data(), logits.size()), GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(gptq_context_eval(context, 1, tokens, 3, GPTQ_LOGITS_NONE, nullptr, 0), GPTQ_ERR_INVALID_ARGUMENT);
  const int32_t bad[] = {1, -5};
  EXPECT_EQ(gptq_context_eval(context, 0, bad, 2, GPTQ_LOGITS_NONE, nullptr, 0), GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(gptq_last_error()).find("-5"), std::string::npos);
  ASSERT_EQ(gptq_context_eval(context, 0, tokens, 3, GPTQ_LOGITS_LAST, logits.data(), 8192), GPTQ_OK);
  EXPECT_EQ(gptq_context_seq_length(context, 0), 3);
  std::vector<int32_t> many(14, 450);
  EXPECT_EQ(gptq_context_eval(context, 0, many.data(), many.size(), GPTQ_LOGITS_NONE, nullptr, 0), GPTQ_ERR_CONTEXT_FULL);
  ASSERT_EQ(gptq_context_clear(context, 0), GPTQ_OK);
  EXPECT_EQ(gptq_context_seq_length(context, 0), 0);
  EXPECT_EQ(gptq_context_seq_length(context, 5), -1);
  gptq_context_free(context);
}

struct Collected {
  std::string text;
  int calls = 0;
  int stop_after = -1;
};

int32_t collect(int32_t, int32_t, const char* text, size_t len, void* user_data) {
  auto* c = static_cast<Collected*>(user_data);
  c->text.append(text, len);
  ++c->calls;
  return c->stop_after >= 0 && c->calls >= c->stop_after ? 1 : 0;
}

TEST_F(CApi, StreamingMatchesTheResultAndCanStop) {
  gptq_context* context = new_context();
  gptq_generate_params params;
  gptq_generate_default_params(&params, sizeof params);
  params.max_new_tokens = 40;
  Collected collected;
  params.on_token = collect;
  params.user_data = &collected;
  gptq_generation* generation = nullptr;
  ASSERT_EQ(gptq_generate(context, "The Linux kernel", &params, &generation), GPTQ_OK) << gptq_last_error();
  EXPECT_EQ(collected.text, gptq_generation_text(generation, 0));
  EXPECT_EQ(static_cast<size_t>(collected.calls), gptq_generation_tokens(generation, 0, nullptr));
  gptq_generation_free(generation);

  Collected stopper;
  stopper.stop_after = 5;
  params.user_data = &stopper;
  ASSERT_EQ(gptq_generate(context, "The Linux kernel", &params, &generation), GPTQ_OK);
  EXPECT_EQ(gptq_generation_stop_reason(generation, 0), GPTQ_STOP_CALLBACK);
  EXPECT_EQ(gptq_generation_tokens(generation, 0, nullptr), 5u);
  gptq_generation_free(generation);
  gptq_context_free(context);
}

TEST_F(CApi, PullStreamGivesWhatTheCallbackGives) {
  const char* prompts[] = {"The history of the city", "def fibonacci(n):"};
  gptq_generate_params params;
  gptq_generate_default_params(&params, sizeof params);
  params.max_new_tokens = 24;
  params.stop_on_eos = 0;
  gptq_context* context = new_context(256, 2);
  gptq_generation* pushed = nullptr;
  ASSERT_EQ(gptq_generate_batch(context, prompts, 2, &params, &pushed), GPTQ_OK);

  gptq_stream* stream = nullptr;
  ASSERT_EQ(gptq_stream_begin(context, prompts, 2, &params, &stream), GPTQ_OK) << gptq_last_error();
  std::string texts[2];
  int counts[2] = {0, 0};
  gptq_stream_event event;
  event.struct_size = sizeof event;
  int32_t done = 0;
  while (gptq_stream_next(stream, &event, &done) == GPTQ_OK && !done) {
    ASSERT_TRUE(event.sequence == 0 || event.sequence == 1);
    texts[event.sequence].append(event.text, event.text_len);
    ++counts[event.sequence];
    if (event.sequence == 1 && counts[1] == 10) {
      ASSERT_EQ(gptq_stream_stop(stream, 1), GPTQ_OK);
    }
  }
  EXPECT_EQ(done, 1);
  EXPECT_EQ(texts[0], gptq_generation_text(pushed, 0));
  EXPECT_EQ(counts[0], 24);
  EXPECT_EQ(counts[1], 10);
  gptq_generation* pulled = nullptr;
  ASSERT_EQ(gptq_stream_result(stream, &pulled), GPTQ_OK);
  EXPECT_EQ(gptq_generation_stop_reason(pulled, 0), GPTQ_STOP_LENGTH);
  EXPECT_EQ(gptq_generation_stop_reason(pulled, 1), GPTQ_STOP_CALLBACK);
  EXPECT_EQ(std::string(gptq_generation_text(pulled, 1)), texts[1]);
  EXPECT_EQ(gptq_stream_stop(stream, 7), GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(gptq_stream_next(stream, &event, &done), GPTQ_OK);  // still done, no error
  EXPECT_EQ(done, 1);
  gptq_generation_free(pulled);
  gptq_generation_free(pushed);
  gptq_stream_free(stream);
  gptq_stream_free(nullptr);
  gptq_context_free(context);
}

TEST_F(CApi, StopStringsCutTheText) {
  gptq_context* context = new_context();
  gptq_generate_params params;
  gptq_generate_default_params(&params, sizeof params);
  params.max_new_tokens = 40;
  params.stop_on_eos = 0;
  gptq_generation* full = nullptr;
  ASSERT_EQ(gptq_generate(context, "def fibonacci(n):", &params, &full), GPTQ_OK);
  const std::string text = gptq_generation_text(full, 0);
  ASSERT_GT(text.size(), 12u);
  const std::string stop = text.substr(8, 3);
  const char* stops[] = {stop.c_str()};
  params.stop_strings = stops;
  params.n_stop_strings = 1;
  Collected collected;
  params.on_token = collect;
  params.user_data = &collected;
  gptq_generation* cut = nullptr;
  ASSERT_EQ(gptq_generate(context, "def fibonacci(n):", &params, &cut), GPTQ_OK);
  EXPECT_EQ(gptq_generation_stop_reason(cut, 0), GPTQ_STOP_STRING);
  EXPECT_EQ(std::string(gptq_generation_text(cut, 0)), text.substr(0, text.find(stop)));
  EXPECT_EQ(collected.text, gptq_generation_text(cut, 0));
  gptq_generation_free(full);
  gptq_generation_free(cut);

  const char* empty[] = {""};
  params.stop_strings = empty;
  EXPECT_EQ(gptq_generate(context, "x", &params, &cut), GPTQ_ERR_INVALID_ARGUMENT);
  gptq_context_free(context);
}

TEST_F(CApi, BatchEqualsSeparateGenerations) {
  const char* prompts[] = {"The history of the city", "In mathematics, a group is", "To configure the kernel module,"};
  gptq_generate_params params;
  gptq_generate_default_params(&params, sizeof params);
  params.max_new_tokens = 20;
  gptq_context* batch_context = new_context(256, 3);
  gptq_generation* batch = nullptr;
  ASSERT_EQ(gptq_generate_batch(batch_context, prompts, 3, &params, &batch), GPTQ_OK) << gptq_last_error();
  ASSERT_EQ(gptq_generation_count(batch), 3u);
  gptq_context* single = new_context();
  for (size_t i = 0; i < 3; ++i) {
    gptq_generation* one = nullptr;
    ASSERT_EQ(gptq_generate(single, prompts[i], &params, &one), GPTQ_OK);
    EXPECT_STREQ(gptq_generation_text(batch, i), gptq_generation_text(one, 0)) << i;
    gptq_generation_free(one);
  }
  gptq_generation* too_many = nullptr;
  EXPECT_EQ(gptq_generate_batch(single, prompts, 3, &params, &too_many), GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(gptq_last_error()).find("n_seq_max"), std::string::npos);
  gptq_timings timings;
  timings.struct_size = sizeof timings;
  ASSERT_EQ(gptq_generation_timings(batch, &timings), GPTQ_OK);
  EXPECT_EQ(timings.generated_tokens, 60);
  gptq_generation_free(batch);
  gptq_context_free(single);
  gptq_context_free(batch_context);
}

TEST_F(CApi, SeededSamplingIsReproducible) {
  gptq_context* context = new_context();
  gptq_generate_params params;
  gptq_generate_default_params(&params, sizeof params);
  params.max_new_tokens = 24;
  params.temperature = 0.9f;
  params.top_p = 0.95f;
  params.top_k = 50;
  params.min_p = 0.02f;
  params.repetition_penalty = 1.1f;
  params.seed = 42;
  auto run = [&] {
    gptq_generation* g = nullptr;
    EXPECT_EQ(gptq_generate(context, "The history of the city", &params, &g), GPTQ_OK);
    std::string text = g ? gptq_generation_text(g, 0) : "";
    gptq_generation_free(g);
    return text;
  };
  const std::string a = run(), b = run();
  EXPECT_EQ(a, b);
  params.seed = 43;
  EXPECT_NE(run(), a);
  params.top_p = 1.5f;
  gptq_generation* g = nullptr;
  EXPECT_EQ(gptq_generate(context, "x", &params, &g), GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(gptq_last_error()).find("top_p"), std::string::npos);
  gptq_context_free(context);
}

TEST_F(CApi, OneModelManyThreads) {
  gptq_generate_params params;
  gptq_generate_default_params(&params, sizeof params);
  params.max_new_tokens = 16;
  std::vector<std::string> texts(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      gptq_context* context = new_context(128, 1, 1);
      gptq_generation* g = nullptr;
      if (gptq_generate(context, "In mathematics, a group is", &params, &g) == GPTQ_OK) texts[t] = gptq_generation_text(g, 0);
      gptq_generation_free(g);
      gptq_context_free(context);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(texts[0].empty());
  for (int t = 1; t < 4; ++t) EXPECT_EQ(texts[t], texts[0]);
}

int32_t cancel_at_half(float fraction, const char*, void*) { return fraction >= 0.5f ? 1 : 0; }

TEST_F(CApi, PerplexityIsTheMeanNllOverWindows) {
  gptq_context* context = new_context(128);
  FILE* f = std::fopen(gptq::test::shared_path("data/wikitext-2/test.txt").c_str(), "rb");
  ASSERT_NE(f, nullptr);
  std::string text(3000, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), f));
  std::fclose(f);
  gptq_perplexity_params params;
  gptq_perplexity_default_params(&params, sizeof params);
  params.window = 64;
  gptq_perplexity_result result;
  result.struct_size = sizeof result;
  ASSERT_EQ(gptq_perplexity(context, text.data(), text.size(), &params, &result), GPTQ_OK) << gptq_last_error();

  // The same by hand: tokenize once without BOS, full windows, every prediction.
  std::vector<int32_t> ids(4096);
  size_t n = 0;
  ASSERT_EQ(gptq_tokenize(model_, text.data(), text.size(), 0, ids.data(), ids.size(), &n), GPTQ_OK);
  const size_t windows = n / 64;
  std::vector<float> logits(64 * 8192);
  double nll = 0;
  for (size_t w = 0; w < windows; ++w) {
    ASSERT_EQ(gptq_context_clear(context, 0), GPTQ_OK);
    ASSERT_EQ(gptq_context_eval(context, 0, &ids[w * 64], 64, GPTQ_LOGITS_ALL, logits.data(), logits.size()), GPTQ_OK);
    for (int t = 0; t < 63; ++t) {
      const float* row = &logits[t * 8192];
      double max = row[0], sum = 0;
      for (int v = 1; v < 8192; ++v) max = std::max<double>(max, row[v]);
      for (int v = 0; v < 8192; ++v) sum += std::exp(row[v] - max);
      nll += std::log(sum) + max - row[ids[w * 64 + t + 1]];
    }
  }
  EXPECT_EQ(result.n_windows, static_cast<int32_t>(windows));
  EXPECT_EQ(result.n_scored, static_cast<int64_t>(windows * 63));
  EXPECT_EQ(result.n_text_tokens, static_cast<int64_t>(n));
  EXPECT_NEAR(result.mean_nll, nll / (windows * 63), 1e-9);
  EXPECT_NEAR(result.perplexity, std::exp(result.mean_nll), 1e-9);

  params.window = 256;  // more than n_ctx
  EXPECT_EQ(gptq_perplexity(context, text.data(), text.size(), &params, &result), GPTQ_ERR_INVALID_ARGUMENT);
  params.window = 64;
  params.progress = cancel_at_half;
  EXPECT_EQ(gptq_perplexity(context, text.data(), text.size(), &params, &result), GPTQ_ERR_CANCELLED);
  EXPECT_EQ(gptq_perplexity_file(context, "/no/such/file.txt", nullptr, &result), GPTQ_ERR_NOT_FOUND);
  params.progress = nullptr;
  EXPECT_EQ(gptq_perplexity(context, "tiny", 4, &params, &result), GPTQ_ERR_INVALID_ARGUMENT);
  gptq_context_free(context);
}

}  // namespace
