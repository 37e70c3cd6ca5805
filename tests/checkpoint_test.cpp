// Finding a checkpoint's weights: single files, shards with an index, and
// the refusals (pickles, shard names leaving the directory, missing files).
#include <fstream>

#include "core/error.h"
#include "io/checkpoint.h"
#include "io/safetensors_writer.h"
#include "test_util.h"

namespace gptq {
namespace {

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

gptq_status open_status(const std::string& dir, std::string* message) {
  return test::status_of([&] { Checkpoint::open(dir, true, ""); }, message);
}

TEST(Checkpoint, ReadsShardsThroughTheIndex) {
  const std::string dir = test::scratch_dir("checkpoint_shards");
  const float a[2] = {1, 2}, b[3] = {3, 4, 5};
  write_safetensors(dir + "/model-00001-of-00002.safetensors", {{"a", DType::F32, {2}, a}});
  write_safetensors(dir + "/model-00002-of-00002.safetensors", {{"b", DType::F32, {3}, b}});
  write_text(dir + "/model.safetensors.index.json",
             R"({"metadata":{},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}})");
  size_t calls = 0;
  auto ckpt = Checkpoint::open(dir, true, "", [&](size_t, size_t total) {
    ++calls;
    EXPECT_EQ(total, 2u);
  });
  EXPECT_EQ(calls, 2u);
  EXPECT_EQ(ckpt->tensor_count(), 2u);
  EXPECT_EQ(tensor_to_float(ckpt->require("b")), (std::vector<float>{3, 4, 5}));
  try {
    ckpt->require("c");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), GPTQ_ERR_NOT_FOUND);
    EXPECT_NE(std::string(e.what()).find("'c'"), std::string::npos);
  }
}

TEST(Checkpoint, RefusesBadIndexes) {
  std::string message;
  const std::string dir = test::scratch_dir("checkpoint_escape");
  write_text(dir + "/model.safetensors.index.json", R"({"weight_map":{"a":"../outside.safetensors"}})");
  EXPECT_EQ(open_status(dir, &message), GPTQ_ERR_FORMAT);
  EXPECT_NE(message.find("not a file in the checkpoint directory"), std::string::npos) << message;

  write_text(dir + "/model.safetensors.index.json", R"({"weight_map":{"a":"/etc/passwd"}})");
  EXPECT_EQ(open_status(dir, &message), GPTQ_ERR_FORMAT);

  const float a[1] = {1};
  write_safetensors(dir + "/s1.safetensors", {{"a", DType::F32, {1}, a}});
  write_text(dir + "/model.safetensors.index.json", R"({"weight_map":{"a":"s1.safetensors","b":"s1.safetensors"}})");
  EXPECT_EQ(open_status(dir, &message), GPTQ_ERR_FORMAT);
  EXPECT_NE(message.find("'b'"), std::string::npos) << message;

  write_safetensors(dir + "/s2.safetensors", {{"a", DType::F32, {1}, a}});
  write_text(dir + "/model.safetensors.index.json", R"({"weight_map":{"a":"s1.safetensors","x":"s2.safetensors"}})");
  EXPECT_EQ(open_status(dir, &message), GPTQ_ERR_FORMAT);
  EXPECT_NE(message.find("stored twice"), std::string::npos) << message;

  write_text(dir + "/model.safetensors.index.json", R"({"weight_map":{"a":"missing.safetensors"}})");
  EXPECT_EQ(open_status(dir, &message), GPTQ_ERR_NOT_FOUND);

  write_text(dir + "/model.safetensors.index.json", "{not json");
  EXPECT_EQ(open_status(dir, &message), GPTQ_ERR_FORMAT);
  EXPECT_NE(message.find("model.safetensors.index.json"), std::string::npos) << message;
}

TEST(Checkpoint, RefusesPickles) {
  const std::string dir = test::scratch_dir("checkpoint_pickle");
  write_text(dir + "/pytorch_model.bin", "not really a pickle");
  std::string message;
  EXPECT_EQ(open_status(dir, &message), GPTQ_ERR_UNSUPPORTED);
  EXPECT_NE(message.find("safetensors"), std::string::npos) << message;
  EXPECT_NE(message.find("pytorch_model.bin"), std::string::npos) << message;
}

TEST(Checkpoint, MissingWeightsAndDirectory) {
  std::string message;
  EXPECT_EQ(open_status(test::scratch_dir("checkpoint_empty"), &message), GPTQ_ERR_NOT_FOUND);
  EXPECT_NE(message.find("model.safetensors"), std::string::npos);
  EXPECT_EQ(open_status("/nonexistent/model", &message), GPTQ_ERR_NOT_FOUND);
}

TEST(Checkpoint, FindsAFreelyNamedSingleFile) {
  const std::string dir = test::scratch_dir("checkpoint_named");
  const float a[1] = {7};
  write_safetensors(dir + "/gptq_model-4bit-128g.safetensors", {{"a", DType::F32, {1}, a}});
  EXPECT_EQ(tensor_to_float(Checkpoint::open(dir, true, "")->require("a"))[0], 7.0f);
  EXPECT_EQ(tensor_to_float(Checkpoint::open(dir, true, "gptq_model-4bit-128g")->require("a"))[0], 7.0f);
}

}  // namespace
}  // namespace gptq
