// gptq chat-template: the prompt a model's chat template makes of a
// conversation, as transformers' apply_chat_template(tokenize=False) does.
#include <cstdio>
#include <fstream>

#include "chat_render.h"
#include "commands.h"
#include "common.h"

namespace cli {
namespace {

// [{"role": ..., "content": ...}, ...]; content may be null.
bool read_messages(const std::string& path, Conversation* conversation, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read the messages file '" + path + "'";
    return false;
  }
  const nlohmann::json messages = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!messages.is_array()) {
    *error = "'" + path + "' must hold a JSON list of {\"role\": ..., \"content\": ...} objects";
    return false;
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    const nlohmann::json& m = messages[i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string() ||
        (m.contains("content") && !m["content"].is_string() && !m["content"].is_null())) {
      *error = "'" + path + "' message " + std::to_string(i) + " needs a string \"role\" and a string \"content\"";
      return false;
    }
    const nlohmann::json content = m.value("content", nlohmann::json());
    conversation->add(m["role"].get<std::string>(),
                      content.is_string() ? std::optional<std::string>(content.get<std::string>()) : std::nullopt);
  }
  return true;
}

}  // namespace

int run_chat_template(int argc, char** argv) {
  Args args("chat-template", "--model DIR --messages FILE.json [--template FILE] [--no-generation-prompt]",
            {{"model", "DIR", "model directory"},
             {"messages", "FILE", "a JSON list of {\"role\", \"content\"} messages"},
             {"template", "FILE", "render this Jinja template instead of the model's"},
             {"no-generation-prompt", "", "do not open the assistant's reply at the end"}});
  if (int code = parse_command_line(args, argc, argv, {"model", "messages"}); code != kContinue) return code;
  std::string error;
  Conversation conversation;
  std::string template_override;
  if (!read_messages(args.get("messages"), &conversation, &error) ||
      (args.has("template") && !read_template_file(args.get("template"), &template_override, &error))) {
    return report_usage(args, error);
  }

  gptq_model* raw = nullptr;
  if (int code = load_model(args.get("model"), &raw); code != kExitOk) return code;
  ModelPtr model(raw);
  std::string text;
  const gptq_status status =
      render_conversation(model.get(), template_override, conversation, !args.has("no-generation-prompt"), &text);
  if (status != GPTQ_OK) return report_failure(status);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return kExitOk;
}

}  // namespace cli
