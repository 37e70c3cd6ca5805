#include "tokenizer/text_split.h"

#include <algorithm>

#include "tokenizer/utf8.h"

namespace gptq {

TextPattern TextPattern::from_json(const JsonNode& pattern) {
  if (auto literal_text = pattern.optional_string("String")) return literal(*literal_text);
  if (auto regex_text = pattern.optional_string("Regex")) return regex(*regex_text, pattern.where());
  pattern.fail_format("should be {\"String\": ...} or {\"Regex\": ...} but is ", json_excerpt(pattern.json()));
}

TextPattern TextPattern::literal(std::string text) {
  TextPattern pattern;
  pattern.literal_ = std::move(text);
  return pattern;
}

TextPattern TextPattern::regex(std::string_view pattern_text, const std::string& where) {
  TextPattern pattern;
  pattern.regex_ = std::make_shared<const Regex>(pattern_text, where);
  return pattern;
}

std::vector<ByteRange> TextPattern::find_all(std::string_view text) const {
  if (regex_) return regex_->find_all(text);
  std::vector<ByteRange> matches;
  if (literal_.empty()) return matches;
  for (size_t pos = text.find(literal_); pos != std::string_view::npos; pos = text.find(literal_, pos)) {
    matches.emplace_back(pos, pos + literal_.size());
    pos += literal_.size();
  }
  return matches;
}

SplitBehavior split_behavior_from_json(const JsonNode& node, const char* key, SplitBehavior default_value) {
  const auto name = node.optional_string(key);
  if (!name) return default_value;
  static const std::pair<const char*, SplitBehavior> kNames[] = {
      {"Removed", SplitBehavior::kRemoved},
      {"Isolated", SplitBehavior::kIsolated},
      {"MergedWithPrevious", SplitBehavior::kMergedWithPrevious},
      {"MergedWithNext", SplitBehavior::kMergedWithNext},
      {"Contiguous", SplitBehavior::kContiguous},
  };
  for (const auto& [spelling, behavior] : kNames) {
    if (*name == spelling) return behavior;
  }
  node.fail_format("'", key, "' has the unknown split behavior '", *name, "'");
}

std::vector<MatchSpan> spans_of_matches(size_t text_size, const std::vector<ByteRange>& matches) {
  std::vector<MatchSpan> spans;
  spans.reserve(matches.size() * 2 + 1);
  size_t previous = 0;
  for (const auto& [begin, end] : matches) {
    if (previous != begin) spans.push_back({previous, begin, false});
    spans.push_back({begin, end, true});
    previous = end;
  }
  if (previous != text_size || spans.empty()) spans.push_back({previous, text_size, false});
  return spans;
}

std::vector<MatchSpan> spans_of_chars(std::string_view text, bool (*predicate)(char32_t)) {
  std::vector<ByteRange> matches;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t begin = pos;
    if (predicate(utf8::next_code_point(text, pos))) matches.emplace_back(begin, pos);
  }
  return spans_of_matches(text.size(), matches);
}

std::vector<ByteRange> split_spans(std::vector<MatchSpan> spans, SplitBehavior behavior, bool invert) {
  if (invert) {
    for (MatchSpan& span : spans) span.is_match = !span.is_match;
  }
  std::vector<ByteRange> pieces;
  pieces.reserve(spans.size());
  // The merging behaviors glue a span onto the piece before it; for
  // MergedWithNext that is done walking backwards.
  const auto merge_forward = [&](const auto& glue_to_previous, auto first, auto last) {
    bool previous_match = false;
    for (auto it = first; it != last; ++it) {
      if (glue_to_previous(it->is_match, previous_match) && !pieces.empty()) {
        if (behavior == SplitBehavior::kMergedWithNext) {
          pieces.back().first = it->begin;
        } else {
          pieces.back().second = it->end;
        }
      } else {
        pieces.emplace_back(it->begin, it->end);
      }
      previous_match = it->is_match;
    }
  };
  switch (behavior) {
    case SplitBehavior::kRemoved:
      for (const MatchSpan& span : spans) {
        if (!span.is_match) pieces.emplace_back(span.begin, span.end);
      }
      break;
    case SplitBehavior::kIsolated:
      for (const MatchSpan& span : spans) pieces.emplace_back(span.begin, span.end);
      break;
    case SplitBehavior::kMergedWithPrevious:
      merge_forward([](bool match, bool previous) { return match && !previous; }, spans.begin(), spans.end());
      break;
    case SplitBehavior::kMergedWithNext:
      merge_forward([](bool match, bool previous) { return match && !previous; }, spans.rbegin(), spans.rend());
      std::reverse(pieces.begin(), pieces.end());
      break;
    case SplitBehavior::kContiguous:
      merge_forward([](bool match, bool previous) { return match == previous; }, spans.begin(), spans.end());
      break;
  }
  std::erase_if(pieces, [](const ByteRange& piece) { return piece.first == piece.second; });
  return pieces;
}

}  // namespace gptq
