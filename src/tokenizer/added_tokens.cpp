#include "tokenizer/added_tokens.h"

#include <algorithm>

#include "tokenizer/utf8.h"

namespace gptq {
namespace {

bool ends_with_word_char(std::string_view text) {
  if (text.empty()) return false;
  size_t begin = utf8::previous_boundary(text, text.size());
  return utf8::is_word_char(utf8::next_code_point(text, begin));
}

bool starts_with_word_char(std::string_view text) {
  size_t pos = 0;
  return !text.empty() && utf8::is_word_char(utf8::next_code_point(text, pos));
}

// Where the whitespace at the end of text[0, end) begins.
size_t start_of_trailing_space(std::string_view text, size_t end) {
  while (end > 0) {
    const size_t char_start = utf8::previous_boundary(text, end);
    size_t pos = char_start;
    if (!utf8::is_whitespace(utf8::next_code_point(text, pos))) break;
    end = char_start;
  }
  return end;
}

// Where the whitespace starting at `begin` ends.
size_t end_of_leading_space(std::string_view text, size_t begin) {
  size_t pos = begin;
  while (pos < text.size()) {
    const size_t before = pos;
    if (!utf8::is_whitespace(utf8::next_code_point(text, pos))) return before;
  }
  return pos;
}

}  // namespace

AddedVocabulary::AddedVocabulary(const JsonNode& added_tokens, const Normalizer* normalizer) {
  for (const JsonNode& entry : added_tokens.elements()) {
    AddedToken token;
    const int64_t id = entry.integer("id");
    // id_limit_ is id + 1, so INT32_MAX itself would overflow it.
    if (id < 0 || id >= INT32_MAX) entry.fail_format("'id' ", id, " is out of range");
    token.id = static_cast<int32_t>(id);
    token.content = entry.string("content");
    token.special = entry.boolean("special", false);
    token.single_word = entry.boolean("single_word", false);
    token.lstrip = entry.boolean("lstrip", false);
    token.rstrip = entry.boolean("rstrip", false);
    token.normalized = entry.boolean("normalized", !token.special);
    by_id_.emplace(token.id, tokens_.size());
    by_content_.emplace(token.content, token.id);
    id_limit_ = std::max(id_limit_, token.id + 1);
    tokens_.push_back(std::move(token));
  }
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& token = tokens_[i];
    std::string spelling = token.content;
    if (token.normalized && normalizer != nullptr) normalizer->apply(spelling);
    TokenMatcher& with_specials = token.normalized ? normalized_ : raw_;
    TokenMatcher& without_specials = token.normalized ? normalized_plain_ : raw_plain_;
    with_specials.matcher.add(spelling);
    with_specials.token_index.push_back(i);
    if (!token.special) {
      without_specials.matcher.add(spelling);
      without_specials.token_index.push_back(i);
    }
  }
}

const AddedToken* AddedVocabulary::find(int32_t id) const {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

std::optional<int32_t> AddedVocabulary::id_of(std::string_view content) const {
  const auto it = by_content_.find(content);
  if (it == by_content_.end()) return std::nullopt;
  return it->second;
}

std::vector<InputSegment> AddedVocabulary::split(std::string_view text, const TokenMatcher& set) const {
  std::vector<InputSegment> segments;
  size_t done = 0;
  for (const LiteralMatcher::Match& match : set.matcher.find_all(text)) {
    if (match.begin < done) continue;  // inside whitespace an rstrip already took
    const AddedToken& token = tokens_[set.token_index[match.pattern]];
    size_t begin = match.begin, end = match.end;
    if (token.single_word &&
        (ends_with_word_char(text.substr(0, begin)) || starts_with_word_char(text.substr(end)))) {
      continue;
    }
    if (token.lstrip) begin = std::max(start_of_trailing_space(text, begin), done);
    if (token.rstrip) end = end_of_leading_space(text, end);
    if (done < begin) segments.push_back({-1, done, begin});
    segments.push_back({token.id, begin, end});
    done = end;
  }
  if (done < text.size()) segments.push_back({-1, done, text.size()});
  return segments;
}

}  // namespace gptq
