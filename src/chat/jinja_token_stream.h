// The parser's view of the tokens: lookahead, matching and the errors for
// what was expected, plus the bound on recursion both parsers share.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <string>
#include <vector>

#include "chat/jinja_lexer.h"

namespace gptq::jinja {

inline bool one_of(const std::string& s, std::initializer_list<const char*> options) {
  for (const char* o : options) {
    if (s == o) return true;
  }
  return false;
}

class TokenStream {
 public:
  explicit TokenStream(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  // Keeps recursion (nested blocks, parenthesised expressions) bounded.
  struct DepthGuard {
    DepthGuard(TokenStream& stream, Position at) : stream(stream) {
      if (++stream.depth_ > kMaxNesting) template_fail(at, "nesting deeper than ", kMaxNesting, " levels");
    }
    ~DepthGuard() { --stream.depth_; }
    TokenStream& stream;
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

 private:
  std::vector<Token> tokens_;
  size_t index_ = 0;
  int depth_ = 0;
};

}  // namespace gptq::jinja
