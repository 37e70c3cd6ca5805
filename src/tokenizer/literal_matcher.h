// Finds a fixed set of strings in text, leftmost-longest and without overlap
// (the match order of Hugging Face's added-token automaton). The sets are
// small (special tokens), so a byte trie walked from each position is enough.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gptq {

class LiteralMatcher {
 public:
  struct Match {
    size_t begin;
    size_t end;
    size_t pattern;  // index in the order patterns were added
  };

  // Empty patterns are ignored (they would match everywhere).
  void add(std::string_view pattern);
  bool empty() const { return pattern_count_ == 0; }
  std::vector<Match> find_all(std::string_view text) const;

 private:
  struct Node {
    std::vector<std::pair<unsigned char, uint32_t>> children;  // sorted by byte
    int64_t pattern = -1;
  };
  uint32_t child(uint32_t node, unsigned char byte) const;

  std::vector<Node> nodes_{Node{}};
  bool first_byte_[256] = {};  // a cheap filter: most positions start no pattern
  size_t pattern_count_ = 0;
};

}  // namespace gptq
