#include "chat_render.h"

#include <fstream>
#include <sstream>

namespace cli {

gptq_status render_conversation(const gptq_model* model, const std::string& template_override,
                                const Conversation& conversation, bool add_generation_prompt, std::string* text) {
  std::vector<gptq_chat_message> messages;
  for (size_t i = 0; i < conversation.roles.size(); ++i) {
    const auto& content = conversation.contents[i];
    messages.push_back({conversation.roles[i].c_str(), content ? content->c_str() : nullptr});
  }
  const char* override_text = template_override.empty() ? nullptr : template_override.c_str();
  size_t length = 0;
  gptq_status status = gptq_chat_apply_template(model, override_text, messages.data(), messages.size(),
                                                add_generation_prompt ? 1 : 0, nullptr, 0, &length);
  if (status != GPTQ_ERR_BUFFER_TOO_SMALL) return status;
  std::string buffer(length + 1, '\0');
  status = gptq_chat_apply_template(model, override_text, messages.data(), messages.size(),
                                    add_generation_prompt ? 1 : 0, buffer.data(), buffer.size(), &length);
  if (status == GPTQ_OK) *text = buffer.substr(0, length);
  return status;
}

bool read_template_file(const std::string& path, std::string* text, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read the template file '" + path + "'";
    return false;
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  *text = contents.str();
  return true;
}

}  // namespace cli
