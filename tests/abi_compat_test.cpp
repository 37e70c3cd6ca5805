// Programs built against the first release's header (0.1.0) must keep
// working with this library: their params structs, smaller than today's,
// are accepted and the fields appended since get their defaults; their
// output structs are filled only as far as they reach. The structs below
// are copies of the 0.1.0 layouts, passed to the real API through a cast,
// as an old program's would be.
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "gptq.h"
#include "test_util.h"

namespace {

namespace v0_1_0 {

struct model_params {
  uint32_t struct_size;
  int32_t use_mmap;
  gptq_progress_fn progress;
  void* progress_user_data;
  int32_t round_rope_to_weight_dtype;
};

struct model_info {
  uint32_t struct_size;
  const char* architecture;
  const char* path;
  const char* tokenizer;
  int32_t vocab_size;
  int32_t n_layers;
  int32_t hidden_size;
  int32_t intermediate_size;
  int32_t n_heads;
  int32_t n_kv_heads;
  int32_t head_dim;
  int32_t max_position_embeddings;
  int32_t weight_dtype;
  int32_t tied_embeddings;
  int64_t n_params;
  int64_t weight_bytes;
  float rope_theta;
  const char* rope_type;
  int32_t bos_token;
  int32_t eos_token;
  int32_t quant_bits;
  int32_t quant_group_size;
  int32_t quant_desc_act;
  int32_t quant_sym;
  int32_t quant_static_groups;
  const char* quant_format;
};

struct context_params {
  uint32_t struct_size;
  int32_t n_ctx;
  int32_t n_seq_max;
  int32_t n_batch;
  int32_t n_threads;
};

struct generate_params {
  uint32_t struct_size;
  int32_t max_new_tokens;
  float temperature;
  int32_t top_k;
  float top_p;
  float min_p;
  float repetition_penalty;
  int32_t repetition_last_n;
  uint64_t seed;
  int32_t add_special;
  int32_t stop_on_eos;
  const char* const* stop_strings;
  int32_t n_stop_strings;
  gptq_token_fn on_token;
  void* user_data;
};

struct timings {
  uint32_t struct_size;
  int64_t prompt_tokens;
  double prompt_seconds;
  int64_t generated_tokens;
  double generate_seconds;
  double prompt_tokens_per_second;
  double generated_tokens_per_second;
};

struct stream_event {
  uint32_t struct_size;
  int32_t sequence;
  int32_t token;
  const char* text;
  size_t text_len;
  int32_t finished;
};

struct quantize_params {
  uint32_t struct_size;
  int32_t bits;
  int32_t group_size;
  int32_t desc_act;
  int32_t sym;
  int32_t static_groups;
  int32_t true_sequential;
  float damp_percent;
  int32_t method;
  int32_t mse;
  const char* const* skip_modules;
  int32_t n_skip_modules;
  int32_t n_threads;
  gptq_quantize_progress_fn progress;
  void* progress_user_data;
};

struct save_params {
  uint32_t struct_size;
  int32_t format;
  int64_t max_shard_bytes;
};

struct perplexity_params {
  uint32_t struct_size;
  int32_t window;
  int32_t add_bos;
  int32_t max_windows;
  gptq_progress_fn progress;
  void* progress_user_data;
};

struct perplexity_result {
  uint32_t struct_size;
  double perplexity;
  double mean_nll;
  int64_t n_scored;
  int64_t n_text_tokens;
  int32_t n_windows;
  double seconds;
  double tokens_per_second;
};

// The sizes tests/abi/abi_layout.c froze for 0.1.0 (LP64): the copies are faithful.
#if defined(__LP64__)
static_assert(sizeof(model_params) == 32);
static_assert(sizeof(model_info) == 144);
static_assert(sizeof(context_params) == 20);
static_assert(sizeof(generate_params) == 80);
static_assert(sizeof(timings) == 56);
static_assert(sizeof(stream_event) == 40);
static_assert(sizeof(quantize_params) == 72);
static_assert(sizeof(save_params) == 16);
static_assert(sizeof(perplexity_params) == 32);
static_assert(sizeof(perplexity_result) == 64);
#endif

}  // namespace v0_1_0

constexpr unsigned char kCanary = 0xA5;

// An old struct followed by canary bytes that the library must never touch.
template <typename Old>
struct Guarded {
  Old value;
  unsigned char after[32];

  Guarded() {
    std::memset(static_cast<void*>(this), kCanary, sizeof *this);
    value.struct_size = sizeof(Old);
  }
  bool canary_intact() const {
    for (unsigned char c : after) {
      if (c != kCanary) return false;
    }
    return true;
  }
};

template <typename New, typename Old>
New* as_current(Old* old) {
  static_assert(sizeof(Old) <= sizeof(New), "the first release's struct cannot be larger than today's");
  return reinterpret_cast<New*>(old);
}

std::string tinydoc() { return gptq::test::shared_path("models/tinydoc-llama-13m"); }

// Where the last 0.1.0 field of an old struct ends: the smallest struct_size accepted.
#define END_OF_FIELD(type, field) (offsetof(type, field) + sizeof(type::field))

// One byte short of the first release's layout is refused, naming
// struct_size; `struct_size` is put back afterwards.
template <typename Call>
void expect_refused_one_byte_short(uint32_t& struct_size, size_t first_release_end, Call&& call) {
  const uint32_t kept = struct_size;
  struct_size = static_cast<uint32_t>(first_release_end - 1);
  EXPECT_EQ(call(), GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(gptq_last_error()).find("struct_size"), std::string::npos) << gptq_last_error();
  struct_size = kept;
}

class AbiFirstRelease : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!gptq::test::path_exists(tinydoc())) return;
    ASSERT_EQ(gptq_model_load(tinydoc().c_str(), nullptr, &model_), GPTQ_OK) << gptq_last_error();
    gptq_context_params params;
    gptq_context_default_params(&params, sizeof params);
    params.n_ctx = 128;
    params.n_threads = 2;
    ASSERT_EQ(gptq_context_new(model_, &params, &context_), GPTQ_OK) << gptq_last_error();
  }
  static void TearDownTestSuite() {
    gptq_context_free(context_);
    gptq_model_free(model_);
    context_ = nullptr;
    model_ = nullptr;
  }
  void SetUp() override {
    if (model_ == nullptr) GTEST_SKIP() << "missing " << tinydoc();
  }

  static gptq_model* model_;
  static gptq_context* context_;
};
gptq_model* AbiFirstRelease::model_ = nullptr;
gptq_context* AbiFirstRelease::context_ = nullptr;

// default_params writes exactly the old struct: its size, its defaults, nothing past it.
template <typename Old, typename New>
void expect_old_defaults(void (*fill)(New*, size_t), Guarded<Old>& old) {
  fill(as_current<New>(&old.value), sizeof(Old));
  EXPECT_EQ(old.value.struct_size, sizeof(Old));
  EXPECT_TRUE(old.canary_intact());
  New current;
  fill(&current, sizeof current);
  EXPECT_EQ(std::memcmp(reinterpret_cast<const unsigned char*>(&old.value) + sizeof(uint32_t),
                        reinterpret_cast<const unsigned char*>(&current) + sizeof(uint32_t),
                        sizeof(Old) - sizeof(uint32_t)),
            0)
      << "the defaults of the fields an old caller has must not change";
}

TEST_F(AbiFirstRelease, ModelParamsAreAcceptedAndLaterFieldsDefault) {
  Guarded<v0_1_0::model_params> old;
  expect_old_defaults(gptq_model_default_params, old);
  old.value.use_mmap = 0;
  gptq_model* model = nullptr;
  ASSERT_EQ(gptq_model_load(tinydoc().c_str(), as_current<gptq_model_params>(&old.value), &model), GPTQ_OK)
      << gptq_last_error();
  gptq_model_info info;
  info.struct_size = sizeof info;
  EXPECT_EQ(gptq_model_get_info(model, &info), GPTQ_OK);
  EXPECT_EQ(info.n_layers, 6);
  EXPECT_STREQ(info.device, "cpu") << "an old caller has no device field: the default, the CPU";
  EXPECT_EQ(info.n_gpu_layers, 0);
  gptq_model_free(model);

  // The end of the last 0.1.0 field, without the tail padding, is enough too.
  const size_t end = END_OF_FIELD(v0_1_0::model_params, round_rope_to_weight_dtype);
  old.value.struct_size = static_cast<uint32_t>(end);
  ASSERT_EQ(gptq_model_load(tinydoc().c_str(), as_current<gptq_model_params>(&old.value), &model), GPTQ_OK)
      << gptq_last_error();
  gptq_model_free(model);

  expect_refused_one_byte_short(old.value.struct_size, end, [&] {
    return gptq_model_load(tinydoc().c_str(), as_current<gptq_model_params>(&old.value), &model);
  });
  EXPECT_EQ(model, nullptr);
}

TEST_F(AbiFirstRelease, ModelInfoIsFilledOnlyAsFarAsItReaches) {
  Guarded<v0_1_0::model_info> old;
  ASSERT_EQ(gptq_model_get_info(model_, as_current<gptq_model_info>(&old.value)), GPTQ_OK) << gptq_last_error();
  EXPECT_EQ(old.value.struct_size, sizeof(v0_1_0::model_info));
  EXPECT_TRUE(old.canary_intact());
  EXPECT_STREQ(old.value.architecture, "llama");
  EXPECT_EQ(old.value.n_layers, 6);
  EXPECT_STREQ(old.value.quant_format, "");

  expect_refused_one_byte_short(old.value.struct_size, END_OF_FIELD(v0_1_0::model_info, quant_format),
                                [&] { return gptq_model_get_info(model_, as_current<gptq_model_info>(&old.value)); });
}

TEST_F(AbiFirstRelease, ContextParamsAreAccepted) {
  Guarded<v0_1_0::context_params> old;
  expect_old_defaults(gptq_context_default_params, old);
  old.value.n_ctx = 64;
  old.value.n_threads = 1;
  gptq_context* context = nullptr;
  ASSERT_EQ(gptq_context_new(model_, as_current<gptq_context_params>(&old.value), &context), GPTQ_OK)
      << gptq_last_error();
  EXPECT_EQ(gptq_context_n_ctx(context), 64);
  EXPECT_EQ(gptq_context_n_threads(context), 1);
  gptq_context_free(context);

  expect_refused_one_byte_short(old.value.struct_size, END_OF_FIELD(v0_1_0::context_params, n_threads), [&] {
    return gptq_context_new(model_, as_current<gptq_context_params>(&old.value), &context);
  });
}

TEST_F(AbiFirstRelease, GenerateParamsAndTimingsAreAccepted) {
  Guarded<v0_1_0::generate_params> old;
  expect_old_defaults(gptq_generate_default_params, old);
  old.value.max_new_tokens = 3;
  old.value.stop_on_eos = 0;
  gptq_generation* generation = nullptr;
  ASSERT_EQ(gptq_generate(context_, "The history of the city", as_current<gptq_generate_params>(&old.value),
                          &generation),
            GPTQ_OK)
      << gptq_last_error();
  EXPECT_EQ(gptq_generation_tokens(generation, 0, nullptr), 3u);

  Guarded<v0_1_0::timings> timings;
  ASSERT_EQ(gptq_generation_timings(generation, as_current<gptq_timings>(&timings.value)), GPTQ_OK)
      << gptq_last_error();
  EXPECT_EQ(timings.value.struct_size, sizeof(v0_1_0::timings));
  EXPECT_EQ(timings.value.generated_tokens, 3);
  EXPECT_TRUE(timings.canary_intact());
  expect_refused_one_byte_short(
      timings.value.struct_size, END_OF_FIELD(v0_1_0::timings, generated_tokens_per_second),
      [&] { return gptq_generation_timings(generation, as_current<gptq_timings>(&timings.value)); });
  gptq_generation_free(generation);

  expect_refused_one_byte_short(old.value.struct_size, END_OF_FIELD(v0_1_0::generate_params, user_data), [&] {
    return gptq_generate(context_, "x", as_current<gptq_generate_params>(&old.value), &generation);
  });
}

TEST_F(AbiFirstRelease, StreamEventsAreFilledOnlyAsFarAsTheyReach) {
  Guarded<v0_1_0::generate_params> params;
  gptq_generate_default_params(as_current<gptq_generate_params>(&params.value), sizeof params.value);
  params.value.max_new_tokens = 2;
  params.value.stop_on_eos = 0;
  const char* prompts[] = {"The history of the city"};
  gptq_stream* stream = nullptr;
  ASSERT_EQ(gptq_stream_begin(context_, prompts, 1, as_current<gptq_generate_params>(&params.value), &stream), GPTQ_OK)
      << gptq_last_error();
  Guarded<v0_1_0::stream_event> event;
  int32_t done = 0;
  ASSERT_EQ(gptq_stream_next(stream, as_current<gptq_stream_event>(&event.value), &done), GPTQ_OK)
      << gptq_last_error();
  EXPECT_EQ(done, 0);
  EXPECT_EQ(event.value.struct_size, sizeof(v0_1_0::stream_event));
  EXPECT_EQ(event.value.sequence, 0);
  EXPECT_TRUE(event.canary_intact());

  // Without the tail padding: the library writes no byte past `finished`.
  Guarded<v0_1_0::stream_event> tight;
  const size_t end = END_OF_FIELD(v0_1_0::stream_event, finished);
  tight.value.struct_size = static_cast<uint32_t>(end);
  ASSERT_EQ(gptq_stream_next(stream, as_current<gptq_stream_event>(&tight.value), &done), GPTQ_OK)
      << gptq_last_error();
  EXPECT_EQ(tight.value.finished, 1);
  const auto* bytes = reinterpret_cast<const unsigned char*>(&tight.value);
  for (size_t i = tight.value.struct_size; i < sizeof(v0_1_0::stream_event); ++i) EXPECT_EQ(bytes[i], kCanary) << i;

  expect_refused_one_byte_short(tight.value.struct_size, end, [&] {
    return gptq_stream_next(stream, as_current<gptq_stream_event>(&tight.value), &done);
  });
  gptq_stream_free(stream);
}

TEST_F(AbiFirstRelease, QuantizeAndSaveParamsAreAccepted) {
  Guarded<v0_1_0::quantize_params> old;
  expect_old_defaults(gptq_quantize_default_params, old);
  old.value.method = GPTQ_METHOD_RTN;
  old.value.bits = 8;
  old.value.n_threads = 2;
  gptq_model* quantized = nullptr;
  ASSERT_EQ(gptq_quantize(model_, nullptr, as_current<gptq_quantize_params>(&old.value), &quantized), GPTQ_OK)
      << gptq_last_error();
  gptq_model_info info;
  info.struct_size = sizeof info;
  ASSERT_EQ(gptq_model_get_info(quantized, &info), GPTQ_OK);
  EXPECT_EQ(info.quant_bits, 8);

  Guarded<v0_1_0::save_params> save;
  expect_old_defaults(gptq_save_default_params, save);
  save.value.format = GPTQ_FORMAT_GPTQ_V2;
  const std::string dir = gptq::test::scratch_dir("abi-first-release") + "/q8";
  ASSERT_EQ(gptq_model_save(quantized, dir.c_str(), as_current<gptq_save_params>(&save.value)), GPTQ_OK)
      << gptq_last_error();
  EXPECT_TRUE(gptq::test::path_exists(dir + "/model.safetensors"));

  expect_refused_one_byte_short(save.value.struct_size, END_OF_FIELD(v0_1_0::save_params, max_shard_bytes), [&] {
    return gptq_model_save(quantized, (dir + "-again").c_str(), as_current<gptq_save_params>(&save.value));
  });
  gptq_model_free(quantized);

  expect_refused_one_byte_short(
      old.value.struct_size, END_OF_FIELD(v0_1_0::quantize_params, progress_user_data),
      [&] { return gptq_quantize(model_, nullptr, as_current<gptq_quantize_params>(&old.value), &quantized); });
}

TEST_F(AbiFirstRelease, PerplexityParamsAndResultAreAccepted) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "The history of the city is long and its people remember it well. ";
  Guarded<v0_1_0::perplexity_params> old;
  expect_old_defaults(gptq_perplexity_default_params, old);
  old.value.window = 64;
  old.value.max_windows = 1;
  Guarded<v0_1_0::perplexity_result> result;
  ASSERT_EQ(gptq_perplexity(context_, text.data(), text.size(), as_current<gptq_perplexity_params>(&old.value),
                            as_current<gptq_perplexity_result>(&result.value)),
            GPTQ_OK)
      << gptq_last_error();
  EXPECT_EQ(result.value.struct_size, sizeof(v0_1_0::perplexity_result));
  EXPECT_EQ(result.value.n_windows, 1);
  EXPECT_GT(result.value.perplexity, 1.0);
  EXPECT_TRUE(result.canary_intact());

  auto run = [&] {
    return gptq_perplexity(context_, text.data(), text.size(), as_current<gptq_perplexity_params>(&old.value),
                           as_current<gptq_perplexity_result>(&result.value));
  };
  expect_refused_one_byte_short(result.value.struct_size, END_OF_FIELD(v0_1_0::perplexity_result, tokens_per_second),
                                run);
  expect_refused_one_byte_short(old.value.struct_size, END_OF_FIELD(v0_1_0::perplexity_params, progress_user_data),
                                run);
}

}  // namespace
