// Tool calling through the real templates: messages with tool_calls and
// tool results, and a tools list, as apply_chat_template(messages,
// tools=...) renders them (expected strings from
// scripts/chat_template_expected.py; {TODAY} stands for strftime_now's date).
#include <ctime>

#include <gtest/gtest.h>

#include "chat/chat_template.h"
#include "chat/jinja_json.h"
#include "chat_known_templates.h"
#include "test_util.h"

namespace gptq {
namespace {

using chat::ChatTemplate;
using namespace test::chat_templates;

constexpr const char* kToolMessages = R"JSON([{"role": "user", "content": "Weather in Paris?"}, {"role": "assistant", "content": "", "tool_calls": [{"id": "abc123def", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]}, {"role": "tool", "content": "{\"temp\": 21}", "tool_call_id": "abc123def"}, {"role": "assistant", "content": "It is 21 degrees."}])JSON";
constexpr const char* kTools = R"JSON([{"type": "function", "function": {"name": "get_weather", "description": "Get the weather", "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "The city"}}, "required": ["city"]}}}])JSON";

jinja::Value from_json(const char* text) { return jinja::value_from_json(nlohmann::ordered_json::parse(text)); }

std::string with_today(std::string text) {
  char today[32];
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  std::strftime(today, sizeof today, "%d %b %Y", &local);
  for (size_t at = text.find("{TODAY}"); at != std::string::npos; at = text.find("{TODAY}")) text.replace(at, 7, today);
  return text;
}

struct ToolRender {
  const char* name;
  const char* source;  // nullptr: Qwen3's template from ../shared
  bool with_tools;
  const char* expected;
};

const ToolRender kToolRenders[] = {
    {"qwen3", nullptr, false, "<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n{\"temp\": 21}\n</tool_response><|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nIt is 21 degrees.<|im_end|>\n<|im_start|>assistant\n"},
    {"qwen3/tools", nullptr, true, "<|im_start|>system\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get the weather\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", \"description\": \"The city\"}}, \"required\": [\"city\"]}}}\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n{\"temp\": 21}\n</tool_response><|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nIt is 21 degrees.<|im_end|>\n<|im_start|>assistant\n"},
    {"mistral_v03", kMistralV03, false, "<s>[INST] Weather in Paris?[/INST][TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}, \"id\": \"abc123def\"}]</s>[TOOL_RESULTS] {\"content\": {\"temp\": 21}, \"call_id\": \"abc123def\"}[/TOOL_RESULTS] It is 21 degrees.</s>"},
    {"mistral_v03/tools", kMistralV03, true, "<s>[AVAILABLE_TOOLS] [{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get the weather\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", \"description\": \"The city\"}}, \"required\": [\"city\"]}}}][/AVAILABLE_TOOLS][INST] Weather in Paris?[/INST][TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}, \"id\": \"abc123def\"}]</s>[TOOL_RESULTS] {\"content\": {\"temp\": 21}, \"call_id\": \"abc123def\"}[/TOOL_RESULTS] It is 21 degrees.</s>"},
    {"llama32", kLlama32, false, "<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: {TODAY}\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWeather in Paris?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}<|eot_id|><|start_header_id|>ipython<|end_header_id|>\n\n\"{\\\"temp\\\": 21}\"<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nIt is 21 degrees.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
    {"llama32/tools", kLlama32, true, "<|start_header_id|>system<|end_header_id|>\n\nEnvironment: ipython\nCutting Knowledge Date: December 2023\nToday Date: {TODAY}\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nGiven the following functions, please respond with a JSON for a function call with its proper arguments that best answers the given prompt.\n\nRespond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.Do not use variables.\n\n{\n    \"type\": \"function\",\n    \"function\": {\n        \"name\": \"get_weather\",\n        \"description\": \"Get the weather\",\n        \"parameters\": {\n            \"type\": \"object\",\n            \"properties\": {\n                \"city\": {\n                    \"type\": \"string\",\n                    \"description\": \"The city\"\n                }\n            },\n            \"required\": [\n                \"city\"\n            ]\n        }\n    }\n}\n\nWeather in Paris?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}<|eot_id|><|start_header_id|>ipython<|end_header_id|>\n\n\"{\\\"temp\\\": 21}\"<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nIt is 21 degrees.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
};

TEST(ChatToolTemplates, RenderToolCallsAndToolsAsTransformersDoes) {
  const std::string qwen3 = test::shared_path("tokenizers/qwen3-hf");
  GPTQ_REQUIRE_PATH(qwen3);
  const jinja::Dict mistral_tokens = {{"bos_token", "<s>"}, {"eos_token", "</s>"}};
  for (const ToolRender& row : kToolRenders) {
    SCOPED_TRACE(row.name);
    const ChatTemplate chat_template =
        row.source != nullptr ? ChatTemplate(row.source, mistral_tokens) : ChatTemplate::from_model_dir(qwen3);
    const jinja::Dict extra = {{"tools", row.with_tools ? from_json(kTools) : jinja::Value(jinja::None{})}};
    EXPECT_EQ(chat_template.apply(from_json(kToolMessages).as_list(), true, extra), with_today(row.expected));
  }
}

// enable_thinking=False, a keyword argument of apply_chat_template, closes
// Qwen3's thinking block in the generation prompt.
TEST(ChatToolTemplates, ExtraVariablesReachTheTemplate) {
  const std::string qwen3 = test::shared_path("tokenizers/qwen3-hf");
  GPTQ_REQUIRE_PATH(qwen3);
  const jinja::List messages = {jinja::Dict{{"role", "user"}, {"content", "Hi"}}};
  EXPECT_EQ(ChatTemplate::from_model_dir(qwen3).apply(messages, true, {{"enable_thinking", false}}),
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
}

}  // namespace
}  // namespace gptq
