// Jinja2's filters as chat templates use them, with transformers' tojson.
#include <algorithm>
#include <cmath>

#include "chat/jinja_builtins.h"

namespace gptq::jinja {
namespace {

// "a.b" looks up b in a, as Jinja2's make_attrgetter does.
Value dotted_attribute(const Value& object, const std::string& path, Position at) {
  Value current = object;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    const bool numeric =
        !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    current =
        numeric ? item_of(current, Value(static_cast<int64_t>(std::stoll(part))), at) : attribute_of(current, part, at);
    if (dot == std::string::npos) return current;
    start = dot + 1;
  }
}

bool flag(const Value* v) { return v != nullptr && v->truthy(); }

// selectattr / rejectattr (attribute first) and select / reject.
Value select(const Value& sequence, const CallArgs& args, bool by_attribute, bool keep_matching) {
  size_t next = 0;
  std::string attribute;
  if (by_attribute) {
    const Value* a = args.get(next++, "attribute");
    if (a == nullptr || !a->is_string()) template_fail(args.position, "selectattr/rejectattr need an attribute name");
    attribute = a->as_string();
  }
  const Value* test = args.get(next++, "test");
  CallArgs test_args{args.position, {}, {}};
  for (size_t i = next; i < args.positional.size(); ++i) test_args.positional.push_back(args.positional[i]);
  List out;
  for (const Value& item : iterate(sequence, args.position)) {
    const Value subject = by_attribute ? dotted_attribute(item, attribute, args.position) : item;
    const bool matches = test == nullptr ? subject.truthy() : apply_test(test->str(), subject, test_args);
    if (matches == keep_matching) out.push_back(item);
  }
  return out;
}

Value map_filter(const Value& sequence, const CallArgs& args) {
  List out;
  if (const Value* attribute = args.named("attribute")) {
    const Value* fallback = args.named("default");
    for (const Value& item : iterate(sequence, args.position)) {
      Value v = dotted_attribute(item, attribute->str(), args.position);
      out.push_back(v.is_undefined() && fallback != nullptr ? *fallback : v);
    }
    return out;
  }
  const Value* filter = args.get(0, "filter");
  if (filter == nullptr || !filter->is_string())
    template_fail(args.position, "map() needs a filter name or attribute=");
  CallArgs filter_args{args.position, {args.positional.begin() + 1, args.positional.end()}, {}};
  for (const Value& item : iterate(sequence, args.position))
    out.push_back(apply_filter(filter->as_string(), item, filter_args));
  return out;
}

Value int_filter(const Value& v, const CallArgs& args) {
  const Value* fallback = args.get(0, "default");
  const Value otherwise = fallback != nullptr ? *fallback : Value(int64_t{0});
  if (v.is_int()) return v;
  if (v.is_bool()) return int64_t{v.as_bool()};
  if (v.is_float()) return std::isfinite(v.as_double()) ? Value(static_cast<int64_t>(v.as_double())) : otherwise;
  if (v.is_string()) {
    const std::string s = strip(v.as_string(), nullptr, true, true);
    try {
      size_t used = 0;
      const int64_t i = std::stoll(s, &used);
      if (used == s.size()) return i;
      const double d = std::stod(s, &used);
      if (used == s.size() && std::isfinite(d)) return static_cast<int64_t>(d);
    } catch (const std::exception&) {
    }
  }
  return otherwise;
}

Value float_filter(const Value& v, const CallArgs& args) {
  const Value* fallback = args.get(0, "default");
  const Value otherwise = fallback != nullptr ? *fallback : Value(0.0);
  if (v.is_number() || v.is_bool()) return v.as_double();
  if (v.is_string()) {
    try {
      size_t used = 0;
      const std::string s = strip(v.as_string(), nullptr, true, true);
      const double d = std::stod(s, &used);
      if (used == s.size()) return d;
    } catch (const std::exception&) {
    }
  }
  return otherwise;
}

Value tojson(const Value& v, const CallArgs& args) {
  args.check("tojson", 1, {"indent", "separators", "sort_keys", "ensure_ascii"});
  if (flag(args.named("ensure_ascii"))) template_unsupported(args.position, "tojson(ensure_ascii=true)");
  const Value* indent = args.get(0, "indent");
  if (indent != nullptr && !indent->is_none() && !indent->is_int()) {
    template_unsupported(args.position, "tojson's indent other than an integer");
  }
  std::string item_separator, key_separator;
  const Value* separators = args.named("separators");
  const bool custom = separators != nullptr && !separators->is_none();
  if (custom) {
    if (!separators->is_list() || separators->as_list().size() != 2 || !separators->as_list()[0].is_string() ||
        !separators->as_list()[1].is_string()) {
      template_fail(args.position, "tojson's separators must be two strings");
    }
    item_separator = separators->as_list()[0].as_string();
    key_separator = separators->as_list()[1].as_string();
  }
  const int width =
      indent != nullptr && indent->is_int() ? static_cast<int>(std::clamp<int64_t>(indent->as_int(), 0, 64)) : -1;
  return to_json(v, width, flag(args.named("sort_keys")), custom ? &item_separator : nullptr,
                 custom ? &key_separator : nullptr, args.position);
}

Value indent_filter(const Value& v, const CallArgs& args) {
  const Value* width_v = args.get(0, "width");
  const std::string indentation =
      width_v == nullptr ? "    "
      : width_v->is_string()
          ? width_v->as_string()
          : std::string(static_cast<size_t>(std::clamp<int64_t>(width_v->is_int() ? width_v->as_int() : 4, 0, 256)),
                        ' ');
  const bool first = flag(args.get(1, "first")), blank = flag(args.get(2, "blank"));
  // Jinja2 appends "\n" and then takes str.splitlines(), so a trailing
  // newline yields no extra line.
  const std::string text = v.str() + "\n";
  std::vector<std::string> lines;
  for (size_t start = 0, nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(text.substr(start, nl - start));
  }
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (i > 0) out += "\n" + ((blank || !line.empty()) ? indentation : "");
    out += line;
  }
  return first ? indentation + out : out;
}

Value join_filter(const Value& v, const CallArgs& args) {
  const Value* separator = args.get(0, "d");
  const Value* attribute = args.get(1, "attribute");
  std::string out;
  bool first = true;
  for (const Value& item : iterate(v, args.position)) {
    out += (first                  ? ""
            : separator != nullptr ? separator->str()
                                   : "") +
           (attribute != nullptr ? dotted_attribute(item, attribute->str(), args.position) : item).str();
    first = false;
    check_size(out.size(), args.position);
  }
  return out;
}

}  // namespace

Value apply_filter(const std::string& name, const Value& v, const CallArgs& args) {
  const Position at = args.position;
  if (name == "trim") return strip(v.str(), args.get(0, "chars"), true, true);
  if (name == "length" || name == "count") return length_of(v, at);
  if (name == "tojson") return tojson(v, args);
  if (name == "upper") return upper(v.str());
  if (name == "lower") return lower(v.str());
  if (name == "capitalize" || name == "title") return call_method(Value(v.str()), name, {at, {}, {}});
  if (name == "default" || name == "d") {
    const Value* fallback = args.get(0, "default_value");
    const bool use_fallback = v.is_undefined() || (flag(args.get(1, "boolean")) && !v.truthy());
    return use_fallback ? (fallback != nullptr ? *fallback : Value("")) : v;
  }
  if (name == "join") return join_filter(v, args);
  if (name == "first" || name == "last") {
    const List items = iterate(v, at);
    if (items.empty()) return Undefined{"no " + name + " item"};
    return name == "first" ? items.front() : items.back();
  }
  if (name == "replace") {
    CallArgs method_args{at, args.positional, {}};
    if (const Value* count = args.get(2, "count")) {
      method_args.positional.resize(2);
      method_args.positional.push_back(*count);
    }
    return call_method(Value(v.str()), "replace", method_args);
  }
  if (name == "string") return v.str();
  if (name == "safe") return v;
  if (name == "int") return int_filter(v, args);
  if (name == "float") return float_filter(v, args);
  if (name == "list") return iterate(v, at);
  if (name == "items") {
    if (v.is_undefined()) return List{};
    if (!v.is_dict()) template_fail(at, "items needs a mapping, not ", v.type_name());
    return call_method(v, "items", {at, {}, {}});
  }
  if (name == "selectattr" || name == "rejectattr") return select(v, args, true, name == "selectattr");
  if (name == "select" || name == "reject") return select(v, args, false, name == "select");
  if (name == "map") return map_filter(v, args);
  if (name == "reverse") {
    if (v.is_string()) return slice_of(v, Undefined{}, Undefined{}, Value(int64_t{-1}), at);
    List items = iterate(v, at);
    std::reverse(items.begin(), items.end());
    return items;
  }
  if (name == "abs") {
    if (v.is_int()) return v.as_int() < 0 ? -v.as_int() : v.as_int();
    if (v.is_float()) return std::fabs(v.as_double());
    template_fail(at, "abs needs a number, not ", v.type_name());
  }
  if (name == "indent") return indent_filter(v, args);
  template_unsupported(at, "the filter '", name, "'");
}

}  // namespace gptq::jinja
