#include "tokenizer/json_node.h"

namespace gptq {

bool JsonNode::has(const char* key) const {
  if (!json_->is_object()) return false;
  const auto it = json_->find(key);
  return it != json_->end() && !it->is_null();
}

JsonNode JsonNode::child(const char* key) const {
  if (!json_->is_object()) fail_format("should be an object but is ", json_excerpt(*json_));
  if (!has(key)) fail_format("'", key, "' is missing");
  return JsonNode(json_->at(key), file_, key_path(key));
}

std::optional<JsonNode> JsonNode::optional_child(const char* key) const {
  if (!has(key)) return std::nullopt;
  return child(key);
}

std::vector<JsonNode> JsonNode::elements() const {
  if (!json_->is_array()) fail_format("should be a list but is ", json_excerpt(*json_));
  std::vector<JsonNode> result;
  result.reserve(json_->size());
  for (size_t i = 0; i < json_->size(); ++i) {
    result.emplace_back((*json_)[i], file_, path_ + "[" + std::to_string(i) + "]");
  }
  return result;
}

std::string JsonNode::string(const char* key) const {
  if (auto value = optional_string(key)) return *value;
  fail_format("'", key, "' is missing");
}

std::optional<std::string> JsonNode::optional_string(const char* key) const {
  return json_string(*json_, key, where());
}

bool JsonNode::boolean(const char* key, bool default_value) const {
  return json_bool(*json_, key, where()).value_or(default_value);
}

int64_t JsonNode::integer(const char* key) const {
  if (auto value = optional_integer(key)) return *value;
  fail_format("'", key, "' is missing");
}

std::optional<int64_t> JsonNode::optional_integer(const char* key) const { return json_int(*json_, key, where()); }

}  // namespace gptq
