// tokenizer.json "added_tokens": strings matched in the input before the
// model sees it (special tokens like <|im_end|>, and plain added words).
// Matching follows tokenizers' AddedVocabulary: leftmost-longest, with the
// lstrip / rstrip / single_word options; tokens flagged "normalized" are
// looked for in the normalized text, the others in the raw input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/json_node.h"
#include "tokenizer/literal_matcher.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/transparent_hash.h"

namespace gptq {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
};

// A stretch of input: an added token, or text for the model (token < 0).
struct InputSegment {
  int32_t token;
  size_t begin;
  size_t end;
};

class AddedVocabulary {
 public:
  // `normalizer` (may be null) spells the normalized tokens as they will
  // appear in normalized text.
  AddedVocabulary(const JsonNode& added_tokens, const Normalizer* normalizer);

  // With parse_special false, special tokens are left in the text.
  std::vector<InputSegment> split_raw(std::string_view text, bool parse_special) const {
    return split(text, parse_special ? raw_ : raw_plain_);
  }
  std::vector<InputSegment> split_normalized(std::string_view text, bool parse_special) const {
    return split(text, parse_special ? normalized_ : normalized_plain_);
  }

  const AddedToken* find(int32_t id) const;
  std::optional<int32_t> id_of(std::string_view content) const;
  // One past the largest added id (0 when there are none).
  int32_t id_limit() const { return id_limit_; }

 private:
  struct TokenMatcher {
    LiteralMatcher matcher;
    std::vector<size_t> token_index;  // matcher pattern -> tokens_ index
  };
  std::vector<InputSegment> split(std::string_view text, const TokenMatcher& set) const;

  std::vector<AddedToken> tokens_;
  std::unordered_map<int32_t, size_t> by_id_;
  StringMap<int32_t> by_content_;
  TokenMatcher raw_, raw_plain_, normalized_, normalized_plain_;
  int32_t id_limit_ = 0;
};

}  // namespace gptq
