// The KV cache of one prompt's beams: each beam lives in one sequence
// ("slot") of the context, and a step's reorder copies only the positions
// where a beam's new history differs from what its slot already holds.
//
// Why slots and a suffix copy rather than per-beam block tables: every
// attention kernel (CPU and GPU) reads a sequence's keys as one contiguous
// [kv_head][position] run (backend.h's KvLayer), and a block table would
// change all of them and the forward pass for the sake of one caller. Beams
// of one prompt share the prompt and usually all but their last few
// tokens, so the positions that differ are few: a beam whose parent lives
// in another slot gets the slot with the longest common prefix with the
// parent and a copy of the parent's positions from there on, on the
// device (Context::copy_positions, no host round trip). The first child of
// each parent keeps the parent's slot and copies nothing. The prompt is
// evaluated once, in the first slot; the others receive its positions by
// that same copy when the first step fans out, and never again.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "runtime/context.h"

namespace gptq {

class BeamSlots {
 public:
  // Slots first_slot .. first_slot + n_slots - 1 of the context, cleared.
  BeamSlots(Context& context, int32_t first_slot, int32_t n_slots);

  int32_t first_slot() const { return first_slot_; }
  // Records that the prompt was evaluated in the first slot.
  void prefilled(std::span<const int32_t> prompt);
  // Gives each continuing beam i (the child of the beam in parents[i],
  // extended by tokens[i]) a slot whose cache holds the parent's whole
  // history; the caller then evaluates tokens[i] there. Returns the slots.
  // Every parent must have been evaluated to its last token.
  std::vector<int32_t> assign(std::span<const int32_t> parents, std::span<const int32_t> tokens);
  // Positions copied so far (tests: the sharing is real).
  int64_t copied_positions() const { return copied_; }

 private:
  std::vector<int32_t>& history(int32_t slot) { return histories_[slot - first_slot_]; }

  Context& context_;
  int32_t first_slot_;
  // What each slot's cache holds, token by token (its first seq_length positions).
  std::vector<std::vector<int32_t>> histories_;
  int64_t copied_ = 0;
};

}  // namespace gptq
