// Quantize through the C API, save, load back: the same model; plus the
// failure paths (cancel, bad settings, occupied output directory).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "gptq.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;

std::string fixture(const char* name) { return gptq::test::shared_path(std::string("fixtures/archs/") + name); }

gptq_calibration* random_calibration(int32_t vocab, int samples, int length, uint32_t seed) {
  gptq_calibration* calibration = nullptr;
  EXPECT_EQ(gptq_calibration_new(&calibration), GPTQ_OK);
  std::mt19937 rng(seed);
  std::vector<int32_t> tokens(length);
  for (int s = 0; s < samples; ++s) {
    for (auto& t : tokens) t = static_cast<int32_t>(rng() % vocab);
    EXPECT_EQ(gptq_calibration_add(calibration, tokens.data(), tokens.size()), GPTQ_OK);
  }
  return calibration;
}

std::vector<float> logits_of(gptq_model* model, const std::vector<int32_t>& tokens) {
  gptq_model_info info;
  info.struct_size = sizeof info;
  EXPECT_EQ(gptq_model_get_info(model, &info), GPTQ_OK);
  gptq_context_params params;
  gptq_context_default_params(&params, sizeof params);
  params.n_ctx = 128;
  gptq_context* context = nullptr;
  EXPECT_EQ(gptq_context_new(model, &params, &context), GPTQ_OK);
  std::vector<float> logits(tokens.size() * info.vocab_size);
  EXPECT_EQ(gptq_context_eval(context, 0, tokens.data(), tokens.size(), GPTQ_LOGITS_ALL, logits.data(), logits.size()),
            GPTQ_OK)
      << gptq_last_error();
  gptq_context_free(context);
  return logits;
}

gptq_model* load(const std::string& dir) {
  gptq_model* model = nullptr;
  EXPECT_EQ(gptq_model_load(dir.c_str(), nullptr, &model), GPTQ_OK) << gptq_last_error();
  return model;
}

struct Setting {
  int bits, group_size, desc_act, sym, static_groups, format;
  int64_t shard_bytes;
};

class QuantizeRoundTrip : public ::testing::TestWithParam<Setting> {};

TEST_P(QuantizeRoundTrip, SavedCheckpointLoadsAsTheSameModel) {
  GPTQ_REQUIRE_PATH(fixture("llama"));
  const Setting s = GetParam();
  gptq_model* source = load(fixture("llama"));
  gptq_calibration* calibration = random_calibration(512, 8, 48, 7);
  gptq_quantize_params params;
  gptq_quantize_default_params(&params, sizeof params);
  params.bits = s.bits;
  params.group_size = s.group_size;
  params.desc_act = s.desc_act;
  params.sym = s.sym;
  params.static_groups = s.static_groups;
  gptq_model* quantized = nullptr;
  ASSERT_EQ(gptq_quantize(source, calibration, &params, &quantized), GPTQ_OK) << gptq_last_error();

  gptq_model_info info;
  info.struct_size = sizeof info;
  ASSERT_EQ(gptq_model_get_info(quantized, &info), GPTQ_OK);
  EXPECT_EQ(info.quant_bits, s.bits);
  EXPECT_EQ(info.quant_desc_act, s.desc_act);

  const std::string dir = gptq::test::scratch_dir("quantized") + "/out";
  gptq_save_params save;
  gptq_save_default_params(&save, sizeof save);
  save.format = s.format;
  save.max_shard_bytes = s.shard_bytes;
  ASSERT_EQ(gptq_model_save(quantized, dir.c_str(), &save), GPTQ_OK) << gptq_last_error();
  EXPECT_TRUE(fs::exists(dir + "/quantize_config.json"));
  EXPECT_EQ(fs::exists(dir + "/model.safetensors.index.json"), s.shard_bytes > 0);
  const auto config = nlohmann::json::parse(std::ifstream(dir + "/config.json"));
  EXPECT_EQ(config["quantization_config"]["bits"], s.bits);
  EXPECT_EQ(config["quantization_config"]["checkpoint_format"], s.format == GPTQ_FORMAT_GPTQ ? "gptq" : "gptq_v2");

  gptq_model* reloaded = load(dir);
  const std::vector<int32_t> tokens = {1, 17, 300, 42, 42, 9, 511, 2, 64, 100};
  EXPECT_EQ(logits_of(quantized, tokens), logits_of(reloaded, tokens));
  const double drift = gptq::test::relative_l2(logits_of(quantized, tokens), logits_of(source, tokens));
  EXPECT_GT(drift, 0.0);
  EXPECT_LT(drift, s.bits >= 4 ? 0.6 : 1.5);

  // Saving the loaded checkpoint again gives the same tensors.
  const std::string again = gptq::test::scratch_dir("quantized_again") + "/out";
  ASSERT_EQ(gptq_model_save(reloaded, again.c_str(), &save), GPTQ_OK) << gptq_last_error();
  gptq_model* third = load(again);
  EXPECT_EQ(logits_of(third, tokens), logits_of(reloaded, tokens));

  gptq_model_free(third);
  gptq_model_free(reloaded);
  gptq_model_free(quantized);
  gptq_calibration_free(calibration);
  gptq_model_free(source);
}

INSTANTIATE_TEST_SUITE_P(Settings, QuantizeRoundTrip,
                         ::testing::Values(Setting{4, 128, 0, 1, 0, GPTQ_FORMAT_GPTQ, 0},
                                           Setting{4, 32, 1, 1, 0, GPTQ_FORMAT_GPTQ_V2, 0},
                                           Setting{3, 64, 1, 0, 0, GPTQ_FORMAT_GPTQ, 200000},
                                           Setting{2, 64, 0, 0, 0, GPTQ_FORMAT_GPTQ_V2, 0},
                                           Setting{8, -1, 1, 1, 0, GPTQ_FORMAT_GPTQ, 0},
                                           Setting{4, 64, 1, 1, 1, GPTQ_FORMAT_GPTQ, 0}));

// Other layouts: fused and Conv1D projections, learned positions, parallel
// residuals. Modules are quantized in AutoGPTQ's true-sequential order and
// saved under the checkpoint's own names.
struct ArchCase {
  const char* arch;
  std::vector<std::string> layer0_order;  // AutoGPTQ's inside_layer_modules, flattened
};

class QuantizeArch : public ::testing::TestWithParam<ArchCase> {};

// The families AutoGPTQ quantizes with llama's module list.
ArchCase llama_family(const char* arch) {
  return {arch,
          {"model.layers.0.self_attn.k_proj", "model.layers.0.self_attn.v_proj", "model.layers.0.self_attn.q_proj",
           "model.layers.0.self_attn.o_proj", "model.layers.0.mlp.up_proj", "model.layers.0.mlp.gate_proj",
           "model.layers.0.mlp.down_proj"}};
}

int32_t record_module(int32_t layer, int32_t, const char* module, double, float, void* names) {
  if (layer == 0) static_cast<std::vector<std::string>*>(names)->push_back(module);
  return 0;
}

nlohmann::json safetensors_header(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  uint64_t n = 0;
  file.read(reinterpret_cast<char*>(&n), 8);
  std::string header(n, '\0');
  file.read(header.data(), n);
  return nlohmann::json::parse(header);
}

TEST_P(QuantizeArch, SavesUnderOriginalNamesAndReloads) {
  const ArchCase& c = GetParam();
  GPTQ_REQUIRE_PATH(fixture(c.arch));
  gptq_model* source = load(fixture(c.arch));
  gptq_calibration* calibration = random_calibration(512, 8, 48, 11);
  gptq_quantize_params params;
  gptq_quantize_default_params(&params, sizeof params);
  params.group_size = 64;
  params.desc_act = 1;
  std::vector<std::string> order;
  params.progress = record_module;
  params.progress_user_data = &order;
  gptq_model* quantized = nullptr;
  ASSERT_EQ(gptq_quantize(source, calibration, &params, &quantized), GPTQ_OK) << gptq_last_error();
  EXPECT_EQ(order, c.layer0_order);

  const std::string dir = gptq::test::scratch_dir(std::string("quantized_") + c.arch) + "/out";
  ASSERT_EQ(gptq_model_save(quantized, dir.c_str(), nullptr), GPTQ_OK) << gptq_last_error();
  const auto tensors = safetensors_header(dir + "/model.safetensors");
  const auto original = safetensors_header(fixture(c.arch) + "/model.safetensors");
  for (const std::string& module : c.layer0_order) {
    EXPECT_TRUE(tensors.contains(module + ".qweight")) << module;
    EXPECT_TRUE(tensors.contains(module + ".g_idx")) << module;
    EXPECT_EQ(tensors.contains(module + ".bias"), original.contains(module + ".bias")) << module;
    EXPECT_FALSE(tensors.contains(module + ".weight")) << module;
  }

  // Linears outside AutoGPTQ's list (mixtral's router) stay float.
  for (const auto& [name, tensor] : original.items()) {
    if (name.find("block_sparse_moe.gate.") != std::string::npos) EXPECT_TRUE(tensors.contains(name)) << name;
  }

  gptq_model* reloaded = load(dir);
  const std::vector<int32_t> tokens = {1, 17, 300, 42, 42, 9, 511, 2, 64, 100};
  EXPECT_EQ(logits_of(quantized, tokens), logits_of(reloaded, tokens));
  const double drift = gptq::test::relative_l2(logits_of(quantized, tokens), logits_of(source, tokens));
  EXPECT_GT(drift, 0.0);
  EXPECT_LT(drift, 0.6);
  std::printf("[ %s ] quantized logits drift %.3g\n", c.arch, drift);

  gptq_model_free(reloaded);
  gptq_model_free(quantized);
  gptq_calibration_free(calibration);
  gptq_model_free(source);
}

INSTANTIATE_TEST_SUITE_P(
    Archs, QuantizeArch,
    ::testing::Values(
        ArchCase{"gpt2",
                 {"transformer.h.0.attn.c_attn", "transformer.h.0.attn.c_proj", "transformer.h.0.mlp.c_fc",
                  "transformer.h.0.mlp.c_proj"}},
        ArchCase{"gpt_bigcode",
                 {"transformer.h.0.attn.c_attn", "transformer.h.0.attn.c_proj", "transformer.h.0.mlp.c_fc",
                  "transformer.h.0.mlp.c_proj"}},
        ArchCase{"gpt_neo",
                 {"transformer.h.0.attn.attention.k_proj", "transformer.h.0.attn.attention.v_proj",
                  "transformer.h.0.attn.attention.q_proj", "transformer.h.0.attn.attention.out_proj",
                  "transformer.h.0.mlp.c_fc", "transformer.h.0.mlp.c_proj"}},
        ArchCase{"opt",
                 {"model.decoder.layers.0.self_attn.k_proj", "model.decoder.layers.0.self_attn.v_proj",
                  "model.decoder.layers.0.self_attn.q_proj", "model.decoder.layers.0.self_attn.out_proj",
                  "model.decoder.layers.0.fc1", "model.decoder.layers.0.fc2"}},
        ArchCase{"gpt_neox",
                 {"gpt_neox.layers.0.attention.query_key_value", "gpt_neox.layers.0.attention.dense",
                  "gpt_neox.layers.0.mlp.dense_h_to_4h", "gpt_neox.layers.0.mlp.dense_4h_to_h"}},
        ArchCase{"gptj",
                 {"transformer.h.0.attn.k_proj", "transformer.h.0.attn.v_proj", "transformer.h.0.attn.q_proj",
                  "transformer.h.0.attn.out_proj", "transformer.h.0.mlp.fc_in", "transformer.h.0.mlp.fc_out"}},
        ArchCase{"codegen",
                 {"transformer.h.0.attn.qkv_proj", "transformer.h.0.attn.out_proj", "transformer.h.0.mlp.fc_in",
                  "transformer.h.0.mlp.fc_out"}},
        ArchCase{"phi",
                 {"model.layers.0.self_attn.k_proj", "model.layers.0.self_attn.v_proj",
                  "model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.dense", "model.layers.0.mlp.fc1",
                  "model.layers.0.mlp.fc2"}},
        ArchCase{"falcon",
                 {"transformer.h.0.self_attention.query_key_value", "transformer.h.0.self_attention.dense",
                  "transformer.h.0.mlp.dense_h_to_4h", "transformer.h.0.mlp.dense_4h_to_h"}},
        ArchCase{"falcon_new_arch",
                 {"transformer.h.0.self_attention.query_key_value", "transformer.h.0.self_attention.dense",
                  "transformer.h.0.mlp.dense_h_to_4h", "transformer.h.0.mlp.dense_4h_to_h"}},
        ArchCase{"bloom",
                 {"transformer.h.0.self_attention.query_key_value", "transformer.h.0.self_attention.dense",
                  "transformer.h.0.mlp.dense_h_to_4h", "transformer.h.0.mlp.dense_4h_to_h"}},
        ArchCase{"phi3",
                 {"model.layers.0.self_attn.qkv_proj", "model.layers.0.self_attn.o_proj",
                  "model.layers.0.mlp.gate_up_proj", "model.layers.0.mlp.down_proj"}},
        ArchCase{"mixtral",
                 {"model.layers.0.self_attn.k_proj",
                  "model.layers.0.self_attn.v_proj",
                  "model.layers.0.self_attn.q_proj",
                  "model.layers.0.self_attn.o_proj",
                  "model.layers.0.block_sparse_moe.experts.0.w1",
                  "model.layers.0.block_sparse_moe.experts.1.w1",
                  "model.layers.0.block_sparse_moe.experts.2.w1",
                  "model.layers.0.block_sparse_moe.experts.3.w1",
                  "model.layers.0.block_sparse_moe.experts.0.w3",
                  "model.layers.0.block_sparse_moe.experts.1.w3",
                  "model.layers.0.block_sparse_moe.experts.2.w3",
                  "model.layers.0.block_sparse_moe.experts.3.w3",
                  "model.layers.0.block_sparse_moe.experts.0.w2",
                  "model.layers.0.block_sparse_moe.experts.1.w2",
                  "model.layers.0.block_sparse_moe.experts.2.w2",
                  "model.layers.0.block_sparse_moe.experts.3.w2"}},
        llama_family("llama"),
        llama_family("mistral"),
        llama_family("qwen2"),
        llama_family("qwen3"),
        llama_family("gemma"),
        llama_family("stablelm"),
        ArchCase{"starcoder2",
                 {"model.layers.0.self_attn.k_proj", "model.layers.0.self_attn.v_proj",
                  "model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.o_proj", "model.layers.0.mlp.c_fc",
                  "model.layers.0.mlp.c_proj"}}),
    [](const ::testing::TestParamInfo<ArchCase>& info) { return std::string(info.param.arch); });

TEST(Quantize, IsDeterministic) {
  GPTQ_REQUIRE_PATH(fixture("qwen2"));
  gptq_model* source = load(fixture("qwen2"));
  gptq_calibration* calibration = random_calibration(512, 4, 32, 9);
  gptq_quantize_params params;
  gptq_quantize_default_params(&params, sizeof params);
  params.desc_act = 1;
  params.group_size = 32;
  gptq_model *a = nullptr, *b = nullptr;
  ASSERT_EQ(gptq_quantize(source, calibration, &params, &a), GPTQ_OK) << gptq_last_error();
  ASSERT_EQ(gptq_quantize(source, calibration, &params, &b), GPTQ_OK);
  const std::vector<int32_t> tokens = {5, 6, 7, 8};
  EXPECT_EQ(logits_of(a, tokens), logits_of(b, tokens));
  gptq_model_free(a);
  gptq_model_free(b);
  gptq_calibration_free(calibration);
  gptq_model_free(source);
}

struct Report {
  gptq_quantize_module_report numbers;
  std::string module;  // report.module lives only during the call
};

int32_t collect_report(const gptq_quantize_module_report* report, void* reports) {
  static_cast<std::vector<Report>*>(reports)->push_back({*report, report->module});
  return 0;
}

int32_t cancel_at_third_report(const gptq_quantize_module_report*, void* calls) {
  return ++*static_cast<int*>(calls) == 3 ? 1 : 0;
}

// Linears that read one input share its Hessian and its factorisation: only
// the first of each is charged for them.
TEST(Quantize, ReportsWhereEachModuleTimeWent) {
  GPTQ_REQUIRE_PATH(fixture("llama"));
  gptq_model* source = load(fixture("llama"));
  gptq_calibration* calibration = random_calibration(512, 2, 16, 3);
  gptq_quantize_params params;
  gptq_quantize_default_params(&params, sizeof params);
  params.desc_act = 1;
  std::vector<Report> reports;
  params.report = collect_report;
  params.report_user_data = &reports;
  gptq_model* out = nullptr;
  ASSERT_EQ(gptq_quantize(source, calibration, &params, &out), GPTQ_OK) << gptq_last_error();
  gptq_model_info info;
  info.struct_size = sizeof info;
  ASSERT_EQ(gptq_model_get_info(source, &info), GPTQ_OK);
  ASSERT_EQ(reports.size(), static_cast<size_t>(info.n_layers) * 7);
  // The linears by the input they read.
  const std::pair<const char*, int> inputs[] = {{"q_proj", 0},    {"k_proj", 0},  {"v_proj", 0}, {"o_proj", 1},
                                                {"gate_proj", 2}, {"up_proj", 2}, {"down_proj", 3}};
  std::set<int> seen;
  for (size_t i = 0; i < reports.size(); ++i) {
    if (i % 7 == 0) seen.clear();
    const gptq_quantize_module_report& r = reports[i].numbers;
    EXPECT_EQ(r.struct_size, sizeof r);
    EXPECT_EQ(r.layer, static_cast<int32_t>(i / 7));
    EXPECT_EQ(r.n_layers, info.n_layers);
    EXPECT_FLOAT_EQ(r.fraction, static_cast<float>(i + 1) / static_cast<float>(reports.size()));
    int input = -1;
    for (const auto& [name, which] : inputs) {
      if (reports[i].module.find(name) != std::string::npos) input = which;
    }
    ASSERT_NE(input, -1) << reports[i].module;
    const bool first = seen.insert(input).second;
    EXPECT_GE(r.gptq_seconds, 0.0);
    EXPECT_GE(r.packing_seconds, 0.0);
    if (first) {
      EXPECT_GT(r.factorization_seconds, 0.0) << i;
      EXPECT_GT(r.forward_seconds, 0.0) << i;
    } else {
      EXPECT_EQ(r.factorization_seconds, 0.0) << i;
      EXPECT_EQ(r.hessian_seconds, 0.0) << i;
      EXPECT_EQ(r.forward_seconds, 0.0) << i;
    }
  }
  gptq_model_free(out);

  int calls = 0;
  params.report = cancel_at_third_report;
  params.report_user_data = &calls;
  EXPECT_EQ(gptq_quantize(source, calibration, &params, &out), GPTQ_ERR_CANCELLED);
  EXPECT_EQ(out, nullptr);
  EXPECT_EQ(calls, 3);
  gptq_calibration_free(calibration);
  gptq_model_free(source);
}

int32_t cancel_in_layer_one(int32_t layer, int32_t, const char*, double, float, void* calls) {
  ++*static_cast<int*>(calls);
  return layer >= 1 ? 1 : 0;
}

TEST(Quantize, FailuresAreCleanAndClear) {
  GPTQ_REQUIRE_PATH(fixture("llama"));
  gptq_model* source = load(fixture("llama"));
  gptq_calibration* calibration = random_calibration(512, 2, 16, 1);
  gptq_quantize_params params;
  gptq_quantize_default_params(&params, sizeof params);
  gptq_model* out = nullptr;

  int calls = 0;
  params.progress = cancel_in_layer_one;
  params.progress_user_data = &calls;
  EXPECT_EQ(gptq_quantize(source, calibration, &params, &out), GPTQ_ERR_CANCELLED);
  EXPECT_EQ(out, nullptr);
  EXPECT_EQ(calls, 8);  // seven modules of layer 0, then the first of layer 1
  params.progress = nullptr;

  params.bits = 5;
  EXPECT_EQ(gptq_quantize(source, calibration, &params, &out), GPTQ_ERR_UNSUPPORTED);
  EXPECT_NE(std::string(gptq_last_error()).find("5-bit"), std::string::npos);
  params.bits = 4;
  params.group_size = 0;
  EXPECT_EQ(gptq_quantize(source, calibration, &params, &out), GPTQ_ERR_INVALID_ARGUMENT);
  params.group_size = 128;
  EXPECT_EQ(gptq_quantize(source, nullptr, &params, &out), GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(gptq_last_error()).find("calibration"), std::string::npos);

  params.method = GPTQ_METHOD_RTN;
  ASSERT_EQ(gptq_quantize(source, nullptr, &params, &out), GPTQ_OK) << gptq_last_error();
  gptq_model* twice = nullptr;
  EXPECT_EQ(gptq_quantize(out, nullptr, &params, &twice), GPTQ_ERR_INVALID_ARGUMENT);

  const std::string parent = gptq::test::scratch_dir("save_target");
  const std::string occupied = parent + "/occupied";
  fs::create_directories(occupied);
  std::ofstream(occupied + "/keep.txt") << "x";
  EXPECT_EQ(gptq_model_save(out, occupied.c_str(), nullptr), GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(fs::exists(occupied + "/keep.txt"));
  EXPECT_NE(gptq_model_save(out, "/proc/no-such-dir/model", nullptr), GPTQ_OK);
  gptq_save_params bad_format;
  gptq_save_default_params(&bad_format, sizeof bad_format);
  bad_format.format = 9;
  EXPECT_EQ(gptq_model_save(out, (parent + "/bad").c_str(), &bad_format), GPTQ_ERR_INVALID_ARGUMENT);
  ASSERT_EQ(gptq_model_save(out, (parent + "/good").c_str(), nullptr), GPTQ_OK);
  // Only the finished directory and the untouched one: no temporaries.
  std::vector<std::string> entries;
  for (const auto& entry : fs::directory_iterator(parent)) entries.push_back(entry.path().filename().string());
  std::sort(entries.begin(), entries.end());
  EXPECT_EQ(entries, (std::vector<std::string>{"good", "occupied"}));

  gptq_model_free(out);
  gptq_calibration_free(calibration);
  gptq_model_free(source);
}

TEST(Quantize, SkippedModulesStayFloat) {
  GPTQ_REQUIRE_PATH(fixture("mistral"));
  gptq_model* source = load(fixture("mistral"));
  gptq_quantize_params params;
  gptq_quantize_default_params(&params, sizeof params);
  params.method = GPTQ_METHOD_RTN;
  const char* skip[] = {"mlp.down_proj", "model.layers.0.self_attn.q_proj"};
  params.skip_modules = skip;
  params.n_skip_modules = 2;
  gptq_model* out = nullptr;
  ASSERT_EQ(gptq_quantize(source, nullptr, &params, &out), GPTQ_OK) << gptq_last_error();
  const std::string dir = gptq::test::scratch_dir("skipped") + "/out";
  ASSERT_EQ(gptq_model_save(out, dir.c_str(), nullptr), GPTQ_OK) << gptq_last_error();
  const auto tensors = safetensors_header(dir + "/model.safetensors");
  EXPECT_TRUE(tensors.contains("model.layers.1.mlp.down_proj.weight"));
  EXPECT_TRUE(tensors.contains("model.layers.0.self_attn.q_proj.weight"));
  EXPECT_TRUE(tensors.contains("model.layers.1.self_attn.q_proj.qweight"));
  EXPECT_FALSE(tensors.contains("model.layers.1.self_attn.q_proj.weight"));
  EXPECT_TRUE(tensors.contains("lm_head.weight"));
  EXPECT_EQ(tensors["model.layers.1.self_attn.q_proj.scales"]["dtype"], "F16");
  gptq_model* reloaded = load(dir);
  const std::vector<int32_t> tokens = {3, 1, 4, 1, 5};
  EXPECT_EQ(logits_of(out, tokens), logits_of(reloaded, tokens));
  gptq_model_free(reloaded);
  gptq_model_free(out);
  gptq_model_free(source);
}

}  // namespace
