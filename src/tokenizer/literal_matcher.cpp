#include "tokenizer/literal_matcher.h"

#include <algorithm>

namespace gptq {

namespace {
constexpr uint32_t kNoChild = 0;  // the root is never anyone's child
}

uint32_t LiteralMatcher::child(uint32_t node, unsigned char byte) const {
  const auto& children = nodes_[node].children;
  const auto it = std::lower_bound(children.begin(), children.end(), byte,
                                   [](const auto& entry, unsigned char b) { return entry.first < b; });
  return it != children.end() && it->first == byte ? it->second : kNoChild;
}

void LiteralMatcher::add(std::string_view pattern) {
  const size_t index = pattern_count_++;
  if (pattern.empty()) return;
  first_byte_[static_cast<unsigned char>(pattern[0])] = true;
  uint32_t node = 0;
  for (const char c : pattern) {
    const auto byte = static_cast<unsigned char>(c);
    uint32_t next = child(node, byte);
    if (next == kNoChild) {
      next = static_cast<uint32_t>(nodes_.size());
      nodes_.emplace_back();
      auto& children = nodes_[node].children;
      const auto it = std::lower_bound(children.begin(), children.end(), byte,
                                       [](const auto& entry, unsigned char b) { return entry.first < b; });
      children.insert(it, {byte, next});
    }
    node = next;
  }
  // A repeated pattern keeps its first index, as the first definition wins.
  if (nodes_[node].pattern < 0) nodes_[node].pattern = static_cast<int64_t>(index);
}

std::vector<LiteralMatcher::Match> LiteralMatcher::find_all(std::string_view text) const {
  std::vector<Match> matches;
  if (pattern_count_ == 0) return matches;
  size_t pos = 0;
  while (pos < text.size()) {
    if (!first_byte_[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    uint32_t node = 0;
    size_t longest_end = 0;
    int64_t longest_pattern = -1;
    for (size_t i = pos; i < text.size(); ++i) {
      node = child(node, static_cast<unsigned char>(text[i]));
      if (node == kNoChild) break;
      if (nodes_[node].pattern >= 0) {
        longest_end = i + 1;
        longest_pattern = nodes_[node].pattern;
      }
    }
    if (longest_pattern < 0) {
      ++pos;
      continue;
    }
    matches.push_back({pos, longest_end, static_cast<size_t>(longest_pattern)});
    pos = longest_end;
  }
  return matches;
}

}  // namespace gptq
