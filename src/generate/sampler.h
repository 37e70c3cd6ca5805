// Picks the next token from logits: repetition penalty, then temperature,
// top-k, top-p and min-p, in the order transformers applies them, so that
// the same settings mean the same thing here as there.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "generate/rng.h"

namespace gptq {

struct SamplingParams {
  float temperature = 0.0f;  // <= 0: greedy
  int32_t top_k = 0;         // 0: off
  float top_p = 1.0f;        // >= 1: off
  float min_p = 0.0f;        // 0: off
  float repetition_penalty = 1.0f;
  int32_t repetition_last_n = 0;  // 0: the whole history
};

// Checks ranges; GPTQ_ERR_INVALID_ARGUMENT naming the parameter.
void validate_sampling(const SamplingParams& params);

class Sampler {
 public:
  Sampler(const SamplingParams& params, uint64_t seed) : params_(params), rng_(seed) {}

  // `logits` is modified (penalty, temperature). `history` is the sequence
  // so far (prompt and generated tokens), for the repetition penalty.
  int32_t sample(std::span<float> logits, std::span<const int32_t> history);

 private:
  void apply_repetition_penalty(std::span<float> logits, std::span<const int32_t> history);

  SamplingParams params_;
  Rng rng_;
  std::vector<std::pair<float, int32_t>> candidates_;
  std::vector<uint8_t> penalised_;
};

}  // namespace gptq
