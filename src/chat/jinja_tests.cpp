// Jinja2's tests (`x is defined`, `x is divisibleby 3`, ...).
#include <cmath>

#include "chat/jinja_builtins.h"

namespace gptq::jinja {
namespace {

const Value& operand_arg(const CallArgs& args, const char* test) {
  const Value* v = args.get(0, "other");
  if (v == nullptr) template_fail(args.position, "the test '", test, "' needs an argument");
  return *v;
}

bool less(const Value& a, const Value& b, Position at) {
  if ((a.is_number() || a.is_bool()) && (b.is_number() || b.is_bool())) return a.as_double() < b.as_double();
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();
  template_fail(at, "'<' not supported between instances of '", a.type_name(), "' and '", b.type_name(), "'");
}

}  // namespace

bool compare_values(const std::string& op, const Value& a, const Value& b, Position at) {
  if (op == "==") return equal(a, b);
  if (op == "!=") return !equal(a, b);
  if (op == "<") return less(a, b, at);
  if (op == ">") return less(b, a, at);
  if (op == "<=") return !less(b, a, at);
  if (op == ">=") return !less(a, b, at);
  template_fail(at, "unknown comparison '", op, "'");
}

bool contains(const Value& container, const Value& item, Position at) {
  if (container.is_string()) {
    if (!item.is_string()) template_fail(at, "'in <string>' requires a string on the left, not ", item.type_name());
    return container.as_string().find(item.as_string()) != std::string::npos;
  }
  if (container.is_dict()) return item.is_string() && container.find(item.as_string()) != nullptr;
  for (const Value& element : iterate(container, at)) {
    if (equal(element, item)) return true;
  }
  return false;
}

bool apply_test(const std::string& name, const Value& v, const CallArgs& args) {
  const Position at = args.position;
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "string") return v.is_string();
  if (name == "number") return v.is_number() || v.is_bool();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_float();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "mapping") return v.is_dict();
  if (name == "sequence") return v.is_list() || v.is_string() || v.is_dict();
  if (name == "iterable") return v.is_list() || v.is_string() || v.is_dict();
  if (name == "callable") return v.is_callable();
  if (name == "lower") return v.is_string() && lower(v.as_string()) == v.as_string();
  if (name == "upper") return v.is_string() && upper(v.as_string()) == v.as_string();
  if (name == "odd" || name == "even") {
    if (!v.is_int()) template_fail(at, "the test '", name, "' needs an integer, not ", v.type_name());
    return (v.as_int() % 2 != 0) == (name == "odd");
  }
  if (name == "divisibleby") {
    const Value& d = operand_arg(args, "divisibleby");
    if (!v.is_int() || !d.is_int() || d.as_int() == 0) template_fail(at, "divisibleby needs nonzero integers");
    return v.as_int() % d.as_int() == 0;
  }
  if (name == "sameas") {
    const Value& other = operand_arg(args, "sameas");
    return (v.is_none() && other.is_none()) || (v.is_bool() && other.is_bool() && v.as_bool() == other.as_bool());
  }
  if (name == "in") {
    const Value& container = operand_arg(args, "in");
    return contains(container, v, at);
  }
  static const std::pair<const char*, const char*> kComparisons[] = {
      {"eq", "=="}, {"equalto", "=="},    {"==", "=="}, {"ne", "!="}, {"!=", "!="},
      {"lt", "<"},  {"lessthan", "<"},    {"<", "<"},   {"le", "<="}, {"<=", "<="},
      {"gt", ">"},  {"greaterthan", ">"}, {">", ">"},   {"ge", ">="}, {">=", ">="}};
  for (const auto& [test, op] : kComparisons) {
    if (name == test) return compare_values(op, v, operand_arg(args, test), at);
  }
  template_unsupported(at, "the test '", name, "'");
}

}  // namespace gptq::jinja
