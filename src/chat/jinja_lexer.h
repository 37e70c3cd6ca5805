// Splits a template into text and the tokens of its {{ }} and {% %} tags,
// applying whitespace control the way transformers configures Jinja2:
// trim_blocks and lstrip_blocks on, `-` at a tag's edge strips all
// whitespace beside it, `+` keeps it, and one trailing newline of the
// template is dropped (keep_trailing_newline off). Comments vanish.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "chat/jinja_error.h"

namespace gptq::jinja {

enum class TokenKind {
  kText,           // literal template text
  kVariableBegin,  // {{
  kVariableEnd,    // }}
  kBlockBegin,     // {%
  kBlockEnd,       // %}
  kName,
  kString,  // text holds the decoded value
  kInteger,
  kFloat,
  kOperator,  // + - * / // % ** ~ == != < <= > >= = ( ) [ ] { } . , : |
  kEnd
};

struct Token {
  TokenKind kind;
  std::string text;
  Position position;
};

std::vector<Token> tokenize_template(std::string_view source);

}  // namespace gptq::jinja
