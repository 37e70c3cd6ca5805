// Member access (obj.name, obj[key], slices), iteration and the methods of
// str and dict that chat templates call.
#include <algorithm>
#include <optional>

#include "chat/jinja_builtins.h"

namespace gptq::jinja {

const Value* CallArgs::get(size_t index, const char* name) const {
  if (index < positional.size()) return &positional[index];
  return named(name);
}

const Value* CallArgs::named(const char* name) const {
  for (const auto& [key, value] : keyword) {
    if (key == name) return &value;
  }
  return nullptr;
}

void CallArgs::check(const char* function, size_t max_positional, std::initializer_list<const char*> names) const {
  if (positional.size() > max_positional) {
    template_fail(position, function, "() takes at most ", max_positional, " positional arguments (", positional.size(),
                  " given)");
  }
  for (const auto& entry : keyword) {
    if (std::none_of(names.begin(), names.end(), [&](const char* n) { return entry.first == n; })) {
      template_fail(position, function, "() got an unexpected keyword argument '", entry.first, "'");
    }
  }
}

namespace {

[[noreturn]] void undefined_error(const Value& v, Position at) {
  template_fail(at, "'", v.undefined_name(), "' is undefined");
}

// Python's index rules: negative counts from the end; nullopt when outside.
std::optional<size_t> normalize_index(int64_t index, size_t size) {
  if (index < 0) index += static_cast<int64_t>(size);
  if (index < 0 || index >= static_cast<int64_t>(size)) return std::nullopt;
  return static_cast<size_t>(index);
}

int64_t slice_bound(const Value& v, const char* which, Position at) {
  if (v.is_int()) return v.as_int();
  if (v.is_bool()) return v.as_bool() ? 1 : 0;
  template_fail(at, "slice ", which, " must be an integer or none, not ", v.type_name());
}

}  // namespace

Value attribute_of(const Value& object, const std::string& name, Position at) {
  if (object.is_undefined()) undefined_error(object, at);
  if (const Value* found = object.find(name)) return *found;
  return Undefined{name};
}

Value item_of(const Value& object, const Value& key, Position at) {
  if (object.is_undefined()) undefined_error(object, at);
  if ((object.is_list() || object.is_string()) && (key.is_int() || key.is_bool())) {
    const int64_t index = key.is_int() ? key.as_int() : key.as_bool();
    if (object.is_list()) {
      const auto i = normalize_index(index, object.as_list().size());
      return i ? object.as_list()[*i] : Value(Undefined{"[" + std::to_string(index) + "]"});
    }
    const std::vector<std::string> chars = characters(object.as_string());
    const auto i = normalize_index(index, chars.size());
    return i ? Value(chars[*i]) : Value(Undefined{"[" + std::to_string(index) + "]"});
  }
  if (key.is_string()) return attribute_of(object, key.as_string(), at);
  return Undefined{key.str()};
}

Value slice_of(const Value& object, const Value& start_v, const Value& stop_v, const Value& step_v, Position at) {
  if (object.is_undefined()) undefined_error(object, at);
  List items;
  if (object.is_list()) {
    items = object.as_list();
  } else if (object.is_string()) {
    for (std::string& c : characters(object.as_string())) items.emplace_back(std::move(c));
  } else {
    template_fail(at, "a ", object.type_name(), " cannot be sliced");
  }
  const int64_t n = static_cast<int64_t>(items.size());
  charge_work(items.size(), at);
  const bool no_step = step_v.is_undefined() || step_v.is_none();
  const int64_t step = no_step ? 1 : slice_bound(step_v, "step", at);
  if (step == 0) template_fail(at, "slice step cannot be zero");
  // CPython's PySlice_AdjustIndices.
  auto bound = [&](const Value& v, int64_t if_absent) {
    if (v.is_undefined() || v.is_none()) return if_absent;
    int64_t i = slice_bound(v, "index", at);
    if (i < 0) {
      i += n;
      if (i < 0) i = step < 0 ? -1 : 0;
    } else if (i >= n) {
      i = step < 0 ? n - 1 : n;
    }
    return i;
  };
  const int64_t start = bound(start_v, step < 0 ? n - 1 : 0);
  const int64_t stop = bound(stop_v, step < 0 ? -1 : n);
  List out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(items[static_cast<size_t>(i)]);
  if (!object.is_string()) return out;
  std::string text;
  for (const Value& c : out) text += c.as_string();
  return text;
}

List iterate(const Value& value, Position at) {
  if (value.is_undefined()) return {};
  if (value.is_list()) {
    charge_work(value.as_list().size(), at);
    return value.as_list();
  }
  List out;
  if (value.is_dict()) {
    for (const auto& entry : value.as_dict()) out.emplace_back(entry.first);
    return out;
  }
  if (value.is_string()) {
    for (std::string& c : characters(value.as_string())) out.emplace_back(std::move(c));
    return out;
  }
  template_fail(at, "'", value.type_name(), "' object is not iterable");
}

int64_t length_of(const Value& value, Position at) {
  if (value.is_string()) return static_cast<int64_t>(characters(value.as_string()).size());
  if (value.is_list()) return static_cast<int64_t>(value.as_list().size());
  if (value.is_dict()) return static_cast<int64_t>(value.as_dict().size());
  if (value.is_undefined()) return 0;
  template_fail(at, "object of type '", value.type_name(), "' has no len()");
}

namespace {

const std::string& string_arg(const CallArgs& args, size_t index, const char* name, const char* method) {
  const Value* v = args.get(index, name);
  if (v == nullptr || !v->is_string()) {
    template_fail(args.position, method, "() needs a string argument '", name, "'");
  }
  return v->as_string();
}

bool affix_matches(const std::string& text, const Value& affix, bool prefix, Position at) {
  auto one = [&](const Value& a) {
    if (!a.is_string()) template_fail(at, prefix ? "startswith" : "endswith", "() needs a string, not ", a.type_name());
    const std::string& s = a.as_string();
    if (s.size() > text.size()) return false;
    return prefix ? text.compare(0, s.size(), s) == 0 : text.compare(text.size() - s.size(), s.size(), s) == 0;
  };
  if (affix.is_list()) return std::any_of(affix.as_list().begin(), affix.as_list().end(), one);
  return one(affix);
}

List split(const std::string& text, const Value* separator, int64_t max_split) {
  List parts;
  if (separator == nullptr || separator->is_none()) {
    // CPython's split_whitespace: runs of whitespace separate, none at the ends.
    const std::vector<std::string> chars = characters(text);
    auto is_space = [&](size_t i) { return strip(chars[i], nullptr, true, false).empty(); };
    auto join = [&](size_t from, size_t to) {
      std::string part;
      for (size_t k = from; k < to; ++k) part += chars[k];
      return part;
    };
    size_t i = 0;
    const size_t n = chars.size();
    for (int64_t remaining = max_split; max_split < 0 || remaining > 0; --remaining) {
      while (i < n && is_space(i)) ++i;
      if (i == n) break;
      const size_t j = i;
      while (i < n && !is_space(i)) ++i;
      parts.emplace_back(join(j, i));
    }
    while (i < n && is_space(i)) ++i;
    if (i < n) parts.emplace_back(join(i, n));
    return parts;
  }
  const std::string& sep = separator->as_string();
  size_t start = 0;
  while (max_split < 0 || static_cast<int64_t>(parts.size()) < max_split) {
    const size_t found = text.find(sep, start);
    if (found == std::string::npos) break;
    parts.emplace_back(text.substr(start, found - start));
    start = found + sep.size();
  }
  parts.emplace_back(text.substr(start));
  return parts;
}

std::string replace(const std::string& text, const std::string& old, const std::string& replacement, int64_t count,
                    Position at) {
  std::string out;
  size_t start = 0;
  int64_t done = 0;
  if (old.empty()) {
    // Python inserts the replacement around every character.
    const std::vector<std::string> chars = characters(text);
    for (size_t i = 0; i <= chars.size(); ++i) {
      if (count < 0 || done < count) {
        out += replacement;
        ++done;
      }
      if (i < chars.size()) out += chars[i];
      check_size(out.size(), at);
    }
    return out;
  }
  while (count < 0 || done < count) {
    const size_t found = text.find(old, start);
    if (found == std::string::npos) break;
    out.append(text, start, found - start);
    out += replacement;
    check_size(out.size(), at);
    start = found + old.size();
    ++done;
  }
  return out + text.substr(start);
}

int64_t int_arg(const CallArgs& args, size_t index, const char* name, int64_t fallback) {
  const Value* v = args.get(index, name);
  if (v == nullptr || v->is_none()) return fallback;
  if (!v->is_int()) template_fail(args.position, "'", name, "' must be an integer, not ", v->type_name());
  return v->as_int();
}

std::string title_case(const std::string& text) {
  std::string out;
  bool previous_cased = false;
  for (const std::string& c : characters(text)) {
    const std::string up = upper(c), low = lower(c);
    const bool cased = up != low;
    out += cased ? (previous_cased ? low : titlecase(c)) : c;
    previous_cased = cased;
  }
  return out;
}

Value string_method(const std::string& s, const std::string& name, const CallArgs& args) {
  const Position at = args.position;
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    args.check(name.c_str(), 1, {"chars"});
    return strip(s, args.get(0, "chars"), name != "rstrip", name != "lstrip");
  }
  if (name == "startswith" || name == "endswith") {
    args.check(name.c_str(), 1, {});
    const Value* affix = args.get(0, "prefix");
    if (affix == nullptr) template_fail(at, name, "() takes one argument");
    return affix_matches(s, *affix, name == "startswith", at);
  }
  if (name == "split") {
    args.check("split", 2, {"sep", "maxsplit"});
    const Value* sep = args.get(0, "sep");
    if (sep != nullptr && !sep->is_none() && !sep->is_string()) template_fail(at, "split() separator must be a string");
    if (sep != nullptr && sep->is_string() && sep->as_string().empty()) template_fail(at, "split(): empty separator");
    return split(s, sep, int_arg(args, 1, "maxsplit", -1));
  }
  if (name == "upper") return upper(s);
  if (name == "lower") return lower(s);
  if (name == "title") return title_case(s);
  if (name == "capitalize") {
    const std::vector<std::string> chars = characters(s);
    if (chars.empty()) return s;
    return titlecase(chars[0]) + lower(s.substr(chars[0].size()));
  }
  if (name == "replace") {
    args.check("replace", 3, {"count"});
    return replace(s, string_arg(args, 0, "old", "replace"), string_arg(args, 1, "new", "replace"),
                   int_arg(args, 2, "count", -1), at);
  }
  if (name == "find") {
    const size_t found = s.find(string_arg(args, 0, "sub", "find"));
    return found == std::string::npos ? int64_t{-1} : static_cast<int64_t>(characters(s.substr(0, found)).size());
  }
  if (name == "count") {
    const std::string& sub = string_arg(args, 0, "sub", "count");
    if (sub.empty()) return length_of(Value(s), at) + 1;
    int64_t n = 0;
    for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
    return n;
  }
  if (name == "join") {
    std::string out;
    bool first = true;
    for (const Value& item : iterate(*args.get(0, "iterable"), at)) {
      if (!item.is_string()) template_fail(at, "join() expects strings, found ", item.type_name());
      out += (first ? "" : s) + item.as_string();
      first = false;
      check_size(out.size(), at);
    }
    return out;
  }
  template_unsupported(at, "the str method '", name, "'");
}

Value dict_method(const Value& dict, const std::string& name, const CallArgs& args) {
  List out;
  if (name == "items") {
    for (const auto& [key, value] : dict.as_dict()) out.emplace_back(List{Value(key), value});
    return out;
  }
  if (name == "keys" || name == "values") {
    for (const auto& [key, value] : dict.as_dict()) out.push_back(name == "keys" ? Value(key) : value);
    return out;
  }
  if (name == "get") {
    args.check("get", 2, {});
    const Value* key = args.get(0, "key");
    if (key == nullptr) template_fail(args.position, "get() takes a key");
    const Value* found = key->is_string() ? dict.find(key->as_string()) : nullptr;
    if (found != nullptr) return *found;
    const Value* fallback = args.get(1, "default");
    return fallback != nullptr ? *fallback : Value(None{});
  }
  template_unsupported(args.position, "the dict method '", name, "'");
}

}  // namespace

Value call_method(const Value& object, const std::string& name, const CallArgs& args) {
  if (object.is_undefined()) undefined_error(object, args.position);
  if (object.is_string()) return string_method(object.as_string(), name, args);
  if (object.is_dict()) return dict_method(object, name, args);
  if (object.is_list() && (name == "append" || name == "pop" || name == "extend" || name == "insert")) {
    // transformers renders in Jinja2's immutable sandbox, which refuses these.
    template_fail(args.position, "list.", name, "() modifies a list, which the sandbox transformers uses refuses");
  }
  template_unsupported(args.position, "the ", object.type_name(), " method '", name, "'");
}

}  // namespace gptq::jinja
