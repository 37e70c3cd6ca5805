// What a template can call: filters, tests, the methods of str and dict,
// the globals (range, namespace, raise_exception, strftime_now), member
// access and the Python string semantics (code points, not bytes) they share.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_error.h"
#include "chat/jinja_value.h"

namespace gptq::jinja {

struct CallArgs {
  Position position;
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;

  // The argument at `index` or named `name`; nullptr when not given.
  const Value* get(size_t index, const char* name) const;
  // A keyword-only argument; nullptr when not given.
  const Value* named(const char* name) const;
  // Fails naming `function` when more than `max_positional` positional
  // arguments or a keyword outside `names` are given.
  void check(const char* function, size_t max_positional, std::initializer_list<const char*> names) const;
};

Value apply_filter(const std::string& name, const Value& operand, const CallArgs& args);
bool apply_test(const std::string& name, const Value& operand, const CallArgs& args);
Value call_method(const Value& object, const std::string& name, const CallArgs& args);
// + - * / // % ** ~ and unary - + with Python's semantics (int overflow is
// an error rather than a silent wrap).
Value binary_operator(const std::string& op, const Value& a, const Value& b, Position at);
Value unary_operator(const std::string& op, const Value& operand, Position at);
// The comparison operators ==, !=, <, <=, >, >= and the `in` operator.
bool compare_values(const std::string& op, const Value& a, const Value& b, Position at);
bool contains(const Value& container, const Value& item, Position at);
// The global functions by name.
bool is_global_function(const std::string& name);
Value call_global(const std::string& name, const CallArgs& args);

// obj.name and obj[key] as Jinja2 resolves them: a missing member is
// Undefined; a member of Undefined is an error.
Value attribute_of(const Value& object, const std::string& name, Position at);
Value item_of(const Value& object, const Value& key, Position at);
Value slice_of(const Value& object, const Value& start, const Value& stop, const Value& step, Position at);
// The elements a for loop visits: list items, dict keys, characters.
List iterate(const Value& value, Position at);
// len(): characters of a string, items of a list or dict.
int64_t length_of(const Value& value, Position at);

// Python's str semantics on UTF-8 text.
std::vector<std::string> characters(const std::string& text);
std::string upper(const std::string& text);
std::string lower(const std::string& text);
// Unicode titlecase (U+01C6 "ǆ" -> U+01C5 "ǅ"), what str.capitalize and str.title start words with.
std::string titlecase(const std::string& text);
// str.strip / lstrip / rstrip: whitespace, or any character of `chars`.
std::string strip(const std::string& text, const Value* chars, bool left, bool right);

// Fails when a string the template builds would pass kMaxOutputBytes.
void check_size(size_t bytes, Position at);
// Counts `units` (bytes or items copied) against this thread's render and
// fails past kMaxWorkUnits; a render starts with reset_work().
void charge_work(size_t units, Position at);
void reset_work();

// json.dumps(value, ensure_ascii=False, indent=indent, separators=..., sort_keys=...)
// as transformers' tojson filter calls it.
std::string to_json(const Value& value, int indent, bool sort_keys, const std::string* item_separator,
                    const std::string* key_separator, Position at);

}  // namespace gptq::jinja
