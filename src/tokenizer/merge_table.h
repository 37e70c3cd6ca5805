// The BPE merge rules keyed by the (left id, right id) pair: an open-
// addressing table, as the lookup is the innermost step of encoding and a
// node-based map spends most of that time chasing pointers.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

namespace gptq {

class MergeTable {
 public:
  struct Result {
    uint32_t rank;
    int32_t id;  // the merged token
  };

  void reserve(size_t n) {
    const size_t capacity = std::bit_ceil(std::max<size_t>(16, n * 2));
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{kEmpty, {}});
    shift_ = 64 - std::countr_zero(capacity);
    size_ = 0;
    for (const Slot& slot : old) {
      if (slot.key != kEmpty) insert_or_assign(slot.key, slot.result);
    }
  }

  // Ids are never negative, so no real pair has the all-ones key.
  static uint64_t key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }

  void insert_or_assign(uint64_t key, Result result) {
    if ((size_ + 1) * 2 > slots_.size()) reserve(size_ + 1);
    Slot& slot = slots_[probe(key)];
    if (slot.key == kEmpty) ++size_;
    slot = {key, result};
  }

  const Result* find(int32_t left, int32_t right) const {
    if (slots_.empty()) return nullptr;
    const Slot& slot = slots_[probe(key(left, right))];
    return slot.key == kEmpty ? nullptr : &slot.result;
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  struct Slot {
    uint64_t key;
    Result result;
  };

  // The slot holding `key`, or the empty slot where it would go.
  size_t probe(uint64_t key) const {
    const size_t mask = slots_.size() - 1;
    // Fibonacci hashing: the top bits of the product are well mixed.
    size_t index = static_cast<size_t>((key * 0x9E3779B97F4A7C15ULL) >> shift_);
    while (slots_[index].key != kEmpty && slots_[index].key != key) index = (index + 1) & mask;
    return index;
  }

  std::vector<Slot> slots_;
  int shift_ = 64;
  size_t size_ = 0;
};

}  // namespace gptq
