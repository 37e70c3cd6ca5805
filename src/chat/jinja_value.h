// The values a chat template computes with: Python's types as Jinja2 sees
// them (None, bool, int, float, str, list, dict) plus Jinja's Undefined and
// namespace objects. Lists, dicts and namespaces are shared by reference, as
// in Python, which is what `{% set ns.x = ... %}` relies on.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace gptq::jinja {

class Value;
using List = std::vector<Value>;
// Insertion-ordered, as Python's dicts (json.dumps and iteration keep it).
using Dict = std::vector<std::pair<std::string, Value>>;

struct Undefined {
  std::string name;  // what was looked up, for error messages
};
struct None {};
struct Namespace {
  std::shared_ptr<Dict> attributes;
};
// A macro or global function by name: `strftime_now is defined` is true,
// as for Jinja2's callables.
struct Callable {
  std::string name;
};

class Value {
 public:
  Value() : data_(Undefined{}) {}
  Value(None) : data_(None{}) {}
  Value(Undefined u) : data_(std::move(u)) {}
  Value(bool b) : data_(b) {}
  Value(int64_t i) : data_(i) {}
  Value(int i) : data_(int64_t{i}) {}
  Value(double d) : data_(d) {}
  Value(std::string s) : data_(std::move(s)) {}
  Value(const char* s) : data_(std::string(s)) {}
  Value(List l) : data_(std::make_shared<List>(std::move(l))) {}
  Value(Dict d) : data_(std::make_shared<Dict>(std::move(d))) {}
  Value(Namespace n) : data_(std::move(n)) {}
  Value(Callable c) : data_(std::move(c)) {}

  bool is_undefined() const { return std::holds_alternative<Undefined>(data_); }
  bool is_none() const { return std::holds_alternative<None>(data_); }
  bool is_bool() const { return std::holds_alternative<bool>(data_); }
  bool is_int() const { return std::holds_alternative<int64_t>(data_); }
  bool is_float() const { return std::holds_alternative<double>(data_); }
  bool is_number() const { return is_int() || is_float(); }  // bool is not a number here
  bool is_string() const { return std::holds_alternative<std::string>(data_); }
  bool is_list() const { return std::holds_alternative<std::shared_ptr<List>>(data_); }
  bool is_dict() const { return std::holds_alternative<std::shared_ptr<Dict>>(data_); }
  bool is_namespace() const { return std::holds_alternative<Namespace>(data_); }
  bool is_callable() const { return std::holds_alternative<Callable>(data_); }

  bool as_bool() const { return std::get<bool>(data_); }
  int64_t as_int() const { return std::get<int64_t>(data_); }
  // int, float or bool as a double.
  double as_double() const;
  const std::string& as_string() const { return std::get<std::string>(data_); }
  const List& as_list() const { return *std::get<std::shared_ptr<List>>(data_); }
  const Dict& as_dict() const { return *std::get<std::shared_ptr<Dict>>(data_); }
  Dict& namespace_attributes() const { return *std::get<Namespace>(data_).attributes; }
  const std::string& undefined_name() const { return std::get<Undefined>(data_).name; }
  const std::string& callable_name() const { return std::get<Callable>(data_).name; }

  // Python's type name, for error messages: "str", "list", "undefined", ...
  const char* type_name() const;
  // Python's bool(x); Undefined is false.
  bool truthy() const;
  // str(x) as Jinja prints it: Undefined is "", lists and dicts use repr.
  std::string str() const;
  // Python's repr(x): 'text' with quotes, [1, 'a'], {'k': None}.
  std::string repr() const;

  // A dict's (or namespace's) entry, or nullptr.
  const Value* find(const std::string& key) const;

 private:
  std::variant<Undefined, None, bool, int64_t, double, std::string, std::shared_ptr<List>, std::shared_ptr<Dict>,
               Namespace, Callable>
      data_;
};

// Python's ==: 1 == 1.0 == True, lists and dicts element-wise.
bool equal(const Value& a, const Value& b);
// Python's float repr: the shortest string that reads back the same value.
std::string format_float(double value);

}  // namespace gptq::jinja
