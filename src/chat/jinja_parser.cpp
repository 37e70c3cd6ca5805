#include "chat/jinja_parser.h"

#include <algorithm>
#include <initializer_list>

#include "chat/jinja_lexer.h"

namespace gptq::jinja {
namespace {

bool one_of(const std::string& s, std::initializer_list<const char*> options) {
  for (const char* o : options) {
    if (s == o) return true;
  }
  return false;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Body parse_all() {
    std::string no_end_tag;
    return parse_body({}, &no_end_tag);
  }

 private:
  // Keeps recursion (nested blocks, parenthesised expressions) bounded.
  struct DepthGuard {
    DepthGuard(Parser& parser, Position at) : parser(parser) {
      if (++parser.depth_ > kMaxNesting) template_fail(at, "nesting deeper than ", kMaxNesting, " levels");
    }
    ~DepthGuard() { --parser.depth_; }
    Parser& parser;
  };

  const Token& peek(size_t ahead = 0) const { return tokens_[std::min(index_ + ahead, tokens_.size() - 1)]; }
  const Token& next() {
    const Token& t = tokens_[index_];
    if (index_ + 1 < tokens_.size()) ++index_;
    return t;
  }
  bool at_operator(const char* op, size_t ahead = 0) const {
    return peek(ahead).kind == TokenKind::kOperator && peek(ahead).text == op;
  }
  bool at_name(const char* name, size_t ahead = 0) const {
    return peek(ahead).kind == TokenKind::kName && peek(ahead).text == name;
  }
  bool accept_operator(const char* op) {
    if (!at_operator(op)) return false;
    next();
    return true;
  }
  bool accept_name(const char* name) {
    if (!at_name(name)) return false;
    next();
    return true;
  }
  static std::string describe(const Token& t) {
    switch (t.kind) {
      case TokenKind::kEnd: return "the end of the template";
      case TokenKind::kBlockEnd: return "'%}'";
      case TokenKind::kVariableEnd: return "'}}'";
      case TokenKind::kString: return "a string";
      default: return "'" + t.text + "'";
    }
  }
  void expect_operator(const char* op) {
    if (!accept_operator(op)) template_fail(peek().position, "expected '", op, "' but found ", describe(peek()));
  }
  std::string expect_name() {
    if (peek().kind != TokenKind::kName) template_fail(peek().position, "expected a name but found ", describe(peek()));
    return next().text;
  }
  void expect_block_end(const char* tag) {
    if (peek().kind != TokenKind::kBlockEnd) {
      template_fail(peek().position, "expected '%}' to end '", tag, "' but found ", describe(peek()));
    }
    next();
  }

  // Statements up to a block tag named in `ends` (its name goes to
  // *end_tag, its tokens after the name are left to the caller).
  Body parse_body(std::initializer_list<const char*> ends, std::string* end_tag, Position opened_at = {}) {
    Body body;
    while (true) {
      const Token& t = peek();
      if (t.kind == TokenKind::kEnd) {
        if (ends.size() == 0) return body;
        template_fail(opened_at, "unclosed block: expected '{% ", *(ends.end() - 1), " %}' before the end of the template");
      }
      if (t.kind == TokenKind::kText) {
        auto node = make_node(Node::Kind::kText, t.position);
        node->text = next().text;
        body.push_back(std::move(node));
      } else if (t.kind == TokenKind::kVariableBegin) {
        auto node = make_node(Node::Kind::kOutput, next().position);
        node->expr = parse_expression();
        if (peek().kind != TokenKind::kVariableEnd) {
          template_fail(peek().position, "expected '}}' but found ", describe(peek()));
        }
        next();
        body.push_back(std::move(node));
      } else if (t.kind == TokenKind::kBlockBegin) {
        const Position at = next().position;
        if (peek().kind != TokenKind::kName) template_fail(peek().position, "expected a tag name after '{%'");
        const std::string& tag = peek().text;
        for (const char* end : ends) {
          if (tag == end) {
            *end_tag = next().text;
            return body;
          }
        }
        body.push_back(parse_statement(at));
      } else {
        template_fail(t.position, "unexpected ", describe(t));
      }
    }
  }

  std::unique_ptr<Node> make_node(Node::Kind kind, Position at) {
    auto node = std::make_unique<Node>();
    node->kind = kind;
    node->position = at;
    return node;
  }

  std::unique_ptr<Node> parse_statement(Position at) {
    const DepthGuard guard(*this, at);
    const Token& tag_token = next();
    const std::string tag = tag_token.text;
    if (tag == "if") return parse_if(at);
    if (tag == "for") return parse_for(at);
    if (tag == "set") return parse_set(at);
    if (tag == "macro") return parse_macro(at);
    if (tag == "break" || tag == "continue") {
      expect_block_end(tag.c_str());
      if (loop_depth_ == 0) template_fail(at, "'", tag, "' outside a for loop");
      return make_node(tag == "break" ? Node::Kind::kBreak : Node::Kind::kContinue, at);
    }
    if (tag == "generation") {
      expect_block_end("generation");
      auto node = make_node(Node::Kind::kWrapper, at);
      std::string end;
      node->body = parse_body({"endgeneration"}, &end, at);
      expect_block_end("endgeneration");
      return node;
    }
    if (one_of(tag, {"call", "filter", "raw", "include", "import", "from", "extends", "block", "with", "autoescape",
                     "do"})) {
      template_unsupported(at, "the '{% ", tag, " %}' tag");
    }
    if (one_of(tag, {"endif", "endfor", "endset", "endmacro", "else", "elif", "endgeneration"})) {
      template_fail(at, "'{% ", tag, " %}' without a matching opening tag");
    }
    template_fail(at, "unknown tag '", tag, "'");
  }

  std::unique_ptr<Node> parse_if(Position at) {
    auto node = make_node(Node::Kind::kIf, at);
    ExprPtr condition = parse_expression();
    expect_block_end("if");
    while (true) {
      std::string end;
      Body body = parse_body({"elif", "else", "endif"}, &end, at);
      node->branches.emplace_back(std::move(condition), std::move(body));
      if (end == "elif") {
        condition = parse_expression();
        expect_block_end("elif");
        continue;
      }
      if (end == "else") {
        expect_block_end("else");
        node->else_body = parse_body({"endif"}, &end, at);
      }
      expect_block_end("endif");
      return node;
    }
  }

  std::unique_ptr<Node> parse_for(Position at) {
    auto node = make_node(Node::Kind::kFor, at);
    do {
      node->targets.push_back(expect_name());
    } while (accept_operator(","));
    if (!accept_name("in")) template_fail(peek().position, "expected 'in' in a for loop but found ", describe(peek()));
    node->expr = parse_expression(false);
    if (accept_name("if")) node->filter = parse_expression(false);
    if (at_name("recursive")) template_unsupported(peek().position, "a recursive for loop");
    expect_block_end("for");
    std::string end;
    ++loop_depth_;
    node->body = parse_body({"else", "endfor"}, &end, at);
    --loop_depth_;
    if (end == "else") {
      expect_block_end("else");
      node->else_body = parse_body({"endfor"}, &end, at);
    }
    expect_block_end("endfor");
    return node;
  }

  std::unique_ptr<Node> parse_set(Position at) {
    auto node = make_node(Node::Kind::kSet, at);
    node->targets.push_back(expect_name());
    if (accept_operator(".")) {
      node->attribute = expect_name();
    } else {
      while (accept_operator(",")) node->targets.push_back(expect_name());
    }
    if (peek().kind == TokenKind::kBlockEnd && node->attribute.empty() && node->targets.size() == 1) {
      next();
      node->kind = Node::Kind::kSetBlock;
      std::string end;
      node->body = parse_body({"endset"}, &end, at);
      expect_block_end("endset");
      return node;
    }
    expect_operator("=");
    node->expr = parse_tuple_or_expression();
    expect_block_end("set");
    return node;
  }

  std::unique_ptr<Node> parse_macro(Position at) {
    auto node = make_node(Node::Kind::kMacro, at);
    node->text = expect_name();
    expect_operator("(");
    while (!accept_operator(")")) {
      if (!node->params.empty()) expect_operator(",");
      std::string name = expect_name();
      ExprPtr default_value;
      if (accept_operator("=")) default_value = parse_expression();
      node->params.emplace_back(std::move(name), std::move(default_value));
    }
    expect_block_end("macro");
    std::string end;
    const int saved_loops = loop_depth_;
    loop_depth_ = 0;
    node->body = parse_body({"endmacro"}, &end, at);
    loop_depth_ = saved_loops;
    if (peek().kind == TokenKind::kName) next();  // {% endmacro name %}
    expect_block_end("endmacro");
    return node;
  }

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
    const Position at = peek().position;
    ExprPtr first = parse_expression();
    if (!at_operator(",")) return first;
    auto list = make_expr(Expr::Kind::kList, at);
    list->items.push_back(std::move(first));
    while (accept_operator(",")) list->items.push_back(parse_expression());
    return list;
  }

  ExprPtr parse_expression(bool with_conditional = true) {
    const DepthGuard guard(*this, peek().position);
    ExprPtr e = parse_or();
    if (!with_conditional) return e;
    while (at_name("if")) {
      const Position at = next().position;
      auto cond = make_expr(Expr::Kind::kConditional, at);
      cond->items.push_back(parse_or());
      cond->items.push_back(std::move(e));
      cond->items.push_back(accept_name("else") ? parse_expression() : nullptr);
      e = grown(std::move(cond));
    }
    return e;
  }

  ExprPtr parse_or() {
    ExprPtr e = parse_and();
    while (at_name("or")) {
      const Position at = next().position;
      e = binary("or", std::move(e), parse_and(), at);
    }
    return e;
  }
  ExprPtr parse_and() {
    ExprPtr e = parse_not();
    while (at_name("and")) {
      const Position at = next().position;
      e = binary("and", std::move(e), parse_not(), at);
    }
    return e;
  }
  ExprPtr parse_not() {
    if (at_name("not")) {
      const DepthGuard guard(*this, peek().position);
      auto e = make_expr(Expr::Kind::kUnary, next().position);
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
      const Position at = peek().position;
      std::string op;
      if (peek().kind == TokenKind::kOperator && one_of(peek().text, {"==", "!=", "<", "<=", ">", ">="})) {
        op = next().text;
      } else if (at_name("in")) {
        next();
        op = "in";
      } else if (at_name("not") && at_name("in", 1)) {
        next();
        next();
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

  ExprPtr parse_math1() {
    ExprPtr e = parse_concat();
    while (at_operator("+") || at_operator("-")) {
      const Token& op = next();
      e = binary(op.text, std::move(e), parse_concat(), op.position);
    }
    return e;
  }
  ExprPtr parse_concat() {
    ExprPtr e = parse_math2();
    while (at_operator("~")) {
      const Position at = next().position;
      e = binary("~", std::move(e), parse_math2(), at);
    }
    return e;
  }
  ExprPtr parse_math2() {
    ExprPtr e = parse_pow();
    while (at_operator("*") || at_operator("/") || at_operator("//") || at_operator("%")) {
      const Token& op = next();
      e = binary(op.text, std::move(e), parse_pow(), op.position);
    }
    return e;
  }
  ExprPtr parse_pow() {
    ExprPtr e = parse_unary(true);
    while (at_operator("**")) {
      const Position at = next().position;
      e = binary("**", std::move(e), parse_unary(true), at);
    }
    return e;
  }
  ExprPtr parse_unary(bool with_filter) {
    const DepthGuard guard(*this, peek().position);
    ExprPtr e;
    if (at_operator("-") || at_operator("+")) {
      const Token& op = next();
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
    const Token& t = next();
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
        while (peek().kind == TokenKind::kString) text += next().text;  // adjacent literals join
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
    template_fail(t.position, "unexpected ", describe(t), " in an expression");
  }
  ExprPtr literal(Value v, Position at) {
    auto e = make_expr(Expr::Kind::kLiteral, at);
    e->value = std::move(v);
    return e;
  }
  ExprPtr parse_parenthesised(Position at) {
    if (accept_operator(")")) return make_expr(Expr::Kind::kList, at);  // ()
    ExprPtr e = parse_expression();
    if (!at_operator(",")) {
      expect_operator(")");
      return e;
    }
    auto tuple = make_expr(Expr::Kind::kList, at);
    tuple->items.push_back(std::move(e));
    while (accept_operator(",")) {
      if (at_operator(")")) break;
      tuple->items.push_back(parse_expression());
    }
    expect_operator(")");
    return tuple;
  }
  ExprPtr parse_list(Position at) {
    auto list = make_expr(Expr::Kind::kList, at);
    while (!accept_operator("]")) {
      if (!list->items.empty()) {
        expect_operator(",");
        if (accept_operator("]")) break;
      }
      list->items.push_back(parse_expression());
    }
    return list;
  }
  ExprPtr parse_dict(Position at) {
    auto dict = make_expr(Expr::Kind::kDict, at);
    while (!accept_operator("}")) {
      if (!dict->items.empty()) {
        expect_operator(",");
        if (accept_operator("}")) break;
      }
      dict->items.push_back(parse_expression());
      expect_operator(":");
      dict->items.push_back(parse_expression());
    }
    return dict;
  }

  ExprPtr parse_postfix(ExprPtr e) {
    while (true) {
      const Position at = peek().position;
      if (accept_operator(".")) {
        auto attr = make_expr(Expr::Kind::kAttribute, at);
        if (peek().kind == TokenKind::kInteger) {
          attr->kind = Expr::Kind::kSubscript;
          attr->items.push_back(std::move(e));
          attr->items.push_back(literal(Value(static_cast<int64_t>(std::stoll(next().text))), at));
        } else {
          attr->name = expect_name();
          attr->items.push_back(std::move(e));
        }
        e = grown(std::move(attr));
      } else if (accept_operator("[")) {
        e = grown(parse_subscript(std::move(e), at));
      } else if (at_operator("(")) {
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
      if (!at_operator(":") && !at_operator("]")) parts[part] = parse_expression();
      if (part < 2 && accept_operator(":")) {
        ++colons;
        continue;
      }
      break;
    }
    expect_operator("]");
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
    auto e = make_expr(kind, peek().position);
    e->name = std::move(name);
    e->items.push_back(std::move(first));
    if (!accept_operator("(")) return e;
    bool first_argument = true;
    while (!accept_operator(")")) {
      if (!first_argument) {
        expect_operator(",");
        if (accept_operator(")")) break;
      }
      first_argument = false;
      if (at_operator("*") || at_operator("**")) template_unsupported(peek().position, "argument unpacking with '*'");
      if (peek().kind == TokenKind::kName && at_operator("=", 1)) {
        std::string key = next().text;
        next();
        e->kwargs.emplace_back(std::move(key), parse_expression());
      } else {
        if (!e->kwargs.empty()) template_fail(peek().position, "a positional argument after a keyword argument");
        e->items.push_back(parse_expression());
      }
    }
    return e;
  }

  ExprPtr parse_filters(ExprPtr e) {
    while (true) {
      if (at_operator("|")) {
        next();
        const Position at = peek().position;
        std::string name = expect_name();
        e = grown(parse_call(std::move(e), Expr::Kind::kFilter, std::move(name)));
        e->position = at;
      } else if (at_name("is")) {
        next();
        const bool negated = accept_name("not");
        const Position at = peek().position;
        std::string name = expect_name();
        if (at_operator("(")) {
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
    const Token& t = peek();
    if (t.kind == TokenKind::kString || t.kind == TokenKind::kInteger || t.kind == TokenKind::kFloat) return true;
    if (t.kind == TokenKind::kName) return !one_of(t.text, {"else", "or", "and", "if", "in", "is", "not"});
    return t.kind == TokenKind::kOperator && (t.text == "[" || t.text == "{");
  }

  std::vector<Token> tokens_;
  size_t index_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

Body parse_template(std::string_view source) { return Parser(tokenize_template(source)).parse_all(); }

}  // namespace gptq::jinja
