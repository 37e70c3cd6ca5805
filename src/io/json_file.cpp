#include "io/json_file.h"

#include <cstdint>

#include "core/error.h"
#include "io/mapped_file.h"

namespace gptq {

Json parse_json(std::string_view text, const std::string& failure, const Json::parser_callback_t& on_event) {
  const Json::parser_callback_t guard = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (depth >= kMaxJsonDepth) fail(GPTQ_ERR_FORMAT, failure, ": nested deeper than ", kMaxJsonDepth, " levels");
    return on_event ? on_event(depth, event, parsed) : true;
  };
  // nlohmann stops at a NUL as at the end of input and would ignore what follows; JSON text never holds one.
  if (const size_t nul = text.find('\0'); nul != text.npos) fail(GPTQ_ERR_FORMAT, failure, ": a NUL byte at offset ", nul);
  try {
    return Json::parse(text.begin(), text.end(), guard);
  } catch (const Json::exception& e) {
    fail(GPTQ_ERR_FORMAT, failure, ": ", e.what());
  }
}

std::string json_excerpt(const Json& value) {
  constexpr size_t kMaxExcerpt = 80;
  if (value.is_structured() && value.size() > 8) return std::string("a ") + value.type_name();
  const std::string text = value.dump();
  return text.size() <= kMaxExcerpt ? text : std::string("a ") + value.type_name();
}

std::optional<int32_t> json_int32(const Json& value) {
  if (!value.is_number_integer()) return std::nullopt;
  if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(INT32_MAX)) return std::nullopt;
  const int64_t v = value.get<int64_t>();
  if (v < INT32_MIN || v > INT32_MAX) return std::nullopt;
  return static_cast<int32_t>(v);
}

Json load_json_file(const std::string& path) {
  return parse_json(read_text_file(path), "'" + path + "' is not valid JSON");
}

std::optional<Json> load_json_file_if_exists(const std::string& path) {
  if (!file_exists(path)) return std::nullopt;
  return load_json_file(path);
}

namespace {

const Json* lookup(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

[[noreturn]] void wrong_type(const char* key, const std::string& where, const char* expected, const Json& value) {
  fail(GPTQ_ERR_FORMAT, where, ": '", key, "' should be ", expected, " but is ", json_excerpt(value));
}

}  // namespace

std::optional<int64_t> json_int(const Json& object, const char* key, const std::string& where) {
  const Json* v = lookup(object, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    fail(GPTQ_ERR_FORMAT, where, ": '", key, "' is ", v->dump(), ", beyond any size or id");
  }
  if (v->is_number_integer()) return v->get<int64_t>();
  if (v->is_number_float()) {
    const double d = v->get<double>();
    if (d == static_cast<double>(static_cast<int64_t>(d))) return static_cast<int64_t>(d);
  }
  wrong_type(key, where, "an integer", *v);
}

std::optional<double> json_number(const Json& object, const char* key, const std::string& where) {
  const Json* v = lookup(object, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_number()) return v->get<double>();
  wrong_type(key, where, "a number", *v);
}

std::optional<bool> json_bool(const Json& object, const char* key, const std::string& where) {
  const Json* v = lookup(object, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_boolean()) return v->get<bool>();
  wrong_type(key, where, "true or false", *v);
}

std::optional<std::string> json_string(const Json& object, const char* key, const std::string& where) {
  const Json* v = lookup(object, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) return v->get<std::string>();
  wrong_type(key, where, "a string", *v);
}

}  // namespace gptq
