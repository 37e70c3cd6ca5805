#include "io/json_file.h"

#include "core/error.h"
#include "io/mapped_file.h"

namespace gptq {

Json load_json_file(const std::string& path) {
  const std::string text = read_text_file(path);
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    fail(GPTQ_ERR_FORMAT, "'", path, "' is not valid JSON: ", e.what());
  }
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
  fail(GPTQ_ERR_FORMAT, where, ": '", key, "' should be ", expected, " but is ", value.dump());
}

}  // namespace

std::optional<int64_t> json_int(const Json& object, const char* key, const std::string& where) {
  const Json* v = lookup(object, key);
  if (v == nullptr) return std::nullopt;
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
