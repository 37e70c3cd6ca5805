// Architectures beyond the llama family: how their configs read (older
// spellings, defaults), how their weights bind (Conv1D, renamed heads), and
// the errors for settings and checkpoints libgptq cannot use.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <functional>

#include "core/error.h"
#include "io/json_file.h"
#include "io/safetensors_writer.h"
#include "model/model.h"
#include "quant/quantizer.h"
#include "quant/save.h"
#include "runtime/context.h"
#include "test_util.h"

namespace gptq {
namespace {

namespace fs = std::filesystem;

using test::status_of;

std::string arch_dir(const char* arch) { return test::shared_path(std::string("fixtures/archs/") + arch); }
Json arch_config(const char* arch) { return load_json_file(arch_dir(arch) + "/config.json"); }

ModelConfig parse_edited(const char* arch, const std::function<void(Json&)>& edit) {
  Json config = arch_config(arch);
  edit(config);
  return parse_model_config(config, "config.json");
}

// A copy of an architecture fixture in a scratch directory, its config and
// tensor list edited; `source` keeps the original tensors' bytes mapped.
std::string edited_fixture(const char* arch, const std::string& name, const std::function<void(Json&)>& edit_config,
                           const std::function<void(std::vector<TensorToWrite>&)>& edit_tensors,
                           std::unique_ptr<SafetensorsFile>* source) {
  const std::string dir = test::scratch_dir(name);
  Json config = arch_config(arch);
  edit_config(config);
  write_file_atomically(dir + "/config.json", config.dump(2));
  *source = SafetensorsFile::open(arch_dir(arch) + "/model.safetensors", true);
  std::vector<TensorToWrite> tensors;
  for (const TensorView& t : (*source)->tensors()) tensors.push_back({t.name, t.dtype, t.shape, t.data});
  edit_tensors(tensors);
  write_safetensors(dir + "/model.safetensors", tensors);
  return dir;
}

void keep_config(Json&) {}
void keep_tensors(std::vector<TensorToWrite>&) {}
// Drops the tensors whose names start with `prefix`.
std::function<void(std::vector<TensorToWrite>&)> without(std::string prefix) {
  return [prefix](std::vector<TensorToWrite>& tensors) {
    std::erase_if(tensors, [&](const TensorToWrite& t) { return t.name.starts_with(prefix); });
  };
}

std::vector<float> logits(const Model& model, const std::vector<int32_t>& tokens) {
  ContextOptions options;
  options.n_ctx = 64;
  Context context(model, resolve_context_options(model, options));
  std::vector<float> out(tokens.size() * model.config().vocab_size);
  context.eval(0, tokens, LogitsMode::All, out.data());
  return out;
}

TEST(ArchConfig, ReadsOlderFamiliesSpellingsAndDefaults) {
  GPTQ_REQUIRE_PATH(arch_dir("gpt_neox"));
  const ModelConfig gpt2 = parse_edited("gpt2", [](Json& c) { c.erase("tie_word_embeddings"); });
  EXPECT_EQ(gpt2.hidden_size, 128);                // n_embd
  EXPECT_EQ(gpt2.n_layers, 2);                     // n_layer
  EXPECT_EQ(gpt2.intermediate_size, 4 * 128);      // n_inner: null
  EXPECT_EQ(gpt2.max_position_embeddings, 512);    // n_positions
  EXPECT_EQ(gpt2.activation, Activation::GeluTanh);  // activation_function gelu_new
  EXPECT_EQ(gpt2.norm_eps, 1e-5);                  // layer_norm_epsilon
  EXPECT_TRUE(gpt2.tie_word_embeddings);           // GPT-2's default
  EXPECT_TRUE(gpt2.attention_bias && gpt2.o_proj_bias && gpt2.mlp_bias);

  const ModelConfig opt = parse_model_config(arch_config("opt"), "opt");
  EXPECT_EQ(opt.intermediate_size, 352);  // ffn_dim
  EXPECT_EQ(opt.activation, Activation::Relu);
  EXPECT_EQ(opt.norm_eps, 1e-5);          // torch's LayerNorm default: OPT names none
  EXPECT_TRUE(opt.norm_before && opt.final_norm);
  const ModelConfig opt_post = parse_edited("opt", [](Json& c) {
    c["do_layer_norm_before"] = false;
    c["enable_bias"] = false;
  });
  EXPECT_FALSE(opt_post.norm_before || opt_post.final_norm);
  EXPECT_FALSE(opt_post.attention_bias || opt_post.o_proj_bias || opt_post.mlp_bias);

  const ModelConfig neox = parse_model_config(arch_config("gpt_neox"), "neox");
  EXPECT_EQ(neox.rotary_dim(), 8);  // a quarter of head_dim 32
  EXPECT_TRUE(neox.parallel_residual);
  EXPECT_EQ(neox.activation, Activation::GeluErf);
  const ModelConfig legacy = parse_edited("gpt_neox", [](Json& c) {
    c.erase("rope_parameters");
    c["rotary_pct"] = 0.5;
    c["rotary_emb_base"] = 20000;
    c["use_parallel_residual"] = false;
  });
  EXPECT_EQ(legacy.rotary_dim(), 16);
  EXPECT_EQ(legacy.rope.theta, 20000.0);
  EXPECT_FALSE(legacy.parallel_residual);
  const ModelConfig bare = parse_edited("gpt_neox", [](Json& c) { c.erase("rope_parameters"); });
  EXPECT_EQ(bare.rotary_dim(), 8);  // GPTNeoXConfig's rotary_pct default, 0.25

  const ModelConfig qwen3 = parse_model_config(arch_config("qwen3"), "qwen3");
  EXPECT_EQ(qwen3.q_dim(), 4 * 64);  // head_dim 64 with hidden 128
  const ModelConfig gemma = parse_edited("gemma", [](Json& c) { c.erase("tie_word_embeddings"); });
  EXPECT_TRUE(gemma.tie_word_embeddings);
  EXPECT_EQ(gemma.activation, Activation::GeluTanh);
}

// Which kv heads and fused layout a config selects, older spellings included.
TEST(ArchConfig, ReadsMultiQueryVariants) {
  GPTQ_REQUIRE_PATH(arch_dir("gpt_bigcode"));
  // Configs before transformers 5 name no num_key_value_heads: multi_query (default on) decides.
  const ModelConfig bigcode = parse_edited("gpt_bigcode", [](Json& c) {
    c.erase("num_key_value_heads");
    c.erase("multi_query");
  });
  EXPECT_EQ(bigcode.n_kv_heads, 1);
  EXPECT_EQ(bigcode.arch->qkv_layout, QkvLayout::Concatenated);
  EXPECT_EQ(bigcode.qkv_dim(), 128 + 2 * 32);
  EXPECT_FALSE(bigcode.arch->conv1d_weights);
  EXPECT_EQ(bigcode.activation, Activation::GeluTanh);
  const ModelConfig multi_head = parse_edited("gpt_bigcode", [](Json& c) {
    c.erase("num_key_value_heads");
    c["multi_query"] = false;
  });
  EXPECT_EQ(multi_head.n_kv_heads, 4);
  EXPECT_EQ(multi_head.arch->qkv_layout, QkvLayout::HeadInterleaved);

  // Falcon-7B: multi_query wins over num_kv_heads; one norm feeds the parallel layer.
  const ModelConfig falcon = parse_model_config(arch_config("falcon"), "falcon");
  EXPECT_EQ(falcon.n_kv_heads, 1);
  EXPECT_EQ(falcon.arch->qkv_layout, QkvLayout::Concatenated);
  EXPECT_STREQ(falcon.arch->layer.ffn_norm, "input_layernorm");
  EXPECT_TRUE(falcon.parallel_residual);
  EXPECT_EQ(falcon.intermediate_size, 512);  // ffn_hidden_size
  EXPECT_EQ(falcon.activation, Activation::GeluErf);
  EXPECT_TRUE(falcon.tie_word_embeddings);
  const ModelConfig sequential = parse_edited("falcon", [](Json& c) {
    c["parallel_attn"] = false;
    c["multi_query"] = false;
    c.erase("ffn_hidden_size");
    c.erase("activation");
  });
  EXPECT_EQ(sequential.n_kv_heads, 4);
  EXPECT_EQ(sequential.arch->qkv_layout, QkvLayout::HeadInterleaved);
  EXPECT_STREQ(sequential.arch->layer.ffn_norm, "post_attention_layernorm");
  EXPECT_FALSE(sequential.parallel_residual);
  EXPECT_EQ(sequential.intermediate_size, 4 * 128);
  EXPECT_EQ(sequential.activation, Activation::GeluErf);

  // The new decoder architecture: kv groups of num_kv_heads, whatever multi_query says.
  const ModelConfig grouped = parse_model_config(arch_config("falcon_new_arch"), "falcon_new_arch");
  EXPECT_EQ(grouped.n_kv_heads, 2);
  EXPECT_EQ(grouped.qkv_dim(), (4 + 2 * 2) * 32);
  EXPECT_EQ(grouped.arch->qkv_layout, QkvLayout::KvGrouped);
  EXPECT_STREQ(grouped.arch->layer.attn_norm, "ln_attn");
  EXPECT_STREQ(grouped.arch->layer.ffn_norm, "ln_mlp");
  const ModelConfig one_norm = parse_edited("falcon_new_arch", [](Json& c) { c["num_ln_in_parallel_attn"] = 1; });
  EXPECT_STREQ(one_norm.arch->layer.attn_norm, "input_layernorm");
  EXPECT_STREQ(one_norm.arch->layer.ffn_norm, "input_layernorm");
}

// The configs falcon-7b and falcon-40b first shipped with (model_type
// RefinedWebModel / RefinedWeb, n_head, n_layer, n_head_kv; RefinedWeb
// implies the new decoder architecture) load as the same models.
TEST(ArchLoad, FalconLoadsFromItsFirstConfigSpellings) {
  GPTQ_REQUIRE_PATH(arch_dir("falcon_new_arch"));
  auto to_refined_web = [](const char* model_type) {
    return [model_type](Json& c) {
      c["model_type"] = model_type;
      c["n_head"] = c["num_attention_heads"];
      c["n_layer"] = c["num_hidden_layers"];
      if (std::string(model_type) == "RefinedWeb") c["n_head_kv"] = c["num_kv_heads"];
      for (const char* key : {"num_attention_heads", "num_hidden_layers", "num_kv_heads", "new_decoder_architecture",
                              "num_ln_in_parallel_attn", "ffn_hidden_size", "activation", "max_position_embeddings",
                              "rope_parameters"}) {
        c.erase(key);
      }
    };
  };
  std::unique_ptr<SafetensorsFile> source;
  const std::vector<int32_t> tokens = {3, 1, 4, 1, 5, 9, 2, 6};
  const std::string forty = edited_fixture("falcon_new_arch", "arch_refined_web", to_refined_web("RefinedWeb"),
                                           keep_tensors, &source);
  EXPECT_EQ(logits(*Model::load(forty, {}), tokens), logits(*Model::load(arch_dir("falcon_new_arch"), {}), tokens));
  const std::string seven = edited_fixture("falcon", "arch_refined_web_model", to_refined_web("RefinedWebModel"),
                                           keep_tensors, &source);
  EXPECT_EQ(logits(*Model::load(seven, {}), tokens), logits(*Model::load(arch_dir("falcon"), {}), tokens));
}

// GPT-Neo's local layers take window_size as their own attention window.
TEST(ArchConfig, ReadsGptNeoLocalAndGlobalLayers) {
  GPTQ_REQUIRE_PATH(arch_dir("gpt_neo"));
  const ModelConfig neo = parse_model_config(arch_config("gpt_neo"), "gpt_neo");
  EXPECT_EQ(neo.n_heads, 4);   // num_heads
  EXPECT_EQ(neo.n_layers, 2);  // num_layers
  EXPECT_EQ(neo.attention_scale, 1.0);
  EXPECT_EQ(neo.attention_window(0), 0);
  EXPECT_EQ(neo.attention_window(1), 8);
  // attention_types alone, as older configs give it; window_size defaults to 256.
  const ModelConfig types = parse_edited("gpt_neo", [](Json& c) {
    c.erase("attention_layers");
    c.erase("window_size");
    c["attention_types"] = Json::parse(R"([[["local"], 1], [["global"], 1]])");
  });
  EXPECT_EQ(types.attention_window(0), 256);
  EXPECT_EQ(types.attention_window(1), 0);
  const ModelConfig mistral = parse_model_config(arch_config("mistral"), "mistral");
  EXPECT_EQ(mistral.attention_window(1), mistral.sliding_window);
}

// Every row's true-sequential groups name each of its linears exactly once.
TEST(ArchConfig, SequentialGroupsCoverEveryLinearOnce) {
  for (const char* arch : {"llama", "mistral", "qwen2", "qwen3", "gemma", "phi3", "stablelm", "starcoder2", "gpt2", "opt",
                           "gpt_neox", "gptj", "phi", "gpt_bigcode", "falcon",
                           "falcon_new_arch", "codegen", "gpt_neo"}) {
    GPTQ_REQUIRE_PATH(arch_dir(arch));
    const ModelConfig config = parse_model_config(arch_config(arch), arch);
    std::vector<std::string> grouped, linears;
    for (const char* const* const* group = config.arch->sequential_groups; *group != nullptr; ++group) {
      for (const char* const* name = *group; *name != nullptr; ++name) grouped.emplace_back(*name);
    }
    for (const LayerLinear& linear : layer_linears(config)) linears.emplace_back(linear.name);
    std::sort(grouped.begin(), grouped.end());
    std::sort(linears.begin(), linears.end());
    EXPECT_EQ(grouped, linears) << arch;
  }
}

TEST(ArchConfig, ClearErrorsForUnsupportedSettings) {
  GPTQ_REQUIRE_PATH(arch_dir("gpt_neox"));
  struct Case {
    const char* arch;
    const char* key;
    Json value;
    gptq_status status;
    const char* fragment;
  };
  const Case cases[] = {
      {"opt", "word_embed_proj_dim", 64, GPTQ_ERR_UNSUPPORTED, "project_in"},
      {"opt", "layer_norm_elementwise_affine", false, GPTQ_ERR_UNSUPPORTED, "layer_norm_elementwise_affine"},
      {"gpt2", "scale_attn_by_inverse_layer_idx", true, GPTQ_ERR_UNSUPPORTED, "scale_attn_by_inverse_layer_idx"},
      {"gpt2", "n_embd", nullptr, GPTQ_ERR_FORMAT, "'hidden_size' is missing"},
      {"gpt_neox", "num_key_value_heads", 2, GPTQ_ERR_FORMAT, "interleaves q, k and v per head"},
      {"gpt_neox", "use_parallel_residual", true, GPTQ_OK, ""},
      {"stablelm", "use_parallel_residual", true, GPTQ_ERR_UNSUPPORTED, "use_parallel_residual"},
      {"stablelm", "qk_layernorm", true, GPTQ_ERR_UNSUPPORTED, "qk_layernorm"},
      {"codegen", "n_head", 2, GPTQ_ERR_FORMAT, "multiple of 4"},
      {"gpt_neo", "attention_layers", Json::array({"global"}), GPTQ_ERR_FORMAT, "1 entries for 2 layers"},
      {"gpt_neo", "attention_layers", Json::array({"global", "sparse"}), GPTQ_ERR_UNSUPPORTED, "'sparse'"},
      {"gpt_neo", "window_size", 0, GPTQ_ERR_FORMAT, "window_size"},
      {"falcon", "alibi", true, GPTQ_ERR_UNSUPPORTED, "alibi"},
      {"falcon", "apply_residual_connection_post_layernorm", true, GPTQ_ERR_UNSUPPORTED,
       "apply_residual_connection_post_layernorm"},
      {"falcon_new_arch", "num_ln_in_parallel_attn", 3, GPTQ_ERR_FORMAT, "num_ln_in_parallel_attn"},
      {"falcon_new_arch", "num_kv_heads", 3, GPTQ_ERR_FORMAT, "num_kv_heads (3) must divide"},
  };
  for (const Case& c : cases) {
    std::string message;
    const gptq_status status = status_of(
        [&] {
          parse_edited(c.arch, [&](Json& config) {
            if (c.value.is_null()) config.erase(c.key);
            else config[c.key] = c.value;
          });
        },
        &message);
    EXPECT_EQ(status, c.status) << c.arch << " " << c.key << ": " << message;
    EXPECT_NE(message.find(c.fragment), std::string::npos) << message;
  }
}

TEST(ArchLoad, Conv1DWeightsAreTransposedOnceInTheirDtype) {
  GPTQ_REQUIRE_PATH(arch_dir("gpt2"));
  auto model = Model::load(arch_dir("gpt2"), {});
  const Linear& c_attn = model->layers()[0].qkv_proj;
  ASSERT_EQ(c_attn.dense_weights().type, FloatType::F16);
  ASSERT_EQ(c_attn.out_features(), 384);
  ASSERT_EQ(c_attn.in_features(), 128);
  const TensorView& stored = model->checkpoint().require("transformer.h.0.attn.c_attn.weight");  // [in, out]
  for (auto [row, col] : {std::pair<int64_t, int64_t>{0, 0}, {5, 17}, {383, 127}, {200, 64}}) {
    uint16_t want, got;
    std::memcpy(&want, stored.data + 2 * (col * 384 + row), 2);
    std::memcpy(&got, static_cast<const uint8_t*>(c_attn.dense_weights().data) + 2 * (row * 128 + col), 2);
    EXPECT_EQ(got, want) << row << "," << col;
  }
  EXPECT_EQ(model->lm_head().dense_weights().data, model->embed_tokens().data);  // tied to wte
}

TEST(ArchLoad, ClearErrorsNamingTheTensor) {
  GPTQ_REQUIRE_PATH(arch_dir("gpt_neox"));
  std::unique_ptr<SafetensorsFile> source;
  std::string message;
  auto load = [&](const std::string& dir) { return status_of([&] { Model::load(dir, {}); }, &message); };

  // Conv1D stores [in, out]; a Linear-shaped [out, in] tensor is refused.
  const std::string conv = edited_fixture("gpt2", "arch_conv1d_shape", keep_config, [](auto& tensors) {
    for (auto& t : tensors) {
      if (t.name == "transformer.h.0.attn.c_attn.weight") t.shape = {384, 128};
    }
  }, &source);
  EXPECT_EQ(load(conv), GPTQ_ERR_FORMAT);
  EXPECT_NE(message.find("transformer.h.0.attn.c_attn.weight"), std::string::npos) << message;
  EXPECT_NE(message.find("[128, 384]"), std::string::npos) << message;

  const std::string positions = edited_fixture("opt", "arch_no_positions", keep_config,
                                               without("model.decoder.embed_positions."), &source);
  EXPECT_EQ(load(positions), GPTQ_ERR_NOT_FOUND);
  EXPECT_NE(message.find("model.decoder.embed_positions.weight"), std::string::npos) << message;

  const std::string short_table = edited_fixture(
      "gpt2", "arch_position_rows", [](Json& c) { c["n_positions"] = 256; }, keep_tensors, &source);
  EXPECT_EQ(load(short_table), GPTQ_ERR_FORMAT);
  EXPECT_NE(message.find("transformer.wpe.weight"), std::string::npos) << message;
  EXPECT_NE(message.find("[256, 128]"), std::string::npos) << message;

  const std::string headless = edited_fixture("gpt_neox", "arch_no_head", keep_config, without("embed_out."), &source);
  EXPECT_EQ(load(headless), GPTQ_ERR_NOT_FOUND);
  EXPECT_NE(message.find("embed_out.weight"), std::string::npos) << message;
}

TEST(ArchLoad, NeoxHeadLoadsUnderEitherName) {
  GPTQ_REQUIRE_PATH(arch_dir("gpt_neox"));
  std::unique_ptr<SafetensorsFile> source;
  const std::string renamed = edited_fixture("gpt_neox", "arch_neox_lm_head", keep_config, [](auto& tensors) {
    for (auto& t : tensors) {
      if (t.name == "embed_out.weight") t.name = "lm_head.weight";
    }
  }, &source);
  const std::vector<int32_t> tokens = {3, 1, 4, 1, 5, 9};
  EXPECT_EQ(logits(*Model::load(renamed, {}), tokens), logits(*Model::load(arch_dir("gpt_neox"), {}), tokens));
}

// openai-community/gpt2 was saved from the bare GPT2Model: "h.0.attn.c_attn",
// not "transformer.h.0.attn.c_attn". Such checkpoints load, and a quantized
// copy keeps their spelling.
TEST(ArchLoad, CheckpointsWithoutTheBaseModelPrefixLoadAndSaveAlike) {
  GPTQ_REQUIRE_PATH(arch_dir("gpt2"));
  std::unique_ptr<SafetensorsFile> source;
  const std::string bare = edited_fixture("gpt2", "arch_gpt2_bare", keep_config, [](auto& tensors) {
    for (auto& t : tensors) t.name = t.name.substr(std::string("transformer.").size());
  }, &source);
  auto model = Model::load(bare, {});
  const std::vector<int32_t> tokens = {3, 1, 4, 1, 5, 9};
  EXPECT_EQ(logits(*model, tokens), logits(*Model::load(arch_dir("gpt2"), {}), tokens));
  EXPECT_EQ(model->layer_prefix(1), "h.1.");

  ThreadPool pool(2);
  QuantizeOptions options;
  options.rtn = true;
  options.skip_modules = {"h.1.mlp.c_fc"};
  QuantizeReport report;
  auto quantized = quantize_model(pool, *model, {}, options, &report);
  EXPECT_EQ(report.modules.front().name, "h.0.attn.c_attn");
  const std::string saved = test::scratch_dir("arch_gpt2_bare_saved") + "/out";
  save_model(*quantized, saved, {});
  auto reloaded = Model::load(saved, {});
  EXPECT_TRUE(reloaded->checkpoint().find("h.0.attn.c_attn.qweight") != nullptr);
  EXPECT_TRUE(reloaded->checkpoint().find("h.1.mlp.c_fc.weight") != nullptr);  // skipped: stays float, [in, out]
  EXPECT_EQ(logits(*reloaded, tokens), logits(*quantized, tokens));
}

// MOSS ships CodeGen's model under its own model_type.
TEST(ArchLoad, MossLoadsAsCodegen) {
  GPTQ_REQUIRE_PATH(arch_dir("codegen"));
  const ModelConfig codegen = parse_model_config(arch_config("codegen"), "codegen");
  EXPECT_EQ(codegen.rotary_dim(), 16);
  EXPECT_EQ(codegen.intermediate_size, 4 * 128);  // n_inner: null
  EXPECT_FALSE(codegen.tie_word_embeddings);
  std::unique_ptr<SafetensorsFile> source;
  const std::string moss =
      edited_fixture("codegen", "arch_moss", [](Json& c) { c["model_type"] = "moss"; }, keep_tensors, &source);
  const std::vector<int32_t> tokens = {3, 1, 4, 1, 5, 9, 2, 6};
  EXPECT_EQ(logits(*Model::load(moss, {}), tokens), logits(*Model::load(arch_dir("codegen"), {}), tokens));
}

TEST(ArchLoad, SequencesLongerThanLearnedPositionsAreRefused) {
  GPTQ_REQUIRE_PATH(arch_dir("gpt2"));
  auto model = Model::load(arch_dir("gpt2"), {});
  ContextOptions options;
  options.n_ctx = 513;
  std::string message;
  EXPECT_EQ(status_of([&] { Context context(*model, resolve_context_options(*model, options)); }, &message),
            GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(message.find("512 positions"), std::string::npos) << message;
  EXPECT_EQ(resolve_context_options(*model, {}).n_ctx, 512);  // the default fits

  ThreadPool pool(1);
  const CalibrationSet long_sample = {std::vector<int32_t>(600, 7)};
  EXPECT_EQ(status_of([&] { quantize_model(pool, *model, long_sample, {}, nullptr); }, &message),
            GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(message.find("512 positions"), std::string::npos) << message;
}

// OPT-350m's layout: each block's residual sum is normed, and the decoder
// has no final norm. No transformers reference here; cached decoding must
// still agree with the full forward, and the norms must matter.
TEST(ArchForward, NormsAfterBlocksDecodeConsistently) {
  GPTQ_REQUIRE_PATH(arch_dir("opt"));
  std::unique_ptr<SafetensorsFile> source;
  const std::string post = edited_fixture(
      "opt", "arch_opt_post_norm", [](Json& c) { c["do_layer_norm_before"] = false; },
      without("model.decoder.final_layer_norm."), &source);
  auto model = Model::load(post, {});
  EXPECT_TRUE(model->final_norm().weight.empty());
  const std::vector<int32_t> tokens = {2, 40, 7, 300, 12, 99, 5, 5};
  const std::vector<float> full = logits(*model, tokens);
  ContextOptions options;
  options.n_ctx = 64;
  Context stepwise(*model, resolve_context_options(*model, options));
  const int64_t vocab = model->config().vocab_size;
  std::vector<float> step(vocab);
  for (size_t t = 0; t < tokens.size(); ++t) {
    stepwise.eval(0, std::span(tokens).subspan(t, 1), LogitsMode::Last, step.data());
    EXPECT_LT(test::relative_l2(step, std::span<const float>(full).subspan(t * vocab, vocab)), 1e-5) << t;
  }
  const double change = test::relative_l2(full, logits(*Model::load(arch_dir("opt"), {}), tokens));
  EXPECT_GT(change, 0.1);
}

// A local layer sees only its window: positions inside the first window
// are the same with a wider one, later ones are not.
TEST(ArchForward, GptNeoLocalLayersAttendWithinTheirWindow) {
  GPTQ_REQUIRE_PATH(arch_dir("gpt_neo"));
  std::unique_ptr<SafetensorsFile> source;
  const std::string wide =
      edited_fixture("gpt_neo", "arch_gpt_neo_wide", [](Json& c) { c["window_size"] = 64; }, keep_tensors, &source);
  const std::vector<int32_t> tokens = {2, 40, 7, 300, 12, 99, 5, 5, 81, 17, 260, 3, 44, 9};
  const std::vector<float> narrow = logits(*Model::load(arch_dir("gpt_neo"), {}), tokens);
  const std::vector<float> wider = logits(*Model::load(wide, {}), tokens);
  const int64_t vocab = 512, window = 8;
  EXPECT_EQ(std::vector<float>(narrow.begin(), narrow.begin() + window * vocab),
            std::vector<float>(wider.begin(), wider.begin() + window * vocab));
  EXPECT_GT(test::relative_l2(std::span<const float>(narrow).subspan(window * vocab),
                              std::span<const float>(wider).subspan(window * vocab)),
            1e-3);
}

}  // namespace
}  // namespace gptq
