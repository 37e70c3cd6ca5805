// Parses a template's tokens into statements and expressions with Jinja2's
// grammar and operator precedence.
#pragma once

#include <string_view>

#include "chat/jinja_ast.h"

namespace gptq::jinja {

Body parse_template(std::string_view source);

}  // namespace gptq::jinja
