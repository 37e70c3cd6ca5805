#include "chat/jinja_expression_parser.h"

namespace gptq::jinja {
namespace {

class ExpressionParser {
 public:
  explicit ExpressionParser(TokenStream& tokens) : tokens_(tokens) {}

  ExprPtr make_expr(Expr::Kind kind, Position at) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->position = at;
    return e;
  }
  ExprPtr binary(const std::string& op, ExprPtr left, ExprPtr right, Position at) {
    auto e = make_expr(Expr::Kind::kBinary, at);
    e->name = op;
    e->items.push_back(std::move(left));
    e->items.push_back(std::move(right));
    return grown(std::move(e));
  }
  // Operator chains (a + b + c ..., x.y.z ..., x | f | g ...) are parsed in
  // loops, not recursion; their height is bounded here so that evaluating
  // and destroying the tree cannot exhaust the stack.
  static ExprPtr grown(ExprPtr e) {
    for (const auto& item : e->items) {
      if (item) e->height = std::max(e->height, item->height + 1);
    }
    for (const auto& entry : e->kwargs) e->height = std::max(e->height, entry.second->height + 1);
    if (e->height > kMaxNesting)
      template_fail(e->position, "an expression nested deeper than ", kMaxNesting, " levels");
    return e;
  }

  // `a, b` on the right of a set builds a tuple (a list here).
  ExprPtr parse_tuple_or_expression() {
    const Position at = tokens_.peek().position;
    ExprPtr first = parse_expression();
    if (!tokens_.at_operator(",")) return first;
    auto list = make_expr(Expr::Kind::kList, at);
    list->items.push_back(std::move(first));
    while (tokens_.accept_operator(",")) list->items.push_back(parse_expression());
    return list;
  }

  ExprPtr parse_expression(bool with_conditional = true) {
    const TokenStream::DepthGuard guard(tokens_, tokens_.peek().position);
    ExprPtr e = parse_or();
    if (!with_conditional) return e;
    while (tokens_.at_name("if")) {
      const Position at = tokens_.next().position;
      auto cond = make_expr(Expr::Kind::kConditional, at);
      cond->items.push_back(parse_or());
      cond->items.push_back(std::move(e));
      cond->items.push_back(tokens_.accept_name("else") ? parse_expression() : nullptr);
      e = grown(std::move(cond));
    }
    return e;
  }

  // One left-associative precedence level: operands parsed by `operand`,
  // joined by any of `ops` (keywords such as `or`, or operator symbols).
  ExprPtr parse_level(ExprPtr (ExpressionParser::*operand)(), std::initializer_list<const char*> ops) {
    ExprPtr e = (this->*operand)();
    while ((tokens_.peek().kind == TokenKind::kOperator || tokens_.peek().kind == TokenKind::kName) &&
           one_of(tokens_.peek().text, ops)) {
      const Token& op = tokens_.next();
      e = binary(op.text, std::move(e), (this->*operand)(), op.position);
    }
    return e;
  }
  // Jinja2's precedence, loosest first.
  ExprPtr parse_or() { return parse_level(&ExpressionParser::parse_and, {"or"}); }
  ExprPtr parse_and() { return parse_level(&ExpressionParser::parse_not, {"and"}); }
  ExprPtr parse_not() {
    if (tokens_.at_name("not")) {
      const TokenStream::DepthGuard guard(tokens_, tokens_.peek().position);
      auto e = make_expr(Expr::Kind::kUnary, tokens_.next().position);
      e->name = "not";
      e->items.push_back(parse_not());
      return grown(std::move(e));
    }
    return parse_compare();
  }

  // Chained comparisons (a < b < c) as Python: (a < b) and (b < c), with b
  // evaluated twice here, which is the same for side-effect-free templates.
  ExprPtr parse_compare() {
    ExprPtr e = parse_math1();
    ExprPtr chain;
    ExprPtr* right_of_last = nullptr;
    while (true) {
      const Position at = tokens_.peek().position;
      std::string op;
      if (tokens_.peek().kind == TokenKind::kOperator &&
          one_of(tokens_.peek().text, {"==", "!=", "<", "<=", ">", ">="})) {
        op = tokens_.next().text;
      } else if (tokens_.at_name("in")) {
        tokens_.next();
        op = "in";
      } else if (tokens_.at_name("not") && tokens_.at_name("in", 1)) {
        tokens_.next();
        tokens_.next();
        op = "not in";
      } else {
        break;
      }
      ExprPtr left = right_of_last != nullptr ? clone_operand(**right_of_last) : std::move(e);
      ExprPtr comparison = binary(op, std::move(left), parse_math1(), at);
      right_of_last = &comparison->items[1];
      if (!chain) {
        chain = std::move(comparison);
      } else {
        Expr* right = comparison.get();
        chain = binary("and", std::move(chain), std::move(comparison), at);
        right_of_last = &right->items[1];
      }
    }
    return chain ? std::move(chain) : std::move(e);
  }
  ExprPtr clone_operand(const Expr& operand) {
    if (operand.kind == Expr::Kind::kLiteral || operand.kind == Expr::Kind::kName) {
      auto copy = make_expr(operand.kind, operand.position);
      copy->value = operand.value;
      copy->name = operand.name;
      return copy;
    }
    template_unsupported(operand.position, "a chained comparison with a computed middle operand");
  }

  ExprPtr parse_math1() { return parse_level(&ExpressionParser::parse_concat, {"+", "-"}); }
  ExprPtr parse_concat() { return parse_level(&ExpressionParser::parse_math2, {"~"}); }
  ExprPtr parse_math2() { return parse_level(&ExpressionParser::parse_pow, {"*", "/", "//", "%"}); }
  ExprPtr parse_pow() { return parse_level(&ExpressionParser::parse_filtered_unary, {"**"}); }
  ExprPtr parse_filtered_unary() { return parse_unary(true); }
  ExprPtr parse_unary(bool with_filter) {
    const TokenStream::DepthGuard guard(tokens_, tokens_.peek().position);
    ExprPtr e;
    if (tokens_.at_operator("-") || tokens_.at_operator("+")) {
      const Token& op = tokens_.next();
      e = make_expr(Expr::Kind::kUnary, op.position);
      e->name = op.text;
      e->items.push_back(parse_unary(false));
      e = grown(std::move(e));
    } else {
      e = parse_primary();
    }
    e = parse_postfix(std::move(e));
    return with_filter ? parse_filters(std::move(e)) : std::move(e);
  }

  ExprPtr parse_primary() {
    const Token& t = tokens_.next();
    switch (t.kind) {
      case TokenKind::kName: {
        if (one_of(t.text, {"true", "True"})) return literal(Value(true), t.position);
        if (one_of(t.text, {"false", "False"})) return literal(Value(false), t.position);
        if (one_of(t.text, {"none", "None"})) return literal(Value(None{}), t.position);
        auto e = make_expr(Expr::Kind::kName, t.position);
        e->name = t.text;
        return e;
      }
      case TokenKind::kString: {
        std::string text = t.text;
        while (tokens_.peek().kind == TokenKind::kString) text += tokens_.next().text;  // adjacent literals join
        return literal(Value(std::move(text)), t.position);
      }
      case TokenKind::kInteger: {
        try {
          return literal(Value(static_cast<int64_t>(std::stoll(t.text))), t.position);
        } catch (const std::out_of_range&) {
          template_unsupported(t.position, "the integer ", t.text, " (beyond 64 bits)");
        }
      }
      case TokenKind::kFloat: return literal(Value(std::stod(t.text)), t.position);
      case TokenKind::kOperator:
        if (t.text == "(") return parse_parenthesised(t.position);
        if (t.text == "[") return parse_list(t.position);
        if (t.text == "{") return parse_dict(t.position);
        break;
      default: break;
    }
    template_fail(t.position, "unexpected ", tokens_.describe(t), " in an expression");
  }
  ExprPtr literal(Value v, Position at) {
    auto e = make_expr(Expr::Kind::kLiteral, at);
    e->value = std::move(v);
    return e;
  }
  ExprPtr parse_parenthesised(Position at) {
    if (tokens_.accept_operator(")")) return make_expr(Expr::Kind::kList, at);  // ()
    ExprPtr e = parse_expression();
    if (!tokens_.at_operator(",")) {
      tokens_.expect_operator(")");
      return e;
    }
    auto tuple = make_expr(Expr::Kind::kList, at);
    tuple->items.push_back(std::move(e));
    while (tokens_.accept_operator(",")) {
      if (tokens_.at_operator(")")) break;
      tuple->items.push_back(parse_expression());
    }
    tokens_.expect_operator(")");
    return tuple;
  }
  ExprPtr parse_list(Position at) {
    auto list = make_expr(Expr::Kind::kList, at);
    while (!tokens_.accept_operator("]")) {
      if (!list->items.empty()) {
        tokens_.expect_operator(",");
        if (tokens_.accept_operator("]")) break;
      }
      list->items.push_back(parse_expression());
    }
    return list;
  }
  ExprPtr parse_dict(Position at) {
    auto dict = make_expr(Expr::Kind::kDict, at);
    while (!tokens_.accept_operator("}")) {
      if (!dict->items.empty()) {
        tokens_.expect_operator(",");
        if (tokens_.accept_operator("}")) break;
      }
      dict->items.push_back(parse_expression());
      tokens_.expect_operator(":");
      dict->items.push_back(parse_expression());
    }
    return dict;
  }

  ExprPtr parse_postfix(ExprPtr e) {
    while (true) {
      const Position at = tokens_.peek().position;
      if (tokens_.accept_operator(".")) {
        auto attr = make_expr(Expr::Kind::kAttribute, at);
        if (tokens_.peek().kind == TokenKind::kInteger) {
          attr->kind = Expr::Kind::kSubscript;
          attr->items.push_back(std::move(e));
          attr->items.push_back(literal(Value(static_cast<int64_t>(std::stoll(tokens_.next().text))), at));
        } else {
          attr->name = tokens_.expect_name();
          attr->items.push_back(std::move(e));
        }
        e = grown(std::move(attr));
      } else if (tokens_.accept_operator("[")) {
        e = grown(parse_subscript(std::move(e), at));
      } else if (tokens_.at_operator("(")) {
        e = grown(parse_call(std::move(e), Expr::Kind::kCall, ""));
      } else {
        return e;
      }
    }
  }
  ExprPtr parse_subscript(ExprPtr target, Position at) {
    ExprPtr parts[3];
    int colons = 0;
    for (int part = 0; part < 3; ++part) {
      if (!tokens_.at_operator(":") && !tokens_.at_operator("]")) parts[part] = parse_expression();
      if (part < 2 && tokens_.accept_operator(":")) {
        ++colons;
        continue;
      }
      break;
    }
    tokens_.expect_operator("]");
    auto e = make_expr(colons == 0 ? Expr::Kind::kSubscript : Expr::Kind::kSlice, at);
    e->items.push_back(std::move(target));
    if (colons == 0) {
      if (!parts[0]) template_fail(at, "empty subscript '[]'");
      e->items.push_back(std::move(parts[0]));
    } else {
      for (auto& part : parts) e->items.push_back(std::move(part));
    }
    return e;
  }
  // The argument list at '(' of a call, filter or test; `first` is the
  // callee (call) or the operand (filter, test).
  ExprPtr parse_call(ExprPtr first, Expr::Kind kind, std::string name) {
    auto e = make_expr(kind, tokens_.peek().position);
    e->name = std::move(name);
    e->items.push_back(std::move(first));
    if (!tokens_.accept_operator("(")) return e;
    bool first_argument = true;
    while (!tokens_.accept_operator(")")) {
      if (!first_argument) {
        tokens_.expect_operator(",");
        if (tokens_.accept_operator(")")) break;
      }
      first_argument = false;
      if (tokens_.at_operator("*") || tokens_.at_operator("**"))
        template_unsupported(tokens_.peek().position, "argument unpacking with '*'");
      if (tokens_.peek().kind == TokenKind::kName && tokens_.at_operator("=", 1)) {
        std::string key = tokens_.next().text;
        tokens_.next();
        e->kwargs.emplace_back(std::move(key), parse_expression());
      } else {
        if (!e->kwargs.empty())
          template_fail(tokens_.peek().position, "a positional argument after a keyword argument");
        e->items.push_back(parse_expression());
      }
    }
    return e;
  }

  ExprPtr parse_filters(ExprPtr e) {
    while (true) {
      if (tokens_.at_operator("|")) {
        tokens_.next();
        const Position at = tokens_.peek().position;
        std::string name = tokens_.expect_name();
        e = grown(parse_call(std::move(e), Expr::Kind::kFilter, std::move(name)));
        e->position = at;
      } else if (tokens_.at_name("is")) {
        tokens_.next();
        const bool negated = tokens_.accept_name("not");
        const Position at = tokens_.peek().position;
        std::string name = tokens_.expect_name();
        if (tokens_.at_operator("(")) {
          e = parse_call(std::move(e), Expr::Kind::kTest, std::move(name));
        } else {
          auto test = make_expr(Expr::Kind::kTest, at);
          test->name = std::move(name);
          test->items.push_back(std::move(e));
          if (starts_bare_test_argument()) test->items.push_back(parse_postfix(parse_primary()));
          e = std::move(test);
        }
        e->position = at;
        e->negated = negated;
        e = grown(std::move(e));
      } else {
        return e;
      }
    }
  }
  // `x is divisibleby 3`, `x is sameas false`: one argument without parentheses.
  bool starts_bare_test_argument() const {
    const Token& t = tokens_.peek();
    if (t.kind == TokenKind::kString || t.kind == TokenKind::kInteger || t.kind == TokenKind::kFloat) return true;
    if (t.kind == TokenKind::kName) return !one_of(t.text, {"else", "or", "and", "if", "in", "is", "not"});
    return t.kind == TokenKind::kOperator && (t.text == "[" || t.text == "{");
  }

 private:
  TokenStream& tokens_;
};

}  // namespace

ExprPtr parse_expression(TokenStream& tokens, bool with_conditional) {
  return ExpressionParser(tokens).parse_expression(with_conditional);
}

ExprPtr parse_tuple_or_expression(TokenStream& tokens) { return ExpressionParser(tokens).parse_tuple_or_expression(); }

}  // namespace gptq::jinja
