// JSON files of a checkpoint (config.json, tokenizer_config.json, ...),
// with errors that name the file and the key at fault.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace gptq {

using Json = nlohmann::json;

// Real configs and headers nest a few levels. Deeper input is hostile:
// nlohmann's dump() and destructor recurse once per level, and so do the
// tokenizer's Sequence components.
constexpr int kMaxJsonDepth = 128;

// Parses JSON text, refusing nesting beyond kMaxJsonDepth; errors are
// GPTQ_ERR_FORMAT "<failure>: <why>". `on_event` sees every parse event as
// nlohmann's parser callback does.
Json parse_json(std::string_view text, const std::string& failure,
                const Json::parser_callback_t& on_event = nullptr);

// An integer that fits int32 (a token id), else nullopt: nlohmann's
// get<int32_t>() would wrap 2^32 + 1 to 1.
std::optional<int32_t> json_int32(const Json& value);

// A value for an error message: scalars and short values as JSON, long or
// deep ones by their type.
std::string json_excerpt(const Json& value);

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
