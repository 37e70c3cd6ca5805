// Loading checkpoints: shards give the same model, broken checkpoints give
// clear errors naming the tensor.
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "io/safetensors_writer.h"
#include "model/model.h"
#include "runtime/context.h"
#include "test_util.h"

namespace gptq {
namespace {

namespace fs = std::filesystem;

// Rewrites the llama fixture's tensors into `dir` after `edit` changes the list.
void rewrite_fixture(const std::string& dir, const std::function<void(std::vector<TensorToWrite>&)>& edit,
                     std::unique_ptr<SafetensorsFile>* keep_alive) {
  const std::string src = test::shared_path("fixtures/archs/llama");
  fs::copy_file(src + "/config.json", dir + "/config.json", fs::copy_options::overwrite_existing);
  *keep_alive = SafetensorsFile::open(src + "/model.safetensors", true);
  std::vector<TensorToWrite> tensors;
  for (const TensorView& t : (*keep_alive)->tensors()) tensors.push_back({t.name, t.dtype, t.shape, t.data});
  edit(tensors);
  write_safetensors(dir + "/model.safetensors", tensors);
}

gptq_status load_status(const std::string& dir, std::string* message) {
  return test::status_of([&] { Model::load(dir, {}); }, message);
}

TEST(ModelLoad, ShardedCheckpointGivesTheSameLogits) {
  const std::string src = test::shared_path("fixtures/archs/llama");
  GPTQ_REQUIRE_PATH(src);
  const std::string dir = test::scratch_dir("model_sharded");
  fs::copy_file(src + "/config.json", dir + "/config.json");
  auto whole = SafetensorsFile::open(src + "/model.safetensors", true);
  std::vector<TensorToWrite> first, second;
  std::string index = R"({"metadata":{},"weight_map":{)";
  for (const TensorView& t : whole->tensors()) {
    const bool in_first = t.name.find("layers.1.") == std::string::npos;
    (in_first ? first : second).push_back({t.name, t.dtype, t.shape, t.data});
    index += "\"" + t.name + "\":\"" + (in_first ? "model-00001-of-00002" : "model-00002-of-00002") + ".safetensors\",";
  }
  index.back() = '}';
  index += "}";
  write_safetensors(dir + "/model-00001-of-00002.safetensors", first);
  write_safetensors(dir + "/model-00002-of-00002.safetensors", second);
  std::ofstream(dir + "/model.safetensors.index.json") << index;

  auto a = Model::load(src, {});
  auto b = Model::load(dir, {});
  const std::vector<int32_t> tokens = {1, 5, 9, 200, 31};
  std::vector<float> la(a->config().vocab_size), lb(b->config().vocab_size);
  Context ca(*a, resolve_context_options(*a, {}));
  Context cb(*b, resolve_context_options(*b, {}));
  ca.eval(0, tokens, LogitsMode::Last, la.data());
  cb.eval(0, tokens, LogitsMode::Last, lb.data());
  EXPECT_EQ(la, lb);
}

TEST(ModelLoad, ClearErrorsForBrokenCheckpoints) {
  GPTQ_REQUIRE_PATH(test::shared_path("fixtures/archs/llama"));
  std::string message;
  std::unique_ptr<SafetensorsFile> source;

  const std::string missing = test::scratch_dir("model_missing_tensor");
  rewrite_fixture(missing, [](auto& t) {
    std::erase_if(t, [](const TensorToWrite& w) { return w.name == "model.layers.1.mlp.down_proj.weight"; });
  }, &source);
  EXPECT_EQ(load_status(missing, &message), GPTQ_ERR_NOT_FOUND);
  EXPECT_NE(message.find("model.layers.1.mlp.down_proj.weight"), std::string::npos) << message;

  const std::string shape = test::scratch_dir("model_bad_shape");
  rewrite_fixture(shape, [](auto& t) {
    for (auto& w : t) {
      if (w.name == "model.layers.0.self_attn.k_proj.weight") w.shape = {32, 128 * 2};  // same bytes, wrong shape
    }
  }, &source);
  EXPECT_EQ(load_status(shape, &message), GPTQ_ERR_FORMAT);
  EXPECT_NE(message.find("k_proj.weight"), std::string::npos) << message;
  EXPECT_NE(message.find("[64, 128]"), std::string::npos) << message;

  const std::string dtype = test::scratch_dir("model_bad_dtype");
  rewrite_fixture(dtype, [](auto& t) {
    for (auto& w : t) {
      if (w.name == "model.norm.weight") w.dtype = DType::I16;
    }
  }, &source);
  EXPECT_EQ(load_status(dtype, &message), GPTQ_ERR_FORMAT);
  EXPECT_NE(message.find("model.norm.weight"), std::string::npos) << message;

  const std::string no_config = test::scratch_dir("model_no_config");
  EXPECT_EQ(load_status(no_config, &message), GPTQ_ERR_NOT_FOUND);
  EXPECT_NE(message.find("config.json"), std::string::npos) << message;

  const std::string bad_json = test::scratch_dir("model_bad_json");
  std::ofstream(bad_json + "/config.json") << "{\"model_type\": \"llama\",";
  EXPECT_EQ(load_status(bad_json, &message), GPTQ_ERR_FORMAT);

  EXPECT_EQ(load_status("/nonexistent/model/dir", &message), GPTQ_ERR_NOT_FOUND);
}

TEST(ModelLoad, ReadsWithoutMmapToo) {
  const std::string src = test::shared_path("fixtures/archs/llama_tied_bf16");
  GPTQ_REQUIRE_PATH(src);
  LoadOptions options;
  options.use_mmap = false;
  auto model = Model::load(src, options);
  EXPECT_EQ(model->weight_type(), FloatType::BF16);
  EXPECT_EQ(model->lm_head().dense_weights().data, model->embed_tokens().data);  // tied
}

TEST(ModelLoad, ProgressCanCancel) {
  const std::string src = test::shared_path("fixtures/archs/llama");
  GPTQ_REQUIRE_PATH(src);
  LoadOptions options;
  int calls = 0;
  options.progress = [&](float, const char*) { return ++calls < 3; };
  try {
    Model::load(src, options);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), GPTQ_ERR_CANCELLED);
  }
}

}  // namespace
}  // namespace gptq
