// A model's chat template with the variables transformers' apply_chat_template
// gives it: messages, add_generation_prompt, the special tokens of
// tokenizer_config.json (bos_token, eos_token, ...) and tools / documents
// as None.
#pragma once

#include <optional>
#include <string>

#include "chat/jinja_template.h"
#include "io/json_file.h"

namespace gptq::chat {

struct ChatMessage {
  std::string role;
  std::optional<std::string> content;  // nullopt: None in the template
};

class ChatTemplate {
 public:
  // `source` is parsed at once (a syntax error throws); `special_tokens`
  // become template variables.
  ChatTemplate(const std::string& source, jinja::Dict special_tokens);

  // The template of a model directory, as transformers picks it:
  // chat_template.jinja, else tokenizer_config.json's chat_template (a
  // string, or the "default" entry of a list of named templates).
  // GPTQ_ERR_NOT_FOUND, saying so, when the model has none.
  static ChatTemplate from_model_dir(const std::string& dir);
  // `source` with the special tokens of the model directory `dir` (none
  // when `dir` is empty or has no tokenizer_config.json).
  static ChatTemplate with_model_tokens(const std::string& source, const std::string& dir);

  std::string apply(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const;
  // The same with messages as template values (dicts of any keys, such as
  // tool_calls) and further variables (tools, enable_thinking, ...).
  std::string apply(const jinja::List& messages, bool add_generation_prompt,
                    const jinja::Dict& extra_variables = {}) const;

 private:
  jinja::Template template_;
  jinja::Dict special_tokens_;
};

// The special tokens transformers passes to templates: the *_token entries
// of tokenizer_config.json (strings or AddedToken objects, by their
// "content") and additional_special_tokens.
jinja::Dict special_token_variables(const Json& tokenizer_config, const std::string& where);

}  // namespace gptq::chat
