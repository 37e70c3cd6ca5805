// Mixture of experts (mixtral): how configs read in both spellings, the
// routing of the CPU backend against a direct computation, each expert
// running on its own tokens only, and calibration: routed as the model
// routes, every token to every expert, and the minimum-token rule's
// warning naming starved experts.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <regex>

#include "backend/cpu/row_ops.h"
#include "core/thread_pool.h"
#include "io/json_file.h"
#include "model/model.h"
#include "quant/quantizer.h"
#include "quant/save.h"
#include "runtime/context.h"
#include "runtime/forward.h"
#include "test_util.h"

namespace gptq {
namespace {

std::string mixtral_dir() { return test::shared_path("fixtures/archs/mixtral"); }
Json mixtral_config() { return load_json_file(mixtral_dir() + "/config.json"); }

TEST(MoeConfig, ReadsBothSpellingsAndDefaults) {
  GPTQ_REQUIRE_PATH(mixtral_dir());
  const ModelConfig c = parse_model_config(mixtral_config(), "mixtral");
  EXPECT_EQ(c.arch->mlp, MlpKind::Routed);
  EXPECT_EQ(c.n_experts, 4);
  EXPECT_EQ(c.n_experts_per_token, 2);
  EXPECT_EQ(c.rope.theta, 1e6);  // rope_parameters (transformers 5.x)
  EXPECT_EQ(c.sliding_window, 0);

  // transformers 4.x: rope_theta at the top, torch_dtype, no router_jitter_noise;
  // num_experts is MixtralConfig's attribute_map alias.
  Json old = mixtral_config();
  old.erase("rope_parameters");
  old.erase("dtype");
  old.erase("router_jitter_noise");
  old.erase("num_local_experts");
  old["rope_theta"] = 5e5;
  old["torch_dtype"] = "bfloat16";
  old["num_experts"] = 3;
  old["sliding_window"] = 4096;
  const ModelConfig legacy = parse_model_config(old, "mixtral-4.x");
  EXPECT_EQ(legacy.n_experts, 3);
  EXPECT_EQ(legacy.rope.theta, 5e5);
  EXPECT_EQ(legacy.dtype, "bfloat16");
  EXPECT_EQ(legacy.sliding_window, 4096);

  Json bare = mixtral_config();  // MixtralConfig's defaults: 8 experts, 2 per token
  bare.erase("num_local_experts");
  bare.erase("num_experts_per_tok");
  const ModelConfig defaults = parse_model_config(bare, "mixtral");
  EXPECT_EQ(defaults.n_experts, 8);
  EXPECT_EQ(defaults.n_experts_per_token, 2);
}

TEST(MoeConfig, ClearErrorsForImpossibleRouting) {
  GPTQ_REQUIRE_PATH(mixtral_dir());
  const std::pair<const char*, int> cases[] = {{"num_experts_per_tok", 5}, {"num_experts_per_tok", 0},
                                               {"num_local_experts", 0}};
  for (const auto& [key, value] : cases) {
    Json config = mixtral_config();
    config[key] = value;
    std::string message;
    EXPECT_EQ(test::status_of([&] { parse_model_config(config, "config.json"); }, &message), GPTQ_ERR_FORMAT) << key;
    EXPECT_NE(message.find(key), std::string::npos) << message;
  }
}

TEST(MoeLayout, ExpertLinearsNamedAsTheCheckpoint) {
  GPTQ_REQUIRE_PATH(mixtral_dir());
  const ModelConfig c = parse_model_config(mixtral_config(), "mixtral");
  std::vector<std::string> names;
  for (const LayerLinear& l : layer_linears(c)) names.push_back(l.name);
  const std::vector<std::string> expected = {
      "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "block_sparse_moe.gate",
      "block_sparse_moe.experts.0.w1", "block_sparse_moe.experts.0.w3", "block_sparse_moe.experts.0.w2",
      "block_sparse_moe.experts.1.w1", "block_sparse_moe.experts.1.w3", "block_sparse_moe.experts.1.w2",
      "block_sparse_moe.experts.2.w1", "block_sparse_moe.experts.2.w3", "block_sparse_moe.experts.2.w2",
      "block_sparse_moe.experts.3.w1", "block_sparse_moe.experts.3.w3", "block_sparse_moe.experts.3.w2"};
  EXPECT_EQ(names, expected);
  // A checkpoint missing an expert names the tensor.
  auto model = Model::load(mixtral_dir(), {});
  EXPECT_EQ(model->layers()[1].experts.size(), 4u);
  EXPECT_EQ(model->layers()[1].experts[3].down_proj.name(), "model.layers.1.block_sparse_moe.experts.3.w2");
}

// Softmax, top-k and renormalisation, as MixtralSparseMoeBlock computes them.
TEST(MoeRouting, RouteRowMatchesADirectComputation) {
  const float scores[] = {0.5f, -1.0f, 2.0f, 0.25f, 2.0f};
  int32_t experts[3];
  float weights[3];
  route_row(scores, 5, 3, experts, weights);
  EXPECT_EQ(experts[0], 2);  // ties go to the lower index
  EXPECT_EQ(experts[1], 4);
  EXPECT_EQ(experts[2], 0);
  const double e2 = std::exp(2.0), e0 = std::exp(0.5);
  EXPECT_NEAR(weights[0], e2 / (2 * e2 + e0), 1e-6);
  EXPECT_NEAR(weights[1], e2 / (2 * e2 + e0), 1e-6);
  EXPECT_NEAR(weights[2], e0 / (2 * e2 + e0), 1e-6);
}

// Layer 0 of the fixture over one batch on the CPU backend.
class MoeLayer {
 public:
  explicit MoeLayer(std::vector<int32_t> tokens)
      : model_(Model::load(mixtral_dir(), {})),
        n_(static_cast<int32_t>(tokens.size())),
        tokens_(std::move(tokens)),
        seq_(n_, 0),
        pos_(n_) {
    BackendOptions options;
    options.pool = &pool_;
    backends_.add(make_backend(kCpu, options));
    forward_ = std::make_unique<ForwardPass>(*model_, backends_, n_, n_);
    cache_ = std::make_unique<KvCache>(make_kv_cache(model_->config(), 1, n_, 1, [&](int64_t) -> Backend& { return cpu(); }));
    std::iota(pos_.begin(), pos_.end(), 0);
  }

  // The layer's output hidden states; `observer` sees its taps.
  std::vector<float> run(bool every_expert, const LayerObserver* observer) {
    const Batch batch{tokens_.data(), seq_.data(), pos_.data(), n_, nullptr, 0};
    const int64_t H = model_->config().hidden_size;
    std::vector<float> hidden(n_ * H);
    const Activations rows{hidden.data(), H, H, 4};
    cpu().stage_batch(batch);
    forward_->embed(cpu(), rows, n_);
    forward_->set_every_expert(every_expert);
    EXPECT_TRUE(forward_->run_layer(cpu(), *cache_, batch, model_->layers()[0], 0, 0, rows, observer));
    return hidden;
  }

 private:
  Backend& cpu() { return *backends_.all().front(); }

  ThreadPool pool_{2};
  std::unique_ptr<Model> model_;
  int32_t n_;
  std::vector<int32_t> tokens_, seq_, pos_;
  BackendSet backends_;
  std::unique_ptr<ForwardPass> forward_;
  std::unique_ptr<KvCache> cache_;
};

// The rows each expert runs on (ForwardPass's ExpertInput tap): its routed
// tokens only, top_k per token in all; every token under every_expert.
TEST(MoeRouting, EachExpertRunsOnItsRoutedRowsOnly) {
  GPTQ_REQUIRE_PATH(mixtral_dir());
  const int32_t n = 13;
  std::vector<int32_t> tokens(n);
  for (int32_t i = 0; i < n; ++i) tokens[i] = (i * 37 + 5) % 512;
  MoeLayer layer(tokens);
  for (bool every : {false, true}) {
    std::vector<int64_t> seen(4, 0);
    const LayerObserver observe = [&](LayerTap tap, int32_t expert, const Activations&, int64_t n_rows) {
      if (tap == LayerTap::ExpertInput) seen[expert] += n_rows;
      return true;
    };
    layer.run(every, &observe);
    if (every) {
      EXPECT_EQ(seen, std::vector<int64_t>(4, n));
    } else {
      EXPECT_EQ(std::accumulate(seen.begin(), seen.end(), int64_t{0}), 2 * n);
      for (int64_t count : seen) EXPECT_LT(count, n);
    }
  }
}

// Every expert running on every token with weight 0 where not chosen
// leaves the layer's output as routing computes it.
TEST(MoeRouting, EveryExpertModeKeepsTheLayerOutput) {
  GPTQ_REQUIRE_PATH(mixtral_dir());
  MoeLayer layer({1, 7, 300, 2, 99, 45, 45, 8, 511});
  EXPECT_EQ(layer.run(false, nullptr), layer.run(true, nullptr));
}

CalibrationSet random_calibration(int samples, int length, uint32_t seed) {
  std::mt19937 rng(seed);
  CalibrationSet calibration(samples, std::vector<int32_t>(length));
  for (auto& sample : calibration) {
    for (int32_t& t : sample) t = static_cast<int32_t>(rng() % 512);
  }
  return calibration;
}

std::vector<float> logits_of(const Model& model, const std::vector<int32_t>& tokens) {
  ContextOptions options;
  options.n_ctx = 64;
  Context context(model, resolve_context_options(model, options));
  std::vector<float> logits(tokens.size() * model.config().vocab_size);
  context.eval(0, tokens, LogitsMode::All, logits.data());
  return logits;
}

// Warnings through the library's log callback.
std::vector<std::string>* g_warnings = nullptr;
void collect_warning(int32_t level, const char* message, void*) {
  if (g_warnings != nullptr && level == GPTQ_LOG_WARN) g_warnings->emplace_back(message);
}

class MoeCalibration : public ::testing::Test {
 protected:
  void SetUp() override {
    GPTQ_REQUIRE_PATH(mixtral_dir());
    model_ = Model::load(mixtral_dir(), {});
    g_warnings = &warnings_;
    gptq_log_set(collect_warning, nullptr, GPTQ_LOG_WARN);
  }
  void TearDown() override {
    gptq_log_set(nullptr, nullptr, GPTQ_LOG_WARN);
    g_warnings = nullptr;
  }

  std::unique_ptr<Model> quantize(bool all_experts, int32_t min_tokens, QuantizeReport* report) {
    QuantizeOptions options;
    options.config.group_size = 32;
    options.all_experts = all_experts;
    options.min_expert_tokens = min_tokens;
    warnings_.clear();
    return quantize_model(pool_, *model_, calibration_, options, report);
  }

  static constexpr int64_t kTokens = 6 * 40;
  ThreadPool pool_{2};
  CalibrationSet calibration_ = random_calibration(6, 40, 3);
  std::unique_ptr<Model> model_;
  std::vector<std::string> warnings_;
};

TEST_F(MoeCalibration, RoutedTokensAddUpAndNoWarningWithoutAMinimum) {
  QuantizeReport report;
  quantize(false, -1, &report);
  ASSERT_EQ(report.experts.size(), 8u);  // 2 layers x 4 experts
  for (int32_t layer = 0; layer < 2; ++layer) {
    int64_t total = 0;
    for (const ExpertCalibration& e : report.experts) {
      if (e.layer != layer) continue;
      EXPECT_EQ(e.tokens, e.routed_tokens);
      total += e.routed_tokens;
    }
    EXPECT_EQ(total, 2 * kTokens) << "layer " << layer;  // top-2
  }
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(MoeCalibration, StarvedExpertsAreNamedAndCalibratedOnEveryToken) {
  QuantizeReport routed;
  quantize(false, -1, &routed);
  // A minimum just above layer 0's least-routed expert starves it alone (or its ties).
  int64_t fewest = kTokens;
  for (const ExpertCalibration& e : routed.experts) {
    if (e.layer == 0) fewest = std::min(fewest, e.routed_tokens);
  }
  const int32_t minimum = static_cast<int32_t>(fewest + 1);
  QuantizeReport report;
  const std::unique_ptr<Model> quantized = quantize(false, minimum, &report);
  ASSERT_EQ(report.experts.size(), 8u);
  size_t starved = 0;
  for (const ExpertCalibration& e : report.experts) {
    if (e.layer == 0) EXPECT_EQ(e.routed_tokens, routed.experts[e.expert].routed_tokens);
    const bool is_starved = e.routed_tokens < minimum;
    EXPECT_EQ(e.tokens, is_starved ? kTokens : e.routed_tokens) << "layer " << e.layer << " expert " << e.expert;
    if (!is_starved) continue;
    ++starved;
    const std::string needle = "layer " + std::to_string(e.layer) + " expert " + std::to_string(e.expert) +
                               " was routed " + std::to_string(e.routed_tokens) + " of the " +
                               std::to_string(kTokens) + " calibration tokens";
    EXPECT_TRUE(std::any_of(warnings_.begin(), warnings_.end(),
                            [&](const std::string& w) { return w.find(needle) != std::string::npos; }))
        << needle;
  }
  EXPECT_GE(starved, 1u);
  EXPECT_LT(starved, 8u);
  EXPECT_EQ(warnings_.size(), starved);  // once per starved expert, not per linear
  EXPECT_EQ(logits_of(*quantized, {1, 2, 3}).size(), 3u * 512);
}

TEST_F(MoeCalibration, AllExpertsOptionGivesEveryExpertEveryToken) {
  QuantizeReport report;
  const std::unique_ptr<Model> quantized = quantize(true, 0, &report);
  ASSERT_EQ(report.experts.size(), 8u);
  for (const ExpertCalibration& e : report.experts) {
    EXPECT_EQ(e.routed_tokens, kTokens);
    EXPECT_EQ(e.tokens, kTokens);
  }
  EXPECT_TRUE(warnings_.empty());
  // Both calibrations stay close to the float model (random weights and tokens: w4 g32 drifts ~0.4).
  QuantizeReport routed;
  const std::unique_ptr<Model> routed_model = quantize(false, -1, &routed);
  const std::vector<int32_t> tokens = {1, 17, 300, 42, 42, 9, 511, 2, 64, 100};
  const std::vector<float> reference = logits_of(*model_, tokens);
  for (const Model* q : {quantized.get(), routed_model.get()}) {
    const double drift = test::relative_l2(logits_of(*q, tokens), reference);
    std::printf("[ mixtral ] w4 g32 quantized logits drift %.3g\n", drift);
    EXPECT_GT(drift, 0.0);
    EXPECT_LT(drift, 0.6);  // QuantizeArch's limit for every family
  }
}

// The GPU quantizer refuses a mixture of experts, saying where to go instead.
TEST_F(MoeCalibration, GpuQuantizerRefusesMoeClearly) {
  QuantizeOptions options;
  options.device = DeviceId{DeviceKind::Gpu, 0};
  std::string message;
  const gptq_status status = test::status_of(
      [&] { quantize_model(pool_, *model_, calibration_, options, nullptr); }, &message);
  EXPECT_EQ(status, GPTQ_ERR_UNSUPPORTED) << message;
  EXPECT_NE(message.find("mixture-of-experts"), std::string::npos) << message;
}

}  // namespace
}  // namespace gptq
