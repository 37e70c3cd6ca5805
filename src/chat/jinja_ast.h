// The parsed template: expressions and statements as plain trees that the
// renderer walks. Every node keeps its position for error messages.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_error.h"
#include "chat/jinja_value.h"

namespace gptq::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    kLiteral,      // value
    kName,         // name
    kList,         // items
    kDict,         // items as key, value pairs
    kAttribute,    // items[0].name
    kSubscript,    // items[0][items[1]]
    kSlice,        // items[0][items[1]:items[2]:items[3]], absent parts are null
    kCall,         // items[0](items[1..], kwargs)
    kFilter,       // name: items[0] | name(items[1..], kwargs)
    kTest,         // name: items[0] is [not] name(items[1..]); negated
    kUnary,        // op: "not", "-", "+"
    kBinary,       // op over items[0], items[1]: arithmetic, comparison, and/or, in, ~
    kConditional,  // items[1] if items[0] else items[2] (else may be null)
  };
  Kind kind;
  Position position;
  Value value;
  std::string name;  // a variable, attribute, filter, test or operator
  std::vector<ExprPtr> items;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  bool negated = false;
  int height = 1;  // of the tree below, bounded by the parser
};

struct Node;
using Body = std::vector<std::unique_ptr<Node>>;

struct Node {
  enum class Kind {
    kText,      // text
    kOutput,    // {{ expr }}
    kIf,        // branches: (condition, body)...; else_body
    kFor,       // targets in expr [if filter]: body, else_body
    kSet,       // targets (or target.attribute) = expr
    kSetBlock,  // {% set name %}body{% endset %}
    kBreak,
    kContinue,
    kMacro,    // name(params = defaults): body
    kWrapper,  // {% generation %}: renders its body as it is
  };
  Kind kind;
  Position position;
  std::string text;
  ExprPtr expr;
  ExprPtr filter;                    // for: the optional `if`
  std::vector<std::string> targets;  // for / set names; set: one name then the attribute
  std::string attribute;             // set ns.attribute
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body body;
  Body else_body;
  std::vector<std::pair<std::string, ExprPtr>> params;  // macro parameters and defaults (null: none)
};

}  // namespace gptq::jinja
