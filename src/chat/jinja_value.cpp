#include "chat/jinja_value.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace gptq::jinja {

double Value::as_double() const {
  if (is_int()) return static_cast<double>(as_int());
  if (is_bool()) return as_bool() ? 1.0 : 0.0;
  return std::get<double>(data_);
}

const char* Value::type_name() const {
  static constexpr const char* kNames[] = {"undefined", "NoneType", "bool", "int",      "float",
                                           "str",       "list",     "dict", "Namespace"};
  return kNames[data_.index()];
}

bool Value::truthy() const {
  if (is_undefined() || is_none()) return false;
  if (is_bool()) return as_bool();
  if (is_int()) return as_int() != 0;
  if (is_float()) return as_double() != 0.0;
  if (is_string()) return !as_string().empty();
  if (is_list()) return !as_list().empty();
  if (is_dict()) return !as_dict().empty();
  return true;
}

std::string format_float(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[64];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific).ptr;
  const std::string scientific(buffer, end);  // "-1.2345e+02"
  const size_t e = scientific.find('e');
  const bool negative = scientific[0] == '-';
  std::string digits;
  for (size_t i = negative ? 1 : 0; i < e; ++i) {
    if (scientific[i] != '.') digits += scientific[i];
  }
  const int exponent = std::stoi(scientific.substr(e + 1));
  std::string out = negative ? "-" : "";
  // repr switches to exponent notation below 1e-4 and from 1e16, as '%r' does.
  if (exponent < -4 || exponent >= 16) {
    out += digits[0];
    if (digits.size() > 1) {
      out += '.';
      out.append(digits, 1, std::string::npos);
    }
    char exp_text[16];
    std::snprintf(exp_text, sizeof exp_text, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    return out + exp_text;
  }
  if (exponent < 0) return out + "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
  const size_t integer_digits = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= integer_digits) return out + digits + std::string(integer_digits - digits.size(), '0') + ".0";
  return out + digits.substr(0, integer_digits) + "." + digits.substr(integer_digits);
}

namespace {

std::string repr_string(const std::string& s) {
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == quote || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    } else {
      out += c;
    }
  }
  return out + quote;
}

}  // namespace

std::string Value::repr() const {
  if (is_string()) return repr_string(as_string());
  if (is_list()) {
    std::string out = "[";
    for (size_t i = 0; i < as_list().size(); ++i) out += (i > 0 ? ", " : "") + as_list()[i].repr();
    return out + "]";
  }
  if (is_dict()) {
    std::string out = "{";
    bool first = true;
    for (const auto& [key, value] : as_dict()) {
      out += (first ? "" : ", ") + repr_string(key) + ": " + value.repr();
      first = false;
    }
    return out + "}";
  }
  if (is_namespace()) return "<Namespace " + Value(namespace_attributes()).repr() + ">";
  if (is_callable()) return "<function " + callable_name() + ">";
  return str();
}

std::string Value::str() const {
  if (is_undefined()) return "";
  if (is_none()) return "None";
  if (is_bool()) return as_bool() ? "True" : "False";
  if (is_int()) return std::to_string(as_int());
  if (is_float()) return format_float(as_double());
  if (is_string()) return as_string();
  return repr();
}

const Value* Value::find(const std::string& key) const {
  const Dict* dict = is_dict() ? &as_dict() : is_namespace() ? &namespace_attributes() : nullptr;
  if (dict == nullptr) return nullptr;
  for (const auto& entry : *dict) {
    if (entry.first == key) return &entry.second;
  }
  return nullptr;
}

bool equal(const Value& a, const Value& b) {
  const bool a_numeric = a.is_number() || a.is_bool();
  const bool b_numeric = b.is_number() || b.is_bool();
  if (a_numeric && b_numeric) {
    if ((a.is_int() || a.is_bool()) && (b.is_int() || b.is_bool())) {
      return (a.is_int() ? a.as_int() : int64_t{a.as_bool()}) == (b.is_int() ? b.as_int() : int64_t{b.as_bool()});
    }
    return a.as_double() == b.as_double();
  }
  if (a.is_string() && b.is_string()) return a.as_string() == b.as_string();
  if (a.is_none() && b.is_none()) return true;
  if (a.is_undefined() && b.is_undefined()) return true;
  if (a.is_list() && b.is_list()) {
    const List &x = a.as_list(), &y = b.as_list();
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (!equal(x[i], y[i])) return false;
    }
    return true;
  }
  if (a.is_dict() && b.is_dict()) {
    if (a.as_dict().size() != b.as_dict().size()) return false;
    for (const auto& [key, value] : a.as_dict()) {
      const Value* other = b.find(key);
      if (other == nullptr || !equal(value, *other)) return false;
    }
    return true;
  }
  return false;
}

}  // namespace gptq::jinja
