// Placing a model by memory (device lists and accelerate-style budgets),
// checked with made-up device sizes, and through Model::load on the CPU.
#include <gtest/gtest.h>

#include "backend/placement.h"
#include "core/error.h"
#include "model/model.h"
#include "test_util.h"

namespace gptq {
namespace {

constexpr DeviceId kGpu0{DeviceKind::Gpu, 0}, kGpu1{DeviceKind::Gpu, 1};

PartCosts costs(int layers, int64_t per_layer, int64_t kv, int64_t ends) {
  PartCosts c;
  c.embedding = ends / 2;
  c.head = ends - ends / 2;
  c.layers.assign(static_cast<size_t>(layers), per_layer);
  c.kv_per_layer = kv;
  c.kv_per_layer_cpu = 2 * kv;
  return c;
}

TEST(PlacementByMemory, FillsTheGpusInOrderWithWholeLayersAndTheirKvCache) {
  // Ends 2, layers 3 + 1 of KV: GPU 0 holds the ends and two layers, GPU 1 two more, the CPU the rest.
  const Placement p = plan_by_memory(costs(6, 3, 1, 2), {{kGpu0, 10}, {kGpu1, 9}, {kCpu, 0, false}}, FloatType::F16);
  EXPECT_EQ(p.embedding, kGpu0);
  EXPECT_EQ(p.head, kGpu0);
  const std::vector<DeviceId> want = {kGpu0, kGpu0, kGpu1, kGpu1, kCpu, kCpu};
  EXPECT_EQ(p.layers, want);
  EXPECT_EQ(p.describe(), "embedding=cuda:0 layers[0-1]=cuda:0 layers[2-3]=cuda:1 layers[4-5]=cpu head=cuda:0");
  EXPECT_EQ(p.summary(), "cuda:0+cuda:1+cpu");
  EXPECT_EQ(p.n_gpu_layers(), 4);
}

TEST(PlacementByMemory, CountsTheCpusOwnKvCacheAgainstItsBudget) {
  // The CPU keeps its KV cache in fp32 (twice the GPU's here): 2 layers of 3 + 2 fit 10, not 3.
  EXPECT_NO_THROW(plan_by_memory(costs(2, 3, 1, 0), {{kCpu, 10}}, FloatType::F16));
  std::string message;
  EXPECT_EQ(test::status_of([&] { plan_by_memory(costs(3, 3, 1, 0), {{kCpu, 10}}, FloatType::F16); }, &message),
            GPTQ_ERR_OUT_OF_MEMORY);
  EXPECT_NE(message.find("layer 2"), std::string::npos) << message;
}

TEST(PlacementByMemory, AModelThatDoesNotFitNamesWhatEachDeviceWasAsked) {
  std::string message;
  const gptq_status status = test::status_of(
      [&] { plan_by_memory(costs(4, int64_t{3} << 30, int64_t{1} << 30, int64_t{2} << 30), {{kGpu0, int64_t{10} << 30}, {kGpu1, int64_t{4} << 30}}, FloatType::F16); },
      &message);
  EXPECT_EQ(status, GPTQ_ERR_OUT_OF_MEMORY);
  EXPECT_NE(message.find("layer 3 needs 4.00 GiB"), std::string::npos) << message;
  EXPECT_NE(message.find("cuda:0: 10.00 GiB placed of 10.00 GiB"), std::string::npos) << message;
  EXPECT_NE(message.find("cuda:1: 4.00 GiB placed of 4.00 GiB"), std::string::npos) << message;
  EXPECT_NE(message.find("the whole model about 18.00 GiB"), std::string::npos) << message;
  // Not even the embeddings and head.
  EXPECT_EQ(test::status_of([&] { plan_by_memory(costs(1, 1, 0, 100), {{kGpu0, 10}}, FloatType::F16); }, &message),
            GPTQ_ERR_OUT_OF_MEMORY);
  EXPECT_NE(message.find("the embeddings and head"), std::string::npos) << message;
}

int64_t no_default(DeviceId) { return 0; }

TEST(DeviceBudgets, ReadAccelerateSpellings) {
  std::vector<DeviceBudget> b = device_budgets("cpu", "cpu=1.5GiB", no_default);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].bytes, int64_t{3} << 29);
  EXPECT_TRUE(b[0].limited);
  for (auto [text, bytes] : {std::pair<const char*, int64_t>{"cpu=512MB", 512000000}, {"cpu = 2 kib", 2048},
                             {"cpu=1000", 1000}, {"cpu=3TB", 3000000000000}}) {
    EXPECT_EQ(device_budgets("", text, no_default)[0].bytes, bytes) << text;
  }
  b = device_budgets("cpu", "", no_default);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_FALSE(b[0].limited);
}

TEST(DeviceBudgets, ClearErrors) {
  struct Case {
    const char* devices;
    const char* max_memory;
    gptq_status status;
    const char* fragment;
  };
  const Case cases[] = {
      {"cpu", "cpu", GPTQ_ERR_INVALID_ARGUMENT, "is not DEVICE=SIZE"},
      {"cpu", "cpu=lots", GPTQ_ERR_INVALID_ARGUMENT, "cannot read 'lots'"},
      {"cpu", "cpu=12parsecs", GPTQ_ERR_INVALID_ARGUMENT, "as a size"},
      {"cpu,cpu", "", GPTQ_ERR_INVALID_ARGUMENT, "twice"},
      {"tpu:0", "", GPTQ_ERR_INVALID_ARGUMENT, "unknown device"},
  };
  for (const Case& c : cases) {
    std::string message;
    EXPECT_EQ(test::status_of([&] { device_budgets(c.devices, c.max_memory, no_default); }, &message), c.status)
        << c.devices << " / " << c.max_memory;
    EXPECT_NE(message.find(c.fragment), std::string::npos) << message;
  }
  if (gpu::device_count() == 0) {
    std::string message;
    EXPECT_EQ(test::status_of([&] { device_budgets("cuda:0,cpu", "", no_default); }, &message), GPTQ_ERR_UNSUPPORTED);
    EXPECT_NE(message.find("not available"), std::string::npos) << message;
  }
}

TEST(PlacementByMemory, ModelLoadPlansOrRefusesOnTheCpu) {
  const std::string dir = test::shared_path("models/tinydoc-llama-13m");
  GPTQ_REQUIRE_PATH(dir + "/model.safetensors");
  LoadOptions options;
  options.max_memory = "cpu=4GiB";
  auto model = Model::load(dir, options);
  EXPECT_EQ(model->placement().summary(), "cpu");
  options.max_memory = "cpu=1MiB";
  std::string message;
  EXPECT_EQ(test::status_of([&] { Model::load(dir, options); }, &message), GPTQ_ERR_OUT_OF_MEMORY);
  EXPECT_NE(message.find("cpu: "), std::string::npos) << message;
  EXPECT_NE(message.find("placed of 1.00 MiB"), std::string::npos) << message;
}

}  // namespace
}  // namespace gptq
