// How the Hugging Face components find things in text and cut it up: a
// pattern ({"String": ...} or {"Regex": ...}) and the split behaviors
// (Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/json_node.h"
#include "tokenizer/regex.h"

namespace gptq {

using ByteRange = std::pair<size_t, size_t>;  // [begin, end)

class TextPattern {
 public:
  // The value of a "pattern" key.
  static TextPattern from_json(const JsonNode& pattern);
  static TextPattern literal(std::string text);
  static TextPattern regex(std::string_view pattern, const std::string& where);

  // Non-overlapping matches, left to right.
  std::vector<ByteRange> find_all(std::string_view text) const;

 private:
  std::string literal_;
  std::shared_ptr<const Regex> regex_;
};

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };
SplitBehavior split_behavior_from_json(const JsonNode& node, const char* key, SplitBehavior default_value);

struct MatchSpan {
  size_t begin;
  size_t end;
  bool is_match;
};

// The whole text as alternating non-match / match spans.
std::vector<MatchSpan> spans_of_matches(size_t text_size, const std::vector<ByteRange>& matches);
// Every character for which `predicate` holds is a match of its own.
std::vector<MatchSpan> spans_of_chars(std::string_view text, bool (*predicate)(char32_t));

// The pieces to keep, as tokenizers' NormalizedString::split makes them
// (empty pieces dropped); `invert` swaps what counts as a match.
std::vector<ByteRange> split_spans(std::vector<MatchSpan> spans, SplitBehavior behavior, bool invert = false);

}  // namespace gptq
