// The global functions of transformers' template environment
// (raise_exception, strftime_now) and Jinja2's own (range, namespace, dict).
#include <ctime>

#include "chat/jinja_builtins.h"

namespace gptq::jinja {
namespace {

Dict keyword_dict(const CallArgs& args) {
  Dict dict;
  for (const Value& positional : args.positional) {
    if (!positional.is_dict()) template_fail(args.position, "namespace() and dict() take a dict or keyword arguments");
    dict = positional.as_dict();
  }
  for (const auto& [key, value] : args.keyword) {
    bool replaced = false;
    for (auto& entry : dict) {
      if (entry.first == key) {
        entry.second = value;
        replaced = true;
      }
    }
    if (!replaced) dict.emplace_back(key, value);
  }
  return dict;
}

Value range(const CallArgs& args) {
  args.check("range", 3, {});
  for (const Value& v : args.positional) {
    if (!v.is_int()) template_fail(args.position, "range() takes integers, not ", v.type_name());
  }
  const size_t n = args.positional.size();
  if (n == 0) template_fail(args.position, "range() takes 1 to 3 arguments");
  const int64_t start = n == 1 ? 0 : args.positional[0].as_int();
  const int64_t stop = n == 1 ? args.positional[0].as_int() : args.positional[1].as_int();
  const int64_t step = n == 3 ? args.positional[2].as_int() : 1;
  if (step == 0) template_fail(args.position, "range() step must not be zero");
  List out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    if (static_cast<int64_t>(out.size()) >= kMaxLoopIterations) {
      template_fail(args.position, "range() of more than ", kMaxLoopIterations, " items");
    }
    out.emplace_back(i);
  }
  return out;
}

std::string strftime_now(const CallArgs& args) {
  args.check("strftime_now", 1, {});
  const Value* format = args.get(0, "format");
  if (format == nullptr || !format->is_string()) template_fail(args.position, "strftime_now() takes a format string");
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  std::string out(256 + format->as_string().size() * 8, '\0');
  const size_t n = std::strftime(out.data(), out.size(), format->as_string().c_str(), &local);
  out.resize(n);
  return out;
}

}  // namespace

bool is_global_function(const std::string& name) {
  return name == "raise_exception" || name == "strftime_now" || name == "range" || name == "namespace" ||
         name == "dict";
}

Value call_global(const std::string& name, const CallArgs& args) {
  if (name == "raise_exception") {
    const Value* message = args.get(0, "message");
    // The template refuses its input (a role it does not know, a system
    // message it cannot place): the caller's argument is at fault.
    fail(GPTQ_ERR_INVALID_ARGUMENT, "the chat template refused the messages: ", message != nullptr ? message->str() : "");
  }
  if (name == "strftime_now") return strftime_now(args);
  if (name == "range") return range(args);
  if (name == "namespace") return Namespace{std::make_shared<Dict>(keyword_dict(args))};
  if (name == "dict") return keyword_dict(args);
  template_fail(args.position, "'", name, "' is not a function");
}

}  // namespace gptq::jinja
