// ChatTemplate: where a model directory's template and special tokens come
// from, and the variables a template sees.
#include "chat/chat_template.h"

#include <gtest/gtest.h>

#include <fstream>

#include "test_util.h"

namespace gptq {
namespace {

using chat::ChatTemplate;

void write_file(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::string model_dir(const std::string& name, const Json& tokenizer_config) {
  const std::string dir = test::scratch_dir(name);
  write_file(dir + "/tokenizer_config.json", tokenizer_config.dump());
  return dir;
}

const std::vector<chat::ChatMessage> kHello = {{"user", "Hello"}};

TEST(ChatTemplateModelDir, SpecialTokensAsStringsOrAddedTokens) {
  const Json config = {{"chat_template",
                        "{{ bos_token }}|{{ eos_token }}|{{ unk_token }}|{{ pad_token is defined }}|"
                        "{{ additional_special_tokens | join(',') }}|{{ tools }}|{{ documents is none }}"},
                       {"bos_token", {{"__type", "AddedToken"}, {"content", "<s>"}, {"lstrip", false}}},
                       {"eos_token", "</s>"},
                       {"unk_token", {{"content", "<unk>"}}},
                       {"pad_token", nullptr},
                       {"additional_special_tokens", {"<a>", {{"content", "<b>"}}}}};
  const std::string dir = model_dir("chat_tokens", config);
  EXPECT_EQ(ChatTemplate::from_model_dir(dir).apply(kHello, false), "<s>|</s>|<unk>|False|<a>,<b>|None|True");
}

TEST(ChatTemplateModelDir, VariablesOfApplyChatTemplate) {
  const std::string dir = model_dir(
      "chat_variables", {{"chat_template",
                          "{% for m in messages %}{{ m.role }}:{{ m.content }};{% endfor %}{{ add_generation_prompt }}"
                          "{{ messages[1].content is none }}"}});
  EXPECT_EQ(ChatTemplate::from_model_dir(dir).apply({{"user", "a"}, {"assistant", std::nullopt}}, true),
            "user:a;assistant:None;TrueTrue");
}

TEST(ChatTemplateModelDir, NamedTemplatesUseDefault) {
  const Json config = {{"chat_template",
                        {{{"name", "tool_use"}, {"template", "tools"}},
                         {{"name", "default"}, {"template", "default {{ messages | length }}"}}}}};
  EXPECT_EQ(ChatTemplate::from_model_dir(model_dir("chat_named", config)).apply(kHello, false), "default 1");
  const Json no_default = {{"chat_template", {{{"name", "tool_use"}, {"template", "tools"}}}}};
  std::string message;
  EXPECT_EQ(test::status_of([&] { ChatTemplate::from_model_dir(model_dir("chat_no_default", no_default)); }, &message),
            GPTQ_ERR_NOT_FOUND);
  EXPECT_NE(message.find("\"default\""), std::string::npos) << message;
}

TEST(ChatTemplateModelDir, TemplateFileWinsOverConfig) {
  const std::string dir = model_dir("chat_jinja_file", {{"chat_template", "from config"}, {"eos_token", "</s>"}});
  write_file(dir + "/chat_template.jinja", "from file {{ eos_token }}\n");
  EXPECT_EQ(ChatTemplate::from_model_dir(dir).apply(kHello, false), "from file </s>");
}

TEST(ChatTemplateModelDir, NoTemplateIsNotFound) {
  const std::string dir = model_dir("chat_none", {{"eos_token", "</s>"}});
  std::string message;
  EXPECT_EQ(test::status_of([&] { ChatTemplate::from_model_dir(dir); }, &message), GPTQ_ERR_NOT_FOUND);
  EXPECT_NE(message.find("has no chat template"), std::string::npos) << message;
  // An explicit template still gets the directory's special tokens.
  EXPECT_EQ(ChatTemplate::with_model_tokens("{{ eos_token }}", dir).apply(kHello, false), "</s>");
}

TEST(ChatTemplateModelDir, MalformedSpecialTokenNamesTheKey) {
  const std::string dir = model_dir("chat_bad_token", {{"chat_template", "x"}, {"eos_token", 3}});
  std::string message;
  EXPECT_EQ(test::status_of([&] { ChatTemplate::from_model_dir(dir); }, &message), GPTQ_ERR_FORMAT);
  EXPECT_NE(message.find("'eos_token'"), std::string::npos) << message;
}

}  // namespace
}  // namespace gptq
