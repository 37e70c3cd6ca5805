// tokenizer.json "model" of type BPE: the vocabulary, the ranked merges and
// the per-word merging (lowest rank first, leftmost on ties).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/json_node.h"
#include "tokenizer/transparent_hash.h"
#include "tokenizer/word_cache.h"

namespace gptq {

class BpeModel {
 public:
  // GPTQ_ERR_FORMAT for a malformed vocabulary or merge list,
  // GPTQ_ERR_UNSUPPORTED for models other than BPE.
  explicit BpeModel(const JsonNode& model);

  // Appends the ids of one pre-tokenized word.
  void encode_word(std::string_view word, std::vector<int32_t>& ids) const;

  // One past the largest id.
  int32_t size() const { return static_cast<int32_t>(tokens_.size()); }
  // nullptr for an id that the vocabulary skips.
  const std::string* token_text(int32_t id) const;
  std::optional<int32_t> token_id(std::string_view text) const;

 private:
  struct MergeResult {
    uint32_t rank;
    int32_t id;
  };
  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }

  void load_vocab(const JsonNode& vocab);
  void load_merges(const JsonNode& merges);
  // The word's characters as initial symbols (with byte fallback / unk).
  void initial_symbols(std::string_view word, std::vector<int32_t>& ids) const;
  void merge(std::vector<int32_t>& ids) const;

  StringMap<int32_t> vocab_;
  std::vector<std::string> tokens_;
  std::vector<bool> has_token_;
  std::unordered_map<uint64_t, MergeResult> merges_;
  std::optional<int32_t> unk_id_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  std::array<int32_t, 256> byte_token_ids_{};  // "<0x41>" and so on, -1 when absent
  WordCache cache_;
};

}  // namespace gptq
