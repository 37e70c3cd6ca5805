// GPTQ on the GPU (quant/cuda) against the CPU's (quant/cpu_gptq_device.cpp):
// single matrices across bit widths, groupings, act-order, static groups,
// asymmetric and MSE ranges and odd shapes, from the same Hessian; whole
// tinydoc quantized on both, with the share of integers that differ and
// the perplexities; calibration activations held in pinned host memory.
// Skips, saying why, without a usable GPU.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>

#include "backend/cuda/gpu_runtime.h"
#include "eval/perplexity.h"
#include "gpu_test_util.h"
#include "io/mapped_file.h"
#include "model/model.h"
#include "quant/gptq_device.h"
#include "quant/pack.h"
#include "quant/quantizer.h"
#include "quant/save.h"
#include "runtime/context.h"

namespace gptq {
namespace {

#define GPTQ_REQUIRE_GPU_QUANTIZER()                                                    \
  do {                                                                                  \
    GPTQ_REQUIRE_GPU();                                                                 \
    if (std::string(gpu::runtime_name()) != "cuda") GTEST_SKIP() << "GPU GPTQ needs CUDA"; \
  } while (0)

struct MatrixCase {
  const char* name;
  int64_t n, k;
  int bits;
  int group_size;
  bool desc_act, sym, static_groups, mse;
};

std::ostream& operator<<(std::ostream& os, const MatrixCase& c) { return os << c.name; }

class GpuGptqMatrix : public ::testing::TestWithParam<MatrixCase> {};

// Quantizes W with the Hessian of X on `device` (X fp32, rows of K).
QuantizedResult quantize_on(GptqDevice& device, const std::vector<float>& x, int64_t rows, const MatrixCase& c,
                            const std::vector<float>& w, double* damp) {
  std::unique_ptr<GptqDevice::Hessian> h = device.new_hessian(c.k);
  cuda::DeviceBuffer on_gpu;
  Activations activations{const_cast<float*>(x.data()), c.k, c.k, 4};
  if (device.backend().device().is_gpu()) {
    on_gpu = test::upload(x, FloatType::F32);
    activations.data = on_gpu.get();
  }
  device.accumulate(*h, activations, rows);
  std::unique_ptr<GptqDevice::Factor> f = device.factor(std::move(h), static_cast<float>(2.0 / rows), c.desc_act, 0.01);
  *damp = f->damp_used;
  GptqOptions options;
  options.bits = c.bits;
  options.group_size = c.group_size;
  options.desc_act = c.desc_act;
  options.sym = c.sym;
  options.static_groups = c.static_groups;
  options.mse = c.mse;
  Linear linear = Linear::dense("w", w, c.n, c.k);
  QuantizedResult result = device.quantize(linear, f.get(), options, c.group_size);
  device.synchronize();
  return result;
}

TEST_P(GpuGptqMatrix, MatchesTheCpu) {
  GPTQ_REQUIRE_GPU_QUANTIZER();
  const MatrixCase& c = GetParam();
  const std::string dir = test::shared_path("fixtures/archs/llama");
  GPTQ_REQUIRE_PATH(dir + "/config.json");
  const std::unique_ptr<Model> model = Model::load(dir, LoadOptions{});
  ThreadPool pool(default_thread_count());
  const std::unique_ptr<GptqDevice> cpu = make_gptq_device(kCpu, pool, *model, 16, {});
  GptqDeviceOptions options;
  options.gpu_compute = FloatType::F32;
  const std::unique_ptr<GptqDevice> gpu = make_gptq_device(test::kGpu0, pool, *model, 16, options);

  // Small integers: X^T X is exact in fp32 in any order, so both sides
  // factor the same Hessian; a few inputs never fire (dead columns).
  std::mt19937 rng(static_cast<uint32_t>(c.n * 31 + c.k));
  std::uniform_int_distribution<int> small(-4, 4);
  const int64_t rows = 3 * c.k;
  std::vector<float> x(rows * c.k);
  for (float& v : x) v = static_cast<float>(small(rng));
  for (int64_t r = 0; r < rows; ++r) x[r * c.k + c.k / 3] = 0.0f;
  const std::vector<float> w = test::random_values(c.n * c.k, rng, 0.05f);

  double cpu_damp = 0, gpu_damp = 0;
  const QuantizedResult want = quantize_on(*cpu, x, rows, c, w, &cpu_damp);
  const QuantizedResult got = quantize_on(*gpu, x, rows, c, w, &gpu_damp);
  EXPECT_EQ(gpu_damp, cpu_damp);
  EXPECT_EQ(got.linear->g_idx, want.linear->g_idx);
  ASSERT_EQ(got.linear->n_groups, want.linear->n_groups);
  const std::vector<uint8_t> want_codes = unpack_qweight(want.linear->qweight, c.k, c.n, c.bits);
  const std::vector<uint8_t> got_codes = unpack_qweight(got.linear->qweight, c.k, c.n, c.bits);
  int64_t codes_differ = 0, scales_differ = 0;
  for (size_t i = 0; i < want_codes.size(); ++i) codes_differ += want_codes[i] != got_codes[i];
  for (size_t i = 0; i < want.linear->scales.size(); ++i) {
    scales_differ += want.linear->scales[i] != got.linear->scales[i] || want.linear->zeros[i] != got.linear->zeros[i];
  }
  const double code_fraction = static_cast<double>(codes_differ) / static_cast<double>(want_codes.size());
  std::printf("[ %s ] %lld x %lld: %lld of %zu codes differ (%.4f%%), %lld of %zu group statistics; loss %.6g vs %.6g\n",
              c.name, static_cast<long long>(c.n), static_cast<long long>(c.k), static_cast<long long>(codes_differ),
              want_codes.size(), 100.0 * code_fraction, static_cast<long long>(scales_differ),
              want.linear->scales.size(), got.loss, want.loss);
  // Differences come from summation order alone: a value landing on the
  // other side of a rounding boundary, and the error it then passes on to
  // the rest of its row (0 to 0.6% of the codes in these cases).
  EXPECT_LE(code_fraction, 0.01);
  EXPECT_LE(static_cast<double>(scales_differ), 0.02 * static_cast<double>(want.linear->scales.size()) + 1);
  EXPECT_NEAR(got.loss, want.loss, 1e-3 * want.loss);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, GpuGptqMatrix,
    ::testing::Values(MatrixCase{"w4_g32_actorder", 67, 200, 4, 32, true, true, false, false},
                      MatrixCase{"w4_whole_asym", 130, 257, 4, -1, false, false, false, false},
                      MatrixCase{"w3_g64_static_actorder", 96, 300, 3, 64, true, true, true, false},
                      MatrixCase{"w8_g128_mse", 33, 160, 8, 128, false, true, false, true},
                      MatrixCase{"w2_g16_asym_actorder", 45, 96, 2, 16, true, false, false, false},
                      MatrixCase{"w4_g256_blocks_inside_groups", 40, 520, 4, 256, false, true, false, false}),
    [](const ::testing::TestParamInfo<MatrixCase>& info) { return std::string(info.param.name); });

class GpuGptqTinydoc : public ::testing::Test {
 protected:
  void SetUp() override {
    GPTQ_REQUIRE_GPU_QUANTIZER();
    dir_ = test::shared_path("models/tinydoc-llama-13m");
    GPTQ_REQUIRE_PATH(dir_ + "/model.safetensors");
    GPTQ_REQUIRE_PATH(test::shared_path("data/wikitext-2/valid.txt"));
    model_ = Model::load(dir_, LoadOptions{});
    calibration_ = calibration_windows(model_->require_tokenizer(),
                                       read_text_file(test::shared_path("data/wikitext-2/valid.txt")), 32, 256, 0);
  }

  std::unique_ptr<Model> quantize(DeviceId device, FloatType compute, bool desc_act, int64_t max_device_bytes = 0) {
    QuantizeOptions options;
    options.config.desc_act = desc_act;
    options.device = device;
    options.device_options.gpu_compute = compute;
    options.device_options.max_device_bytes = max_device_bytes;
    ThreadPool pool(default_thread_count());
    return quantize_model(pool, *model_, calibration_, options, nullptr);
  }

  double perplexity_of(const Model& quantized, const std::string& name) {
    const std::string dir = test::scratch_dir("gpu-gptq-" + name) + "/model";
    save_model(quantized, dir, {});
    LoadOptions load;
    load.device = "cuda";
    const std::unique_ptr<Model> model = Model::load(dir, load);
    ContextOptions options;
    options.n_ctx = 512;
    options.n_batch = 512;
    Context context(*model, resolve_context_options(*model, options));
    PerplexityOptions ppl;
    ppl.window = 512;
    ppl.max_windows = 16;
    return perplexity(context, read_text_file(test::shared_path("data/wikitext-2/test.txt")), ppl).perplexity;
  }

  std::string dir_;
  std::unique_ptr<Model> model_;
  CalibrationSet calibration_;
};

// The share of quantized integers that differ, over every linear of the
// layers [first, last).
double differing_codes(const Model& a, const Model& b, size_t first = 0, size_t last = SIZE_MAX) {
  int64_t differ = 0, total = 0;
  const std::vector<LayerLinear> linears = layer_linears(a.config());
  for (size_t l = first; l < std::min(last, a.layers().size()); ++l) {
    for (const LayerLinear& entry : linears) {
      const QuantizedLinear& qa = entry.of(a.layers()[l]).gptq();
      const QuantizedLinear& qb = entry.of(b.layers()[l]).gptq();
      const std::vector<uint8_t> ca = unpack_qweight(qa.qweight, qa.in_features, qa.out_features, qa.bits);
      const std::vector<uint8_t> cb = unpack_qweight(qb.qweight, qb.in_features, qb.out_features, qb.bits);
      for (size_t i = 0; i < ca.size(); ++i) differ += ca[i] != cb[i];
      total += static_cast<int64_t>(ca.size());
    }
  }
  return static_cast<double>(differ) / static_cast<double>(total);
}

std::string per_layer(const Model& a, const Model& b) {
  std::string out;
  for (size_t l = 0; l < a.layers().size(); ++l) {
    char text[32];
    std::snprintf(text, sizeof text, "%s%.2f%%", l == 0 ? "" : " ", 100 * differing_codes(a, b, l, l + 1));
    out += text;
  }
  return out;
}

// GPTQ feeds each column's rounding error into the columns after it, and a
// layer's result into the next layer's inputs: one value rounded the other
// way changes what follows it. How far two runs of the same problem drift
// apart is measured here with the CPU itself, summing the calibration
// samples in the opposite order (the same Hessian but for fp32 rounding);
// the GPU must stay within that drift of the CPU.
TEST_F(GpuGptqTinydoc, IntegersAndPerplexityMatchTheCpu) {
  for (bool desc_act : {false, true}) {
    const char* tag = desc_act ? "w4_g128_actorder" : "w4_g128";
    const std::unique_ptr<Model> on_cpu = quantize(kCpu, FloatType::F32, desc_act);
    std::reverse(calibration_.begin(), calibration_.end());
    const std::unique_ptr<Model> reordered = quantize(kCpu, FloatType::F32, desc_act);
    std::reverse(calibration_.begin(), calibration_.end());
    const std::unique_ptr<Model> fp32 = quantize(test::kGpu0, FloatType::F32, desc_act);
    const std::unique_ptr<Model> fp16 = quantize(test::kGpu0, FloatType::F16, desc_act);
    const double cpu_ppl = perplexity_of(*on_cpu, std::string(tag) + "-cpu");
    const double reordered_ppl = perplexity_of(*reordered, std::string(tag) + "-cpu-reordered");
    const double fp32_ppl = perplexity_of(*fp32, std::string(tag) + "-gpu-f32");
    const double fp16_ppl = perplexity_of(*fp16, std::string(tag) + "-gpu-f16");
    const double drift = differing_codes(*on_cpu, *reordered);
    const double fp32_differ = differing_codes(*on_cpu, *fp32), fp16_differ = differing_codes(*on_cpu, *fp16);
    std::printf("[ tinydoc %s ] integers differing from the CPU's: cpu with the samples reordered %.4f%% (per layer %s), "
                "gpu f32 %.4f%% (per layer %s), gpu f16 %.4f%%\n",
                tag, 100 * drift, per_layer(*on_cpu, *reordered).c_str(), 100 * fp32_differ,
                per_layer(*on_cpu, *fp32).c_str(), 100 * fp16_differ);
    std::printf("[ tinydoc %s ] perplexity (16 x 512 WikiText-2 test): cpu %.4f, cpu reordered %.4f, gpu f32 %.4f, "
                "gpu f16 %.4f\n",
                tag, cpu_ppl, reordered_ppl, fp32_ppl, fp16_ppl);
    EXPECT_LT(fp32_differ, 2 * drift + 0.005) << tag;
    const double ppl_drift = std::fabs(reordered_ppl - cpu_ppl);
    EXPECT_NEAR(fp32_ppl, cpu_ppl, std::max(0.003 * cpu_ppl, 3 * ppl_drift)) << tag;
    EXPECT_NEAR(fp16_ppl, cpu_ppl, std::max(0.01 * cpu_ppl, 3 * ppl_drift)) << tag;
  }
}

// Nothing of a layer stays on the device once the next one starts (a leak
// across layers is a known failure of other GPTQ tools).
TEST_F(GpuGptqTinydoc, DeviceMemoryStaysFlatFromLayerToLayer) {
  QuantizeOptions options;
  options.device = test::kGpu0;
  std::vector<int64_t> free_at_layer;
  options.on_module = [&](const ModuleReport& m, float) {
    if (static_cast<size_t>(m.layer) == free_at_layer.size()) {
      int64_t free_bytes = 0, total = 0;
      EXPECT_TRUE(gpu::memory(0, &free_bytes, &total));
      free_at_layer.push_back(free_bytes);
    }
    return true;
  };
  ThreadPool pool(default_thread_count());
  (void)quantize_model(pool, *model_, calibration_, options, nullptr);
  ASSERT_EQ(free_at_layer.size(), model_->layers().size());
  const int64_t layer_bytes = 4 * model_->config().hidden_size * model_->config().hidden_size;
  for (size_t l = 2; l < free_at_layer.size(); ++l) {
    std::printf("[ tinydoc ] device memory free at layer %zu: %.1f MiB (layer 1: %.1f MiB)\n", l,
                free_at_layer[l] / 1048576.0, free_at_layer[1] / 1048576.0);
    EXPECT_GT(free_at_layer[l], free_at_layer[1] - layer_bytes) << "layer " << l;
  }
}

TEST_F(GpuGptqTinydoc, ActivationsHeldOnTheHostGiveTheSameModel) {
  const std::unique_ptr<Model> on_device = quantize(test::kGpu0, FloatType::F16, false);
  const std::unique_ptr<Model> on_host = quantize(test::kGpu0, FloatType::F16, false, /*max_device_bytes=*/1);
  EXPECT_EQ(differing_codes(*on_device, *on_host), 0.0);
}

}  // namespace
}  // namespace gptq
