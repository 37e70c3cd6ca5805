// The chat templates of real models, rendered as transformers renders them.
// Llama-3's and Qwen3's come from ../shared's tokenizer_config.json (read in
// place, with its special tokens); the others are in chat_known_templates.h.
// Every expected string was computed from the same template text and
// variables with Jinja2 by scripts/chat_template_expected.py.
#include <gtest/gtest.h>

#include "chat/chat_template.h"
#include "chat_known_templates.h"
#include "core/error.h"
#include "test_util.h"

namespace gptq {
namespace {

using chat::ChatMessage;
using chat::ChatTemplate;
using namespace test::chat_templates;

const std::vector<ChatMessage> kThree = {
    {"user", "Hello!"}, {"assistant", "  Hi, how can I help?  "}, {"user", "What is 2+2?"}};
const std::vector<ChatMessage> kSystem = {
    {"system", "You are terse."}, {"user", "Hello!"}, {"assistant", "Hi."}, {"user", "Bye, café ☕"}};
// Qwen3 keeps the reasoning of the turn after the last user message only.
const std::vector<ChatMessage> kThink = {{"user", "Q1"},
                                         {"assistant", "<think>\nreasoning here\n</think>\n\nA1"},
                                         {"user", "Q2"},
                                         {"assistant", "<think>\nmore\n</think>\n\nA2"}};

// The special tokens each inline template's model defines in its tokenizer_config.json.
jinja::Dict tokens_for(const char* source) {
  if (source == kQwen2) return {{"eos_token", "<|im_end|>"}, {"pad_token", "<|endoftext|>"}};
  if (source == kGemma) {
    return {{"bos_token", "<bos>"}, {"eos_token", "<eos>"}, {"pad_token", "<pad>"}, {"unk_token", "<unk>"}};
  }
  if (source == kPhi3) return {{"bos_token", "<s>"}, {"eos_token", "<|endoftext|>"}, {"unk_token", "<unk>"}};
  return {{"bos_token", "<s>"}, {"eos_token", "</s>"}, {"unk_token", "<unk>"}};
}

struct KnownRender {
  const char* name;
  const char* source;       // an inline template, or nullptr for ...
  const char* shared_name;  // ... the tokenizer ../shared/tokenizers/<name>-hf
  const std::vector<ChatMessage>& messages;
  bool add_generation_prompt;
  const char* expected;  // nullptr: the template refuses with ...
  const char* error;     // ... this raise_exception message
};

const KnownRender kRenders[] = {
    {"mistral_v01/three", kMistralV01, "", kThree, false,
     "<s>[INST] Hello! [/INST]  Hi, how can I help?  </s> [INST] What is 2+2? [/INST]", nullptr},
    {"mistral_v01/three/gen", kMistralV01, "", kThree, true,
     "<s>[INST] Hello! [/INST]  Hi, how can I help?  </s> [INST] What is 2+2? [/INST]", nullptr},
    {"mistral_v01/system", kMistralV01, "", kSystem, false, nullptr,
     "Conversation roles must alternate user/assistant/user/assistant/..."},
    {"mistral_v01/system/gen", kMistralV01, "", kSystem, true, nullptr,
     "Conversation roles must alternate user/assistant/user/assistant/..."},
    {"mistral_v03/three", kMistralV03, "", kThree, false,
     "<s>[INST] Hello![/INST] Hi, how can I help?</s>[INST] What is 2+2?[/INST]", nullptr},
    {"mistral_v03/three/gen", kMistralV03, "", kThree, true,
     "<s>[INST] Hello![/INST] Hi, how can I help?</s>[INST] What is 2+2?[/INST]", nullptr},
    {"mistral_v03/system", kMistralV03, "", kSystem, false,
     "<s>[INST] You are terse.\n\nHello![/INST] Hi.</s>[INST] Bye, café ☕[/INST]", nullptr},
    {"mistral_v03/system/gen", kMistralV03, "", kSystem, true,
     "<s>[INST] You are terse.\n\nHello![/INST] Hi.</s>[INST] Bye, café ☕[/INST]", nullptr},
    {"qwen2/three", kQwen2, "", kThree, false,
     "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n  Hi, how can I help?  <|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n",
     nullptr},
    {"qwen2/three/gen", kQwen2, "", kThree, true,
     "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n  Hi, how can I help?  <|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
     nullptr},
    {"qwen2/system", kQwen2, "", kSystem, false,
     "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\nHi.<|im_end|>\n<|im_start|>user\nBye, café ☕<|im_end|>\n",
     nullptr},
    {"qwen2/system/gen", kQwen2, "", kSystem, true,
     "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\nHi.<|im_end|>\n<|im_start|>user\nBye, café ☕<|im_end|>\n<|im_start|>assistant\n",
     nullptr},
    {"gemma/three", kGemma, "", kThree, false,
     "<bos><start_of_turn>user\nHello!<end_of_turn>\n<start_of_turn>model\nHi, how can I help?<end_of_turn>\n<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n",
     nullptr},
    {"gemma/three/gen", kGemma, "", kThree, true,
     "<bos><start_of_turn>user\nHello!<end_of_turn>\n<start_of_turn>model\nHi, how can I help?<end_of_turn>\n<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n",
     nullptr},
    {"gemma/system", kGemma, "", kSystem, false, nullptr, "System role not supported"},
    {"gemma/system/gen", kGemma, "", kSystem, true, nullptr, "System role not supported"},
    {"phi3/three", kPhi3, "", kThree, false,
     "<s><|user|>\nHello!<|end|>\n<|assistant|>\n  Hi, how can I help?  <|end|>\n<|user|>\nWhat is 2+2?<|end|>\n<|assistant|>\n",
     nullptr},
    {"phi3/three/gen", kPhi3, "", kThree, true,
     "<s><|user|>\nHello!<|end|>\n<|assistant|>\n  Hi, how can I help?  <|end|>\n<|user|>\nWhat is 2+2?<|end|>\n<|assistant|>\n",
     nullptr},
    {"phi3/system", kPhi3, "", kSystem, false,
     "<s><|user|>\nHello!<|end|>\n<|assistant|>\nHi.<|end|>\n<|user|>\nBye, café ☕<|end|>\n<|assistant|>\n", nullptr},
    {"phi3/system/gen", kPhi3, "", kSystem, true,
     "<s><|user|>\nHello!<|end|>\n<|assistant|>\nHi.<|end|>\n<|user|>\nBye, café ☕<|end|>\n<|assistant|>\n", nullptr},
    {"llama3-hf/three", nullptr, "llama3", kThree, false,
     "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi, how can I help?<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
     nullptr},
    {"llama3-hf/three/gen", nullptr, "llama3", kThree, true,
     "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi, how can I help?<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
     nullptr},
    {"llama3-hf/system", nullptr, "llama3", kSystem, false,
     "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nBye, café ☕<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
     nullptr},
    {"llama3-hf/system/gen", nullptr, "llama3", kSystem, true,
     "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nBye, café ☕<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
     nullptr},
    {"qwen3-hf/three", nullptr, "qwen3", kThree, false,
     "<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n  Hi, how can I help?  <|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n",
     nullptr},
    {"qwen3-hf/three/gen", nullptr, "qwen3", kThree, true,
     "<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n  Hi, how can I help?  <|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
     nullptr},
    {"qwen3-hf/system", nullptr, "qwen3", kSystem, false,
     "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\nHi.<|im_end|>\n<|im_start|>user\nBye, café ☕<|im_end|>\n",
     nullptr},
    {"qwen3-hf/system/gen", nullptr, "qwen3", kSystem, true,
     "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\nHi.<|im_end|>\n<|im_start|>user\nBye, café ☕<|im_end|>\n<|im_start|>assistant\n",
     nullptr},
    {"qwen3-hf/think", nullptr, "qwen3", kThink, false,
     "<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n<|im_start|>user\nQ2<|im_end|>\n<|im_start|>assistant\n<think>\nmore\n</think>\n\nA2<|im_end|>\n",
     nullptr},
    {"qwen3-hf/think/gen", nullptr, "qwen3", kThink, true,
     "<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n<|im_start|>user\nQ2<|im_end|>\n<|im_start|>assistant\n<think>\nmore\n</think>\n\nA2<|im_end|>\n<|im_start|>assistant\n",
     nullptr},
};

TEST(ChatKnownTemplates, RenderAsTransformersDoes) {
  for (const KnownRender& row : kRenders) {
    SCOPED_TRACE(row.name);
    std::optional<ChatTemplate> chat_template;
    if (row.source != nullptr) {
      chat_template.emplace(row.source, tokens_for(row.source));
    } else {
      const std::string dir = test::shared_path(std::string("tokenizers/") + row.shared_name + "-hf");
      if (!test::path_exists(dir)) GTEST_SKIP() << "missing " << dir;
      chat_template.emplace(ChatTemplate::from_model_dir(dir));
    }
    if (row.expected != nullptr) {
      EXPECT_EQ(chat_template->apply(row.messages, row.add_generation_prompt), row.expected);
      continue;
    }
    std::string message;
    EXPECT_EQ(test::status_of([&] { chat_template->apply(row.messages, row.add_generation_prompt); }, &message),
              GPTQ_ERR_INVALID_ARGUMENT);
    EXPECT_NE(message.find(row.error), std::string::npos) << message;
  }
}

// Qwen3's template asks `enable_thinking is defined`: left undefined, the
// generation prompt stays open for thinking.
TEST(ChatKnownTemplates, Qwen3GenerationPromptLeavesThinkingOpen) {
  const std::string dir = test::shared_path("tokenizers/qwen3-hf");
  GPTQ_REQUIRE_PATH(dir);
  const std::string text = ChatTemplate::from_model_dir(dir).apply(std::vector<ChatMessage>{{"user", "Hi"}}, true);
  EXPECT_EQ(text, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

}  // namespace
}  // namespace gptq
