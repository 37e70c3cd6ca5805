// Chat templates: a conversation rendered into prompt text, into a caller buffer.
#include <cstring>

#include "api/guard.h"
#include "api/handles.h"
#include "chat/chat_template.h"

using namespace gptq;
using namespace gptq::api;

extern "C" {

gptq_status gptq_chat_apply_template(const gptq_model* model, const char* template_override,
                                     const gptq_chat_message* messages, size_t n_messages,
                                     int32_t add_generation_prompt, char* text, size_t capacity, size_t* text_len) {
  return guarded([&] {
    const Model& m = model_of(model);
    require_arg(text_len, "text_len");
    *text_len = 0;
    if (n_messages > 0) require_arg(messages, "messages");
    if (capacity > 0) require_arg(text, "text");
    std::vector<chat::ChatMessage> conversation;
    conversation.reserve(n_messages);
    for (size_t i = 0; i < n_messages; ++i) {
      if (messages[i].role == nullptr) fail(GPTQ_ERR_INVALID_ARGUMENT, "messages[", i, "].role is NULL");
      conversation.push_back({messages[i].role, messages[i].content != nullptr
                                                    ? std::optional<std::string>(messages[i].content)
                                                    : std::nullopt});
    }
    // Read at each call rather than kept in the model: the template is a
    // small file, and the model stays immutable for the threads sharing it.
    const chat::ChatTemplate chat_template = template_override != nullptr
                                                 ? chat::ChatTemplate::with_model_tokens(template_override, m.dir())
                                                 : chat::ChatTemplate::from_model_dir(m.dir());
    const std::string rendered = chat_template.apply(conversation, add_generation_prompt != 0);
    *text_len = rendered.size();
    if (rendered.size() >= capacity) {
      fail(GPTQ_ERR_BUFFER_TOO_SMALL, "the prompt needs ", rendered.size() + 1,
           " bytes with its NUL; the buffer holds ", capacity);
    }
    std::memcpy(text, rendered.data(), rendered.size());
    text[rendered.size()] = '\0';
  });
}

}  // extern "C"
