// Devices through the C API: what the build and machine offer, where a
// model is placed, and how an unusable device or a bad setting fails. The
// GPU paths run only where gptq_device_count() finds one; elsewhere they skip
// saying why.
#include <cstring>
#include <string>

#include "gptq.h"
#include "test_util.h"

namespace {

std::string tinydoc() { return gptq::test::shared_path("models/tinydoc-llama-13m"); }

bool error_mentions(const char* text) { return std::strstr(gptq_last_error(), text) != nullptr; }

std::string no_gpu_reason() {
  return std::string("no usable GPU (") + gptq_system_info() + ")";
}

gptq_model_params params_for(const char* device) {
  gptq_model_params params;
  gptq_model_default_params(&params, sizeof params);
  params.device = device;
  return params;
}

gptq_model_info info_of(const gptq_model* model) {
  gptq_model_info info;
  info.struct_size = sizeof info;
  EXPECT_EQ(gptq_model_get_info(model, &info), GPTQ_OK) << gptq_last_error();
  return info;
}

class CApiDevice : public ::testing::Test {
 protected:
  void SetUp() override { GPTQ_REQUIRE_PATH(tinydoc()); }

  // Loads tinydoc with `params`; expects success.
  static gptq_model* load(const gptq_model_params& params) {
    gptq_model* model = nullptr;
    EXPECT_EQ(gptq_model_load(tinydoc().c_str(), &params, &model), GPTQ_OK) << gptq_last_error();
    return model;
  }
  // Loads tinydoc with `params`; expects `status` and no model.
  static void expect_load_fails(const gptq_model_params& params, gptq_status status) {
    gptq_model* model = reinterpret_cast<gptq_model*>(0x1);
    EXPECT_EQ(gptq_model_load(tinydoc().c_str(), &params, &model), status) << gptq_last_error();
    EXPECT_EQ(model, nullptr);
  }
};

TEST(CApiDeviceQueries, CountNamesFeaturesAndSystemInfoAgree) {
  const int32_t count = gptq_device_count();
  ASSERT_GE(count, 0);
  EXPECT_EQ(gptq_device_name(-1), nullptr);
  EXPECT_EQ(gptq_device_name(count), nullptr);
  const std::string info = gptq_system_info();
  EXPECT_EQ(info, gptq_system_info()) << "static storage, the same every time";
  for (int32_t i = 0; i < count; ++i) {
    ASSERT_NE(gptq_device_name(i), nullptr);
    EXPECT_GT(std::strlen(gptq_device_name(i)), 0u);
    EXPECT_EQ(gptq_device_name(i), gptq_device_name(i)) << "static storage";
    EXPECT_NE(info.find(std::to_string(i) + ": " + gptq_device_name(i)), std::string::npos) << info;
  }
  const uint32_t gpu_support = gptq_features() & (GPTQ_FEATURE_CUDA | GPTQ_FEATURE_HIP);
  if (count == 0) EXPECT_NE(info.find(" gpu=none ("), std::string::npos) << info;
  else EXPECT_NE(info.find(" gpus=[0: "), std::string::npos) << info;
  if (gpu_support == 0) {
    EXPECT_EQ(count, 0) << "a GPU is usable only in a build with GPU support";
    EXPECT_NE(info.find(" cuda=no"), std::string::npos) << info;
  }
}

TEST(CApiDeviceQueries, DefaultsLeaveTheChoiceToTheLibrary) {
  gptq_model_params model;
  gptq_model_default_params(&model, sizeof model);
  EXPECT_EQ(model.device, nullptr);
  EXPECT_EQ(model.n_gpu_layers, -1);
  EXPECT_EQ(model.compute_dtype, GPTQ_DTYPE_AUTO);
  gptq_context_params context;
  gptq_context_default_params(&context, sizeof context);
  EXPECT_EQ(context.kv_dtype, GPTQ_DTYPE_AUTO);
}

TEST_F(CApiDevice, CpuPlacementIsReported) {
  for (const char* device : {static_cast<const char*>(nullptr), "cpu"}) {
    gptq_model_params params = params_for(device);
    params.n_gpu_layers = 3;  // ignored on the CPU
    params.compute_dtype = GPTQ_DTYPE_BF16;
    gptq_model* model = load(params);
    ASSERT_NE(model, nullptr);
    const gptq_model_info info = info_of(model);
    EXPECT_STREQ(info.device, "cpu");
    EXPECT_STREQ(info.placement, "embedding=cpu layers[0-5]=cpu head=cpu");
    EXPECT_EQ(info.n_gpu_layers, 0);
    EXPECT_EQ(info.compute_dtype, GPTQ_DTYPE_F32);
    EXPECT_EQ(info.gpu_weight_bytes, 0);
    gptq_model_free(model);
  }
}

TEST_F(CApiDevice, AutoIsTheFirstGpuElseTheCpu) {
  gptq_model* model = load(params_for("auto"));
  ASSERT_NE(model, nullptr);
  EXPECT_STREQ(info_of(model).device, gptq_device_count() > 0 ? "cuda:0" : "cpu");
  gptq_model_free(model);
}

TEST_F(CApiDevice, UnavailableGpuFailsWithTheReason) {
  const int32_t count = gptq_device_count();
  if (count == 0) {
    expect_load_fails(params_for("cuda"), GPTQ_ERR_UNSUPPORTED);
    EXPECT_TRUE(error_mentions("'cuda' is not available: ")) << gptq_last_error();
  }
  // One past the last GPU is never there, with or without GPUs.
  const std::string past_the_last = "cuda:" + std::to_string(count);
  expect_load_fails(params_for(past_the_last.c_str()), GPTQ_ERR_UNSUPPORTED);
  EXPECT_TRUE(error_mentions(past_the_last.c_str())) << gptq_last_error();
}

TEST_F(CApiDevice, BadSettingsNameTheField) {
  expect_load_fails(params_for("tpu"), GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(error_mentions("'tpu'")) << gptq_last_error();

  for (int32_t bad : {-2, 3, 100}) {
    gptq_model_params params = params_for("cpu");
    params.compute_dtype = bad;
    expect_load_fails(params, GPTQ_ERR_INVALID_ARGUMENT);
    EXPECT_TRUE(error_mentions("compute_dtype")) << gptq_last_error();
  }
  gptq_model_params params = params_for("cpu");
  params.n_gpu_layers = -2;
  expect_load_fails(params, GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(error_mentions("n_gpu_layers")) << gptq_last_error();

  gptq_model* model = load(params_for("cpu"));
  ASSERT_NE(model, nullptr);
  gptq_context_params context_params;
  gptq_context_default_params(&context_params, sizeof context_params);
  context_params.n_ctx = 64;
  for (int32_t bad : {-2, 3}) {
    context_params.kv_dtype = bad;
    gptq_context* context = reinterpret_cast<gptq_context*>(0x1);
    EXPECT_EQ(gptq_context_new(model, &context_params, &context), GPTQ_ERR_INVALID_ARGUMENT);
    EXPECT_TRUE(error_mentions("kv_dtype")) << gptq_last_error();
    EXPECT_EQ(context, nullptr);
  }
  // Every gptq_dtype is accepted; CPU layers keep their fp32 cache whatever it says.
  for (int32_t good : {GPTQ_DTYPE_AUTO, GPTQ_DTYPE_F32, GPTQ_DTYPE_F16, GPTQ_DTYPE_BF16}) {
    context_params.kv_dtype = good;
    gptq_context* context = nullptr;
    EXPECT_EQ(gptq_context_new(model, &context_params, &context), GPTQ_OK) << gptq_last_error();
    gptq_context_free(context);
  }
  gptq_model_free(model);
}

TEST_F(CApiDevice, GpuLoadsPlacesAndGenerates) {
  if (gptq_device_count() == 0) GTEST_SKIP() << no_gpu_reason();
  gptq_model* model = load(params_for("cuda"));
  ASSERT_NE(model, nullptr);
  gptq_model_info info = info_of(model);
  EXPECT_STREQ(info.device, "cuda:0");
  EXPECT_STREQ(info.placement, "embedding=cuda:0 layers[0-5]=cuda:0 head=cuda:0");
  EXPECT_EQ(info.n_gpu_layers, 6);
  EXPECT_EQ(info.compute_dtype, GPTQ_DTYPE_F16);  // tinydoc is an fp16 checkpoint
  EXPECT_GT(info.gpu_weight_bytes, 0);

  gptq_context* context = nullptr;
  ASSERT_EQ(gptq_context_new(model, nullptr, &context), GPTQ_OK) << gptq_last_error();
  gptq_generate_params params;
  gptq_generate_default_params(&params, sizeof params);
  params.max_new_tokens = 4;
  params.stop_on_eos = 0;
  gptq_generation* generation = nullptr;
  ASSERT_EQ(gptq_generate(context, "The history of the city", &params, &generation), GPTQ_OK) << gptq_last_error();
  EXPECT_EQ(gptq_generation_tokens(generation, 0, nullptr), 4u);
  gptq_generation_free(generation);
  gptq_context_free(context);
  gptq_model_free(model);

  gptq_model_params split = params_for("cuda:0");
  split.n_gpu_layers = 2;
  split.compute_dtype = GPTQ_DTYPE_F32;
  model = load(split);
  ASSERT_NE(model, nullptr);
  info = info_of(model);
  EXPECT_STREQ(info.device, "cuda:0+cpu");
  EXPECT_STREQ(info.placement, "embedding=cpu layers[0-3]=cpu layers[4-5]=cuda:0 head=cuda:0");
  EXPECT_EQ(info.n_gpu_layers, 2);
  EXPECT_EQ(info.compute_dtype, GPTQ_DTYPE_F32);
  gptq_model_free(model);
}

}  // namespace
