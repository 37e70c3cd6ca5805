// config.json in both spellings, and the errors for configs libgptq cannot use.
#include "core/error.h"
#include "io/json_file.h"
#include "model/config.h"
#include "model/rope.h"
#include "test_util.h"

namespace gptq {
namespace {

Json fixture_config(const char* arch) {
  return load_json_file(test::shared_path(std::string("fixtures/archs/") + arch + "/config.json"));
}

// Rewrites a transformers 5.x config the way older releases stored it.
Json to_legacy_spelling(Json config) {
  Json rope = config["rope_parameters"];
  config.erase("rope_parameters");
  config["rope_theta"] = rope["rope_theta"];
  rope.erase("rope_theta");
  if (rope["rope_type"] != "default") {
    rope["type"] = rope["rope_type"];
    rope.erase("rope_type");
    config["rope_scaling"] = rope;
  }
  config["torch_dtype"] = config["dtype"];
  config.erase("dtype");
  return config;
}

TEST(ModelConfig, BothSpellingsParseAlike) {
  for (const char* arch : {"llama", "llama_rope_scaled", "llama_tied_bf16", "mistral", "qwen2"}) {
    GPTQ_REQUIRE_PATH(test::shared_path(std::string("fixtures/archs/") + arch + "/config.json"));
    const Json modern = fixture_config(arch);
    const ModelConfig a = parse_model_config(modern, "modern");
    const ModelConfig b = parse_model_config(to_legacy_spelling(modern), "legacy");
    EXPECT_EQ(a.rope.type, b.rope.type) << arch;
    EXPECT_EQ(a.rope.theta, b.rope.theta) << arch;
    EXPECT_EQ(a.rope.factor, b.rope.factor) << arch;
    EXPECT_EQ(a.rope.original_max_position, b.rope.original_max_position) << arch;
    EXPECT_EQ(a.dtype, b.dtype) << arch;
    EXPECT_EQ(a.head_dim, b.head_dim);
    EXPECT_EQ(a.n_kv_heads, b.n_kv_heads);
  }
}

TEST(ModelConfig, ReadsArchitectureDetails) {
  GPTQ_REQUIRE_PATH(test::shared_path("fixtures/archs/qwen2/config.json"));
  const ModelConfig qwen = parse_model_config(fixture_config("qwen2"), "qwen2");
  EXPECT_TRUE(qwen.attention_bias);
  EXPECT_FALSE(qwen.o_proj_bias);
  EXPECT_EQ(qwen.sliding_window, 0);  // use_sliding_window is false
  const ModelConfig tied = parse_model_config(fixture_config("llama_tied_bf16"), "tied");
  EXPECT_TRUE(tied.tie_word_embeddings);
  EXPECT_EQ(tied.rope.theta, 500000.0);
  EXPECT_EQ(tied.dtype, "bfloat16");
  const ModelConfig scaled = parse_model_config(fixture_config("llama_rope_scaled"), "scaled");
  EXPECT_EQ(scaled.rope.type, "llama3");
  EXPECT_EQ(scaled.rope.factor, 8.0);
  EXPECT_EQ(scaled.rope.original_max_position, 64);
}

TEST(ModelConfig, Llama3ScalingKeepsHighAndDividesLowFrequencies) {
  GPTQ_REQUIRE_PATH(test::shared_path("fixtures/archs/llama_rope_scaled/config.json"));
  ModelConfig scaled = parse_model_config(fixture_config("llama_rope_scaled"), "scaled");
  ModelConfig plain = scaled;
  plain.rope.type = "default";
  const std::vector<float> s = rope_inverse_frequencies(scaled), p = rope_inverse_frequencies(plain);
  ASSERT_EQ(s.size(), 16u);
  EXPECT_EQ(s.front(), p.front());                   // shortest wavelength untouched
  EXPECT_FLOAT_EQ(s.back(), p.back() / 8.0f);        // longest divided by factor
  for (size_t i = 0; i < s.size(); ++i) EXPECT_LE(s[i], p[i]);
}

gptq_status parse_status(const Json& config, std::string* message) {
  return test::status_of([&] { parse_model_config(config, "config.json"); }, message);
}

TEST(ModelConfig, ClearErrors) {
  GPTQ_REQUIRE_PATH(test::shared_path("fixtures/archs/llama/config.json"));
  const Json base = fixture_config("llama");
  std::string message;
  struct Case {
    const char* key;
    Json value;
    gptq_status status;
    const char* fragment;
  };
  const Case cases[] = {
      {"model_type", "t5", GPTQ_ERR_UNSUPPORTED, "llama, mistral, qwen2"},
      {"model_type", nullptr, GPTQ_ERR_FORMAT, "'model_type' is missing"},
      {"hidden_size", -4, GPTQ_ERR_FORMAT, "must be positive"},
      {"hidden_size", "big", GPTQ_ERR_FORMAT, "should be an integer"},
      {"num_key_value_heads", 3, GPTQ_ERR_FORMAT, "must divide"},
      {"hidden_act", "swiglu9", GPTQ_ERR_UNSUPPORTED, "swiglu9"},
      {"rope_parameters", Json{{"rope_type", "dynamic_wobble"}, {"rope_theta", 10000.0}}, GPTQ_ERR_UNSUPPORTED, "dynamic_wobble"},
      {"rope_parameters", Json{{"rope_type", "llama3"}, {"rope_theta", 10000.0}, {"factor", 8.0}}, GPTQ_ERR_FORMAT,
       "original_max_position_embeddings"},
      {"vocab_size", nullptr, GPTQ_ERR_FORMAT, "'vocab_size' is missing"},
  };
  for (const Case& c : cases) {
    Json config = base;
    if (c.value.is_null()) config.erase(c.key);
    else config[c.key] = c.value;
    EXPECT_EQ(parse_status(config, &message), c.status) << c.key << ": " << message;
    EXPECT_NE(message.find(c.fragment), std::string::npos) << message;
    EXPECT_NE(message.find("config.json"), std::string::npos) << message;
  }
  EXPECT_EQ(parse_status(Json::array(), &message), GPTQ_ERR_FORMAT);
}

}  // namespace
}  // namespace gptq
