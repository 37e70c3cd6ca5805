#include "generate/beam_slots.h"

#include <algorithm>

namespace gptq {
namespace {

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  const auto end = std::mismatch(a.begin(), a.begin() + std::min(a.size(), b.size()), b.begin());
  return static_cast<size_t>(end.first - a.begin());
}

}  // namespace

BeamSlots::BeamSlots(Context& context, int32_t first_slot, int32_t n_slots)
    : context_(context), first_slot_(first_slot), histories_(static_cast<size_t>(n_slots)) {
  for (int32_t s = 0; s < n_slots; ++s) context_.clear(first_slot + s);
}

void BeamSlots::prefilled(std::span<const int32_t> prompt) { history(first_slot_).assign(prompt.begin(), prompt.end()); }

std::vector<int32_t> BeamSlots::assign(std::span<const int32_t> parents, std::span<const int32_t> tokens) {
  const int32_t n_slots = static_cast<int32_t>(histories_.size());
  std::vector<int32_t> slots(parents.size(), -1);
  std::vector<bool> taken(histories_.size(), false);
  for (size_t i = 0; i < parents.size(); ++i) {
    if (!taken[parents[i] - first_slot_]) {
      slots[i] = parents[i];
      taken[parents[i] - first_slot_] = true;
    }
  }
  // Only slots no child kept are written, and none of them is a parent, so
  // every parent's cache is intact while its other children copy from it.
  for (size_t i = 0; i < parents.size(); ++i) {
    if (slots[i] >= 0) continue;
    const std::vector<int32_t>& parent = history(parents[i]);
    int32_t best = -1;
    size_t best_shared = 0;
    for (int32_t s = 0; s < n_slots; ++s) {
      if (taken[s]) continue;
      const size_t shared = common_prefix(histories_[s], parent);
      if (best < 0 || shared > best_shared) best = s, best_shared = shared;
    }
    taken[best] = true;
    slots[i] = first_slot_ + best;
    const auto end = static_cast<int32_t>(parent.size());
    context_.copy_positions(parents[i], slots[i], static_cast<int32_t>(best_shared), end);
    copied_ += end - static_cast<int64_t>(best_shared);
    histories_[best] = parent;
  }
  for (size_t i = 0; i < slots.size(); ++i) history(slots[i]).push_back(tokens[i]);
  return slots;
}

}  // namespace gptq
