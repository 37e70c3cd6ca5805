// gptq_chat_apply_template: arguments, buffer sizing, a model without a
// template, an override, and a model directory that has one.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "gptq.h"
#include "test_util.h"

namespace {

std::string tinydoc() { return gptq::test::shared_path("models/tinydoc-llama-13m"); }

const gptq_chat_message kConversation[] = {
    {"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello."}, {"user", "Bye"}};
constexpr const char* kChatML =
    "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

// tinydoc, loaded once for the whole binary (it has no chat template).
const gptq_model* tinydoc_model() {
  static const std::unique_ptr<gptq_model, void (*)(gptq_model*)> model = [] {
    gptq_model* loaded = nullptr;
    if (gptq::test::path_exists(tinydoc()) && gptq_model_load(tinydoc().c_str(), nullptr, &loaded) != GPTQ_OK) {
      ADD_FAILURE() << gptq_last_error();
    }
    return std::unique_ptr<gptq_model, void (*)(gptq_model*)>(loaded, gptq_model_free);
  }();
  return model.get();
}

class ChatApi : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = tinydoc_model();
    if (model_ == nullptr) GTEST_SKIP() << "missing " << tinydoc();
  }

  // Renders into a buffer sized by a first call, as callers are told to.
  static gptq_status apply(const gptq_model* model, const char* override_template, const gptq_chat_message* messages,
                           size_t n, int32_t add_generation_prompt, std::string* out) {
    size_t length = 0;
    gptq_status status =
        gptq_chat_apply_template(model, override_template, messages, n, add_generation_prompt, nullptr, 0, &length);
    if (status != GPTQ_ERR_BUFFER_TOO_SMALL) return status;
    std::string buffer(length + 1, '\0');
    status = gptq_chat_apply_template(model, override_template, messages, n, add_generation_prompt, buffer.data(),
                                      buffer.size(), &length);
    if (status == GPTQ_OK) *out = buffer.substr(0, length);
    return status;
  }

  const gptq_model* model_ = nullptr;
};

TEST_F(ChatApi, ModelWithoutTemplateIsNotFound) {
  size_t length = 99;
  EXPECT_EQ(gptq_chat_apply_template(model_, nullptr, kConversation, 4, 1, nullptr, 0, &length), GPTQ_ERR_NOT_FOUND);
  EXPECT_EQ(length, 0u);
  EXPECT_NE(std::string(gptq_last_error()).find("has no chat template"), std::string::npos) << gptq_last_error();
}

TEST_F(ChatApi, OverrideRendersWithTheModelsSpecialTokens) {
  std::string text;
  ASSERT_EQ(apply(model_, "{{ bos_token }}{{ messages[1].content }}{{ eos_token }}", kConversation, 4, 0, &text),
            GPTQ_OK)
      << gptq_last_error();
  EXPECT_EQ(text, "<s>Hi</s>");
  ASSERT_EQ(apply(model_, kChatML, kConversation, 2, 1, &text), GPTQ_OK) << gptq_last_error();
  EXPECT_EQ(text, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_STREQ(gptq_last_error(), "");
}

TEST_F(ChatApi, BufferSizing) {
  size_t length = 0;
  char small[8];
  EXPECT_EQ(gptq_chat_apply_template(model_, "abcdefgh", kConversation, 4, 0, small, sizeof small, &length),
            GPTQ_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(length, 8u);
  char exact[9];
  EXPECT_EQ(gptq_chat_apply_template(model_, "abcdefgh", kConversation, 4, 0, exact, sizeof exact, &length), GPTQ_OK);
  EXPECT_STREQ(exact, "abcdefgh");
  EXPECT_EQ(gptq_chat_apply_template(model_, "none", nullptr, 0, 0, exact, sizeof exact, &length), GPTQ_OK);
  EXPECT_STREQ(exact, "none");
}

TEST_F(ChatApi, NullArgumentsAreInvalid) {
  size_t length = 0;
  char buffer[16];
  EXPECT_EQ(gptq_chat_apply_template(nullptr, "x", kConversation, 1, 0, buffer, sizeof buffer, &length),
            GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(gptq_chat_apply_template(model_, "x", kConversation, 1, 0, buffer, sizeof buffer, nullptr),
            GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(gptq_chat_apply_template(model_, "x", nullptr, 1, 0, buffer, sizeof buffer, &length),
            GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(gptq_chat_apply_template(model_, "x", kConversation, 1, 0, nullptr, 4, &length), GPTQ_ERR_INVALID_ARGUMENT);
  const gptq_chat_message no_role[] = {{nullptr, "x"}};
  EXPECT_EQ(gptq_chat_apply_template(model_, "x", no_role, 1, 0, buffer, sizeof buffer, &length),
            GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(gptq_last_error()).find("messages[0].role"), std::string::npos) << gptq_last_error();
  // NULL content is None to the template.
  const gptq_chat_message no_content[] = {{"assistant", nullptr}};
  EXPECT_EQ(
      gptq_chat_apply_template(model_, "{{ messages[0].content }}", no_content, 1, 0, buffer, sizeof buffer, &length),
      GPTQ_OK);
  EXPECT_STREQ(buffer, "None");
}

TEST_F(ChatApi, TemplateErrorsKeepTheirStatusAndMessage) {
  std::string text;
  EXPECT_EQ(apply(model_, "{{ raise_exception('roles must alternate') }}", kConversation, 4, 0, &text),
            GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(gptq_last_error()).find("roles must alternate"), std::string::npos) << gptq_last_error();
  EXPECT_EQ(apply(model_, "{% if x %}", kConversation, 4, 0, &text), GPTQ_ERR_FORMAT);
  EXPECT_NE(std::string(gptq_last_error()).find("1:1"), std::string::npos) << gptq_last_error();
  EXPECT_EQ(apply(model_, "{{ x | nope }}", kConversation, 4, 0, &text), GPTQ_ERR_UNSUPPORTED);
}

// A copy of tinydoc whose tokenizer_config.json carries a template: the
// model's own template is used when no override is given.
TEST_F(ChatApi, ModelTemplateFromTokenizerConfig) {
  namespace fs = std::filesystem;
  const std::string dir = gptq::test::scratch_dir("chat_api_model");
  for (const auto& entry : fs::directory_iterator(tinydoc())) {
    if (entry.path().filename() != "tokenizer_config.json")
      fs::create_symlink(entry.path(), fs::path(dir) / entry.path().filename());
  }
  nlohmann::json config = nlohmann::json::parse(std::ifstream(tinydoc() + "/tokenizer_config.json"));
  config["chat_template"] = kChatML;
  std::ofstream(dir + "/tokenizer_config.json") << config.dump();
  gptq_model* model = nullptr;
  ASSERT_EQ(gptq_model_load(dir.c_str(), nullptr, &model), GPTQ_OK) << gptq_last_error();
  std::string text;
  EXPECT_EQ(apply(model, nullptr, kConversation + 1, 1, 0, &text), GPTQ_OK) << gptq_last_error();
  EXPECT_EQ(text, "<|im_start|>user\nHi<|im_end|>\n");
  gptq_model_free(model);
}

}  // namespace
