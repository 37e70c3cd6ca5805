#include "chat/jinja_lexer.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "tokenizer/utf8.h"

namespace gptq::jinja {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Jinja2 reads templates with every line ending as "\n" and, without
// keep_trailing_newline, one final newline removed.
std::string normalize_newlines(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

class Lexer {
 public:
  explicit Lexer(std::string source) : source_(std::move(source)) {
    for (size_t i = 0; i < source_.size(); ++i) {
      if (source_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  std::vector<Token> run() {
    while (pos_ < source_.size()) {
      const size_t open = find_tag_open(pos_);
      const Position text_at = position_of(pos_);
      std::string text = source_.substr(pos_, open - pos_);
      if (open == source_.size()) {
        emit_text(std::move(text), text_at);
        break;
      }
      const char kind = source_[open + 1];
      const char sign = open + 2 < source_.size() ? source_[open + 2] : '\0';
      if (sign == '-') {
        text.erase(text.find_last_not_of(" \t\n\r\f\v") + 1);
      } else if (sign != '+' && kind != '{') {
        lstrip_block_line(text);
      }
      emit_text(std::move(text), text_at);
      pos_ = open + 2 + (sign == '-' || sign == '+' ? 1 : 0);
      if (kind == '#') {
        skip_comment(open);
      } else {
        lex_tag(open, kind == '{');
      }
    }
    tokens_.push_back({TokenKind::kEnd, "", position_of(source_.size())});
    return std::move(tokens_);
  }

 private:
  size_t find_tag_open(size_t from) const {
    for (size_t i = from; i + 1 < source_.size(); ++i) {
      if (source_[i] == '{' && (source_[i + 1] == '{' || source_[i + 1] == '%' || source_[i + 1] == '#')) return i;
    }
    return source_.size();
  }

  Position position_of(size_t offset) const {
    const auto next_line = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    const size_t line_start = *(next_line - 1);
    return {static_cast<int>(next_line - line_starts_.begin()), static_cast<int>(offset - line_start) + 1};
  }

  // lstrip_blocks: spaces and tabs from the start of the line to a block
  // tag go, if nothing else is on the line before it.
  void lstrip_block_line(std::string& text) const {
    const size_t newline = text.rfind('\n');
    const size_t line_start = newline == std::string::npos ? 0 : newline + 1;
    if (line_start == 0 && !line_starting_) return;
    if (std::all_of(text.begin() + static_cast<ptrdiff_t>(line_start), text.end(),
                    [](char c) { return c == ' ' || c == '\t' || c == '\f' || c == '\v' || c == '\r'; })) {
      text.erase(line_start);
    }
  }

  void emit_text(std::string text, Position at) {
    if (!text.empty()) tokens_.push_back({TokenKind::kText, std::move(text), at});
  }

  // After a tag: `-` strips all following whitespace; a block or comment
  // without `+` eats one newline (trim_blocks).
  void after_tag(char sign, bool trim_newline) {
    const size_t start = pos_;
    if (sign == '-') {
      while (pos_ < source_.size() && is_space(source_[pos_])) ++pos_;
    } else if (sign != '+' && trim_newline && pos_ < source_.size() && source_[pos_] == '\n') {
      ++pos_;
    }
    line_starting_ = pos_ > start ? source_[pos_ - 1] == '\n' : false;
  }

  void skip_comment(size_t open) {
    const size_t close = source_.find("#}", pos_);
    if (close == std::string::npos) template_fail(position_of(open), "unclosed comment: '{#' without '#}'");
    const char sign =
        close > pos_ && (source_[close - 1] == '-' || source_[close - 1] == '+') ? source_[close - 1] : '\0';
    pos_ = close + 2;
    after_tag(sign, true);
  }

  void lex_tag(size_t open, bool variable) {
    const char close_char = variable ? '}' : '%';
    tokens_.push_back({variable ? TokenKind::kVariableBegin : TokenKind::kBlockBegin, "", position_of(open)});
    // As Jinja2's lexer does, "}}" inside brackets closes a dict, not the tag.
    int open_brackets = 0;
    while (true) {
      while (pos_ < source_.size() && is_space(source_[pos_])) ++pos_;
      if (pos_ >= source_.size()) {
        template_fail(position_of(open), "unclosed tag: '", variable ? "{{" : "{%", "' without '", close_char, "}'");
      }
      char sign = '\0';
      if (open_brackets <= 0 && (source_[pos_] == '-' || source_[pos_] == '+') &&
          source_.compare(pos_ + 1, 2, std::string{close_char, '}'}) == 0) {
        sign = source_[pos_++];
      }
      if (open_brackets <= 0 && source_.compare(pos_, 2, std::string{close_char, '}'}) == 0) {
        tokens_.push_back({variable ? TokenKind::kVariableEnd : TokenKind::kBlockEnd, "", position_of(pos_)});
        pos_ += 2;
        after_tag(sign, !variable);
        return;
      }
      lex_expression_token();
      const Token& last = tokens_.back();
      if (last.kind == TokenKind::kOperator && last.text.size() == 1) {
        if (std::string_view("([{").find(last.text[0]) != std::string_view::npos) ++open_brackets;
        if (std::string_view(")]}").find(last.text[0]) != std::string_view::npos) --open_brackets;
      }
    }
  }

  void lex_expression_token() {
    const Position at = position_of(pos_);
    const char c = source_[pos_];
    if (c == '\'' || c == '"') return lex_string(at);
    if (is_digit(c)) return lex_number(at);
    if (is_name_start(c)) {
      const size_t start = pos_;
      while (pos_ < source_.size() && is_name_char(source_[pos_])) ++pos_;
      tokens_.push_back({TokenKind::kName, source_.substr(start, pos_ - start), at});
      return;
    }
    static constexpr std::array<const char*, 6> kTwoChar = {"**", "//", "==", "!=", "<=", ">="};
    for (const char* op : kTwoChar) {
      if (source_.compare(pos_, 2, op) == 0) {
        tokens_.push_back({TokenKind::kOperator, op, at});
        pos_ += 2;
        return;
      }
    }
    if (std::string_view("+-*/%~<>=()[]{}.,:|").find(c) != std::string_view::npos) {
      tokens_.push_back({TokenKind::kOperator, std::string(1, c), at});
      ++pos_;
      return;
    }
    template_fail(at, "unexpected character '", c, "'");
  }

  void lex_number(Position at) {
    const size_t start = pos_;
    auto digits = [&] {
      while (pos_ < source_.size() && (is_digit(source_[pos_]) || source_[pos_] == '_')) ++pos_;
    };
    digits();
    bool is_float = false;
    if (pos_ + 1 < source_.size() && source_[pos_] == '.' && is_digit(source_[pos_ + 1])) {
      is_float = true;
      ++pos_;
      digits();
    }
    if (pos_ < source_.size() && (source_[pos_] == 'e' || source_[pos_] == 'E')) {
      size_t p = pos_ + 1;
      if (p < source_.size() && (source_[p] == '+' || source_[p] == '-')) ++p;
      if (p < source_.size() && is_digit(source_[p])) {
        is_float = true;
        pos_ = p;
        digits();
      }
    }
    std::string text = source_.substr(start, pos_ - start);
    std::erase(text, '_');
    tokens_.push_back({is_float ? TokenKind::kFloat : TokenKind::kInteger, std::move(text), at});
  }

  // Python's string escapes, which Jinja2 decodes with "unicode-escape".
  void lex_string(Position at) {
    const char quote = source_[pos_++];
    std::string value;
    while (true) {
      if (pos_ >= source_.size()) template_fail(at, "unterminated string literal");
      const char c = source_[pos_++];
      if (c == quote) break;
      if (c != '\\' || pos_ >= source_.size()) {
        value += c;
        continue;
      }
      const char e = source_[pos_++];
      switch (e) {
        case 'n': value += '\n'; break;
        case 't': value += '\t'; break;
        case 'r': value += '\r'; break;
        case 'b': value += '\b'; break;
        case 'f': value += '\f'; break;
        case 'v': value += '\v'; break;
        case 'a': value += '\a'; break;
        case '0': value += '\0'; break;
        case '\\':
        case '\'':
        case '"': value += e; break;
        case '\n': break;
        case 'x':
        case 'u':
        case 'U': {
          const size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (pos_ + n > source_.size()) template_fail(at, "truncated \\", e, " escape in a string literal");
          const std::string hex = source_.substr(pos_, n);
          if (!std::all_of(hex.begin(), hex.end(),
                           [](char h) { return std::isxdigit(static_cast<unsigned char>(h)); })) {
            template_fail(at, "malformed \\", e, " escape in a string literal");
          }
          const unsigned long cp = std::stoul(hex, nullptr, 16);
          if (cp > 0x10FFFF) template_fail(at, "\\", e, hex, " is not a Unicode code point");
          utf8::append_code_point(value, static_cast<char32_t>(cp));
          pos_ += n;
          break;
        }
        default: value += '\\'; value += e;
      }
    }
    tokens_.push_back({TokenKind::kString, std::move(value), at});
  }

  std::string source_;
  std::vector<size_t> line_starts_{0};
  size_t pos_ = 0;
  bool line_starting_ = true;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize_template(std::string_view source) { return Lexer(normalize_newlines(source)).run(); }

}  // namespace gptq::jinja
