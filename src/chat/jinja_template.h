// A parsed Jinja2 template, rendered the way transformers' apply_chat_template
// renders chat templates (an immutable sandbox: no attribute writes except on
// namespace objects, no list mutation).
#pragma once

#include <string>
#include <string_view>

#include "chat/jinja_ast.h"
#include "chat/jinja_value.h"

namespace gptq::jinja {

class Template {
 public:
  // Parses `source`; a syntax error throws naming its line:col.
  explicit Template(std::string_view source);
  // Renders with `variables` as the template's globals (a name given twice
  // takes its last value).
  std::string render(const Dict& variables) const;

 private:
  Body body_;
};

}  // namespace gptq::jinja
