#include "chat/jinja_parser.h"

#include "chat/jinja_expression_parser.h"
#include "chat/jinja_token_stream.h"

namespace gptq::jinja {
namespace {

// Statements: text, {{ output }}, and the block tags.
class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Body parse_all() {
    std::string no_end_tag;
    return parse_body({}, &no_end_tag);
  }

 private:
  // Statements up to a block tag named in `ends` (its name goes to
  // *end_tag, its tokens after the name are left to the caller).
  Body parse_body(std::initializer_list<const char*> ends, std::string* end_tag, Position opened_at = {}) {
    Body body;
    while (true) {
      const Token& t = tokens_.peek();
      if (t.kind == TokenKind::kEnd) {
        if (ends.size() == 0) return body;
        template_fail(opened_at, "unclosed block: expected '{% ", *(ends.end() - 1),
                      " %}' before the end of the template");
      }
      if (t.kind == TokenKind::kText) {
        auto node = make_node(Node::Kind::kText, t.position);
        node->text = tokens_.next().text;
        body.push_back(std::move(node));
      } else if (t.kind == TokenKind::kVariableBegin) {
        auto node = make_node(Node::Kind::kOutput, tokens_.next().position);
        node->expr = parse_expression(tokens_);
        if (tokens_.peek().kind != TokenKind::kVariableEnd) {
          template_fail(tokens_.peek().position, "expected '}}' but found ", tokens_.describe(tokens_.peek()));
        }
        tokens_.next();
        body.push_back(std::move(node));
      } else if (t.kind == TokenKind::kBlockBegin) {
        const Position at = tokens_.next().position;
        if (tokens_.peek().kind != TokenKind::kName)
          template_fail(tokens_.peek().position, "expected a tag name after '{%'");
        const std::string& tag = tokens_.peek().text;
        for (const char* end : ends) {
          if (tag == end) {
            *end_tag = tokens_.next().text;
            return body;
          }
        }
        body.push_back(parse_statement(at));
      } else {
        template_fail(t.position, "unexpected ", tokens_.describe(t));
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
    const TokenStream::DepthGuard guard(tokens_, at);
    const Token& tag_token = tokens_.next();
    const std::string tag = tag_token.text;
    if (tag == "if") return parse_if(at);
    if (tag == "for") return parse_for(at);
    if (tag == "set") return parse_set(at);
    if (tag == "macro") return parse_macro(at);
    if (tag == "break" || tag == "continue") {
      tokens_.expect_block_end(tag.c_str());
      if (loop_depth_ == 0) template_fail(at, "'", tag, "' outside a for loop");
      return make_node(tag == "break" ? Node::Kind::kBreak : Node::Kind::kContinue, at);
    }
    if (tag == "generation") {
      tokens_.expect_block_end("generation");
      auto node = make_node(Node::Kind::kWrapper, at);
      std::string end;
      node->body = parse_body({"endgeneration"}, &end, at);
      tokens_.expect_block_end("endgeneration");
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
    ExprPtr condition = parse_expression(tokens_);
    tokens_.expect_block_end("if");
    while (true) {
      std::string end;
      Body body = parse_body({"elif", "else", "endif"}, &end, at);
      node->branches.emplace_back(std::move(condition), std::move(body));
      if (end == "elif") {
        condition = parse_expression(tokens_);
        tokens_.expect_block_end("elif");
        continue;
      }
      if (end == "else") {
        tokens_.expect_block_end("else");
        node->else_body = parse_body({"endif"}, &end, at);
      }
      tokens_.expect_block_end("endif");
      return node;
    }
  }

  std::unique_ptr<Node> parse_for(Position at) {
    auto node = make_node(Node::Kind::kFor, at);
    do {
      node->targets.push_back(tokens_.expect_name());
    } while (tokens_.accept_operator(","));
    if (!tokens_.accept_name("in"))
      template_fail(tokens_.peek().position, "expected 'in' in a for loop but found ",
                    tokens_.describe(tokens_.peek()));
    node->expr = parse_expression(tokens_, false);
    if (tokens_.accept_name("if")) node->filter = parse_expression(tokens_, false);
    if (tokens_.at_name("recursive")) template_unsupported(tokens_.peek().position, "a recursive for loop");
    tokens_.expect_block_end("for");
    std::string end;
    ++loop_depth_;
    node->body = parse_body({"else", "endfor"}, &end, at);
    --loop_depth_;
    if (end == "else") {
      tokens_.expect_block_end("else");
      node->else_body = parse_body({"endfor"}, &end, at);
    }
    tokens_.expect_block_end("endfor");
    return node;
  }

  std::unique_ptr<Node> parse_set(Position at) {
    auto node = make_node(Node::Kind::kSet, at);
    node->targets.push_back(tokens_.expect_name());
    if (tokens_.accept_operator(".")) {
      node->attribute = tokens_.expect_name();
    } else {
      while (tokens_.accept_operator(",")) node->targets.push_back(tokens_.expect_name());
    }
    if (tokens_.peek().kind == TokenKind::kBlockEnd && node->attribute.empty() && node->targets.size() == 1) {
      tokens_.next();
      node->kind = Node::Kind::kSetBlock;
      std::string end;
      node->body = parse_body({"endset"}, &end, at);
      tokens_.expect_block_end("endset");
      return node;
    }
    tokens_.expect_operator("=");
    node->expr = parse_tuple_or_expression(tokens_);
    tokens_.expect_block_end("set");
    return node;
  }

  std::unique_ptr<Node> parse_macro(Position at) {
    auto node = make_node(Node::Kind::kMacro, at);
    node->text = tokens_.expect_name();
    tokens_.expect_operator("(");
    while (!tokens_.accept_operator(")")) {
      if (!node->params.empty()) tokens_.expect_operator(",");
      std::string name = tokens_.expect_name();
      ExprPtr default_value;
      if (tokens_.accept_operator("=")) default_value = parse_expression(tokens_);
      node->params.emplace_back(std::move(name), std::move(default_value));
    }
    tokens_.expect_block_end("macro");
    std::string end;
    const int saved_loops = loop_depth_;
    loop_depth_ = 0;
    node->body = parse_body({"endmacro"}, &end, at);
    loop_depth_ = saved_loops;
    if (tokens_.peek().kind == TokenKind::kName) tokens_.next();  // {% endmacro name %}
    tokens_.expect_block_end("endmacro");
    return node;
  }

  TokenStream tokens_;
  int loop_depth_ = 0;
};

}  // namespace

Body parse_template(std::string_view source) { return Parser(tokenize_template(source)).parse_all(); }

}  // namespace gptq::jinja
