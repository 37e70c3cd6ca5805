// Generation for a batch of prompts: tokenize, prefill all prompts in shared
// batches, then decode every live sequence together one token per step,
// streaming text and stopping each sequence on its own (EOS, stop string,
// length, callback, full context).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "generate/sampler.h"
#include "runtime/context.h"

namespace gptq {

enum class StopReason : int32_t { Length = 0, Eos = 1, StopString = 2, Callback = 3, ContextFull = 4 };

struct GenerateOptions {
  SamplingParams sampling;
  uint64_t seed = 0;  // prompt i samples with seed + i
  int32_t max_new_tokens = 128;
  bool add_special = true;
  bool stop_on_eos = true;
  std::vector<std::string> stop_strings;
  // (sequence, token, released text) -> false to stop that sequence.
  std::function<bool(int32_t, int32_t, std::string_view)> on_token;
};

struct SequenceResult {
  std::vector<int32_t> prompt_tokens;
  std::vector<int32_t> tokens;  // generated, the end-of-generation token included
  std::string text;             // generated text, without special tokens, cut before a stop string
  StopReason stop = StopReason::Length;
};

struct GenerationTimings {
  int64_t prompt_tokens = 0;
  double prompt_seconds = 0;
  int64_t generated_tokens = 0;
  double generate_seconds = 0;
};

struct GenerationResult {
  std::vector<SequenceResult> sequences;
  GenerationTimings timings;
};

// Uses sequences 0..prompts.size()-1 of the context, clearing them first.
GenerationResult generate(Context& context, const std::vector<std::string>& prompts, const GenerateOptions& options);

// The same from token ids (no tokenization; add_special is ignored).
GenerationResult generate_from_tokens(Context& context, const std::vector<std::vector<int32_t>>& prompts,
                                      const GenerateOptions& options);

}  // namespace gptq
