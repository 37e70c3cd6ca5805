#include "chat/chat_template.h"

#include "io/mapped_file.h"

namespace gptq::chat {
namespace {

constexpr const char* kTokenizerConfig = "tokenizer_config.json";
constexpr const char* kTemplateFile = "chat_template.jinja";
// transformers' SPECIAL_TOKENS_ATTRIBUTES, less the list handled apart.
constexpr const char* kSpecialTokenKeys[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                             "pad_token", "cls_token", "mask_token"};

std::optional<std::string> token_content(const Json& value, const std::string& where, const std::string& key) {
  if (value.is_null()) return std::nullopt;
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object()) {
    if (const auto content = value.find("content"); content != value.end() && content->is_string()) {
      return content->get<std::string>();
    }
  }
  fail(GPTQ_ERR_FORMAT, where, ": '", key, "' should be a string or an object with \"content\" but is ", value.dump());
}

Json tokenizer_config_of(const std::string& dir) {
  if (dir.empty()) return Json::object();
  return load_json_file_if_exists(join_path(dir, kTokenizerConfig)).value_or(Json::object());
}

std::optional<std::string> template_in_config(const Json& config, const std::string& where) {
  const auto it = config.find("chat_template");
  if (it == config.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_array()) {
    for (const Json& entry : *it) {
      if (entry.is_object() && entry.value("name", "") == "default" && entry.contains("template") &&
          entry["template"].is_string()) {
        return entry["template"].get<std::string>();
      }
    }
    fail(GPTQ_ERR_NOT_FOUND, where, ": chat_template lists named templates but none named \"default\"");
  }
  fail(GPTQ_ERR_FORMAT, where, ": chat_template should be a string or a list of {name, template} but is a ",
       it->type_name());
}

}  // namespace

jinja::Dict special_token_variables(const Json& config, const std::string& where) {
  jinja::Dict variables;
  for (const char* key : kSpecialTokenKeys) {
    if (const auto it = config.find(key); it != config.end()) {
      if (auto content = token_content(*it, where, key)) variables.emplace_back(key, std::move(*content));
    }
  }
  if (const auto it = config.find("additional_special_tokens"); it != config.end() && it->is_array()) {
    jinja::List tokens;
    for (const Json& token : *it) {
      if (auto content = token_content(token, where, "additional_special_tokens"))
        tokens.emplace_back(std::move(*content));
    }
    variables.emplace_back("additional_special_tokens", std::move(tokens));
  }
  return variables;
}

ChatTemplate::ChatTemplate(const std::string& source, jinja::Dict special_tokens)
    : template_(source), special_tokens_(std::move(special_tokens)) {}

ChatTemplate ChatTemplate::from_model_dir(const std::string& dir) {
  const std::string where = join_path(dir, kTokenizerConfig);
  const Json config = tokenizer_config_of(dir);
  jinja::Dict tokens = special_token_variables(config, where);
  const std::string template_file = join_path(dir, kTemplateFile);
  if (file_exists(template_file)) return ChatTemplate(read_text_file(template_file), std::move(tokens));
  if (auto source = template_in_config(config, where)) return ChatTemplate(*source, std::move(tokens));
  fail(GPTQ_ERR_NOT_FOUND, "the model in '", dir, "' has no chat template (no chat_template in ", kTokenizerConfig,
       ", no ", kTemplateFile, "); pass one explicitly");
}

ChatTemplate ChatTemplate::with_model_tokens(const std::string& source, const std::string& dir) {
  return ChatTemplate(source, special_token_variables(tokenizer_config_of(dir), join_path(dir, kTokenizerConfig)));
}

std::string ChatTemplate::apply(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const {
  jinja::List list;
  for (const ChatMessage& m : messages) {
    list.emplace_back(
        jinja::Dict{{"role", m.role}, {"content", m.content ? jinja::Value(*m.content) : jinja::Value(jinja::None{})}});
  }
  return apply(list, add_generation_prompt);
}

std::string ChatTemplate::apply(const jinja::List& messages, bool add_generation_prompt,
                                const jinja::Dict& extra_variables) const {
  jinja::Dict variables = special_tokens_;
  variables.emplace_back("messages", messages);
  variables.emplace_back("add_generation_prompt", add_generation_prompt);
  // transformers passes tools=None and documents=None when the caller gives none.
  variables.emplace_back("tools", jinja::None{});
  variables.emplace_back("documents", jinja::None{});
  // Later entries win, as apply_chat_template's keyword arguments do.
  variables.insert(variables.end(), extra_variables.begin(), extra_variables.end());
  return template_.render(variables);
}

}  // namespace gptq::chat
