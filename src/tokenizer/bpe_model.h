// tokenizer.json "model" of type BPE: the vocabulary, the ranked merges and
// the per-word merging (lowest rank first, leftmost on ties).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/json_node.h"
#include "tokenizer/merge_table.h"
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
  void load_vocab(const JsonNode& vocab);
  void load_merges(const JsonNode& merges);
  // The word's characters as initial symbols (with byte fallback / unk).
  void initial_symbols(std::string_view word, std::vector<int32_t>& ids) const;
  struct MergeCandidate {
    uint32_t rank;
    uint32_t pos;
    int32_t id;
  };
  // Orders the queue lowest rank first, then leftmost.
  struct LaterCandidate {
    bool operator()(const MergeCandidate& a, const MergeCandidate& b) const {
      return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
    }
  };
  // Buffers reused across the runs of one word.
  struct MergeScratch {
    std::vector<int32_t> prev, next;
    std::vector<bool> alive;
    std::priority_queue<MergeCandidate, std::vector<MergeCandidate>, LaterCandidate> queue;
  };
  void merge(std::vector<int32_t>& ids) const;
  // Merges ids[begin, end) and writes the result from ids[out]; returns the new end.
  size_t merge_run(std::vector<int32_t>& ids, size_t begin, size_t end, size_t out, MergeScratch& scratch) const;

  StringMap<int32_t> vocab_;
  std::vector<std::string> tokens_;
  std::vector<bool> has_token_;
  MergeTable merges_;
  std::vector<bool> in_merge_rule_;  // by id: appears on either side of a merge
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
