// tojson as transformers defines it: json.dumps with ensure_ascii=False, so
// text stays UTF-8 and only quotes, backslashes and control characters are
// escaped (not Jinja2's HTML-safe \u003c forms).
#include "chat/jinja_json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "chat/jinja_builtins.h"

namespace gptq::jinja {

Value value_from_json(const nlohmann::ordered_json& json) {
  switch (json.type()) {
    case nlohmann::ordered_json::value_t::null: return None{};
    case nlohmann::ordered_json::value_t::boolean: return json.get<bool>();
    case nlohmann::ordered_json::value_t::number_integer: return json.get<int64_t>();
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const uint64_t u = json.get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(u);
      return static_cast<double>(u);
    }
    case nlohmann::ordered_json::value_t::number_float: return json.get<double>();
    case nlohmann::ordered_json::value_t::string: return json.get<std::string>();
    case nlohmann::ordered_json::value_t::array: {
      List list;
      for (const auto& item : json) list.push_back(value_from_json(item));
      return list;
    }
    case nlohmann::ordered_json::value_t::object: {
      Dict dict;
      for (const auto& [key, item] : json.items()) dict.emplace_back(key, value_from_json(item));
      return dict;
    }
    default: return Undefined{"binary JSON"};
  }
}

namespace {

void append_json_string(std::string& out, const std::string& s) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escape[8];
          std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned char>(c));
          out += escape;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

struct JsonWriter {
  int indent;  // < 0: one line
  bool sort_keys;
  std::string item_separator;
  std::string key_separator;
  Position at;
  std::string out;

  void newline(int level) {
    if (indent < 0) return;
    out += '\n';
    out.append(static_cast<size_t>(indent) * static_cast<size_t>(level), ' ');
  }

  void write(const Value& v, int level) {
    if (level > kMaxNesting) template_fail(at, "tojson: nesting deeper than ", kMaxNesting, " levels");
    check_size(out.size(), at);
    if (v.is_none()) {
      out += "null";
    } else if (v.is_bool()) {
      out += v.as_bool() ? "true" : "false";
    } else if (v.is_int()) {
      out += std::to_string(v.as_int());
    } else if (v.is_float()) {
      const double d = v.as_double();
      out += std::isnan(d) ? "NaN" : std::isinf(d) ? (d > 0 ? "Infinity" : "-Infinity") : format_float(d);
    } else if (v.is_string()) {
      append_json_string(out, v.as_string());
    } else if (v.is_list()) {
      write_container('[', ']', v.as_list().size(), level, [&](size_t i) { write(v.as_list()[i], level + 1); });
    } else if (v.is_dict()) {
      std::vector<const std::pair<std::string, Value>*> entries;
      for (const auto& entry : v.as_dict()) entries.push_back(&entry);
      if (sort_keys)
        std::stable_sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->first < b->first; });
      write_container('{', '}', entries.size(), level, [&](size_t i) {
        append_json_string(out, entries[i]->first);
        out += key_separator;
        write(entries[i]->second, level + 1);
      });
    } else {
      template_fail(at, "tojson: Object of type ", v.type_name(), " is not JSON serializable");
    }
  }

  template <typename WriteItem>
  void write_container(char open, char close, size_t n, int level, WriteItem write_item) {
    out += open;
    if (n == 0) {
      out += close;
      return;
    }
    for (size_t i = 0; i < n; ++i) {
      if (i > 0) out += item_separator;
      newline(level + 1);
      write_item(i);
    }
    newline(level);
    out += close;
  }
};

}  // namespace

std::string to_json(const Value& value, int indent, bool sort_keys, const std::string* item_separator,
                    const std::string* key_separator, Position at) {
  // json.dumps drops the space after ',' when indenting, as lines end there.
  JsonWriter writer{indent,
                    sort_keys,
                    item_separator != nullptr ? *item_separator : (indent < 0 ? ", " : ","),
                    key_separator != nullptr ? *key_separator : ": ",
                    at,
                    {}};
  writer.write(value, 0);
  return std::move(writer.out);
}

}  // namespace gptq::jinja
