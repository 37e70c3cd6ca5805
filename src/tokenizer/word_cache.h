// Remembers the ids of words already encoded. Real text repeats a small set
// of words, and a BPE merge costs far more than a lookup. Shared by every
// thread using the tokenizer: sharded so that they rarely wait on each other.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <vector>

#include "tokenizer/transparent_hash.h"

namespace gptq {

class WordCache {
 public:
  // Long words rarely repeat; skipping them keeps the cache small.
  static constexpr size_t kMaxWordBytes = 256;
  static constexpr size_t kMaxEntriesPerShard = 4096;

  // Appends the cached ids of `word` to `ids`; false when not cached.
  bool lookup(std::string_view word, std::vector<int32_t>& ids) const {
    if (word.size() > kMaxWordBytes) return false;
    Shard& shard = shard_of(word);
    std::lock_guard lock(shard.mutex);
    const auto it = shard.entries.find(word);
    if (it == shard.entries.end()) return false;
    ids.insert(ids.end(), it->second.begin(), it->second.end());
    return true;
  }

  // When full, new words are simply not remembered.
  void insert(std::string_view word, const int32_t* ids, size_t count) const {
    if (word.size() > kMaxWordBytes) return;
    Shard& shard = shard_of(word);
    std::lock_guard lock(shard.mutex);
    if (shard.entries.size() >= kMaxEntriesPerShard) return;
    shard.entries.emplace(std::string(word), std::vector<int32_t>(ids, ids + count));
  }

 private:
  struct Shard {
    std::mutex mutex;
    StringMap<std::vector<int32_t>> entries;
  };
  Shard& shard_of(std::string_view word) const { return shards_[StringHash{}(word) % shards_.size()]; }

  mutable std::array<Shard, 16> shards_;
};

}  // namespace gptq
