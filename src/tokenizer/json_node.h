// A value inside tokenizer.json together with where it sits, so that every
// complaint names the file and the key path ("tokenizer.json:
// pre_tokenizer.pretokenizers[0].pattern ...").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/json_file.h"

namespace gptq {

class JsonNode {
 public:
  JsonNode(const Json& json, std::string file, std::string path)
      : json_(&json), file_(std::move(file)), path_(std::move(path)) {}

  const Json& json() const { return *json_; }
  const std::string& file() const { return file_; }
  std::string where() const { return file_ + ": " + (path_.empty() ? "top level" : path_); }

  // Present and not null.
  bool has(const char* key) const;
  JsonNode child(const char* key) const;  // GPTQ_ERR_FORMAT when absent
  std::optional<JsonNode> optional_child(const char* key) const;
  std::vector<JsonNode> elements() const;  // of an array, else GPTQ_ERR_FORMAT

  std::string string(const char* key) const;
  std::optional<std::string> optional_string(const char* key) const;
  bool boolean(const char* key, bool default_value) const;
  int64_t integer(const char* key) const;
  std::optional<int64_t> optional_integer(const char* key) const;
  // The component's "type" tag.
  std::string type() const { return string("type"); }

  template <typename... Parts>
  [[noreturn]] void fail_format(const Parts&... parts) const {
    fail(GPTQ_ERR_FORMAT, where(), ": ", parts...);
  }
  // A component type this library does not implement.
  [[noreturn]] void fail_unsupported(const char* component) const {
    const std::string type = json_->is_object() ? json_->value("type", std::string("?")) : json_excerpt(*json_);
    fail(GPTQ_ERR_UNSUPPORTED, where(), ": ", component, " type '", type, "' is not supported");
  }

 private:
  std::string key_path(const char* key) const { return path_.empty() ? key : path_ + "." + key; }

  const Json* json_;
  std::string file_;
  std::string path_;
};

}  // namespace gptq
