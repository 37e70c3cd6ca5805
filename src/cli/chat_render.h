// A conversation held by the CLI and rendered through the model's chat
// template (gptq_chat_apply_template), shared by chat-template and chat.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "gptq.h"

namespace cli {

struct Conversation {
  std::vector<std::string> roles;
  std::vector<std::optional<std::string>> contents;  // nullopt: None to the template

  void add(std::string role, std::optional<std::string> content) {
    roles.push_back(std::move(role));
    contents.push_back(std::move(content));
  }
};

// Renders `conversation` into *text; `template_override` empty: the model's template.
gptq_status render_conversation(const gptq_model* model, const std::string& template_override,
                                const Conversation& conversation, bool add_generation_prompt, std::string* text);

// --template FILE: the file's text in *text, or false with *error set.
bool read_template_file(const std::string& path, std::string* text, std::string* error);

}  // namespace cli
