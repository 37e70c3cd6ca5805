// JSON files of a checkpoint (config.json, tokenizer_config.json, ...),
// with errors that name the file and the key at fault.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace gptq {

using Json = nlohmann::json;

// Parses a JSON file; GPTQ_ERR_NOT_FOUND when missing, GPTQ_ERR_FORMAT when malformed.
Json load_json_file(const std::string& path);
// The same, or nullopt when the file does not exist.
std::optional<Json> load_json_file_if_exists(const std::string& path);

// Typed lookups that treat a missing key or JSON null as absent and a value
// of the wrong type as a format error naming `where` (usually the file).
std::optional<int64_t> json_int(const Json& object, const char* key, const std::string& where);
std::optional<double> json_number(const Json& object, const char* key, const std::string& where);
std::optional<bool> json_bool(const Json& object, const char* key, const std::string& where);
std::optional<std::string> json_string(const Json& object, const char* key, const std::string& where);

}  // namespace gptq
