// Expressions with Jinja2's grammar and operator precedence: literals,
// names, member access, calls, filters, tests, arithmetic, comparisons,
// boolean operators and the inline if-else.
#pragma once

#include "chat/jinja_ast.h"
#include "chat/jinja_token_stream.h"

namespace gptq::jinja {

// One expression from the stream's position; with_conditional false leaves
// `if` to the caller (a for loop's filter).
ExprPtr parse_expression(TokenStream& tokens, bool with_conditional = true);
// `a, b` as a tuple (a list here), as the right side of a set allows.
ExprPtr parse_tuple_or_expression(TokenStream& tokens);

}  // namespace gptq::jinja
