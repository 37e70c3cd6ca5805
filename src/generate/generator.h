// Generation for a batch of prompts: tokenize, prefill all prompts in shared
// batches, then decode every live sequence together one token per step,
// streaming text and stopping each sequence on its own (EOS, stop string,
// length, caller's request, full context).
//
// BatchGenerator is the step machine: each step() samples one token for
// every live sequence and reports them, so callers can either push tokens
// to a callback (generate()) or pull them one at a time (a C stream handle).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "generate/sampler.h"
#include "generate/text_stream.h"
#include "runtime/context.h"

namespace gptq {

enum class StopReason : int32_t { Length = 0, Eos = 1, StopString = 2, Callback = 3, ContextFull = 4 };

// transformers' early_stopping: when beam search may stop before max_new_tokens.
enum class EarlyStopping : int32_t {
  Heuristic = 0,  // False: once the best running beam, scored at its current length, cannot beat the finished ones
  True = 1,       // True: as soon as num_beams hypotheses are finished
  Never = 2,      // "never": only when no running beam can beat them at any length up to the maximum
};

struct BeamOptions {
  int32_t num_beams = 1;  // 1: no beam search (greedy or sampling)
  float length_penalty = 1.0f;
  EarlyStopping early_stopping = EarlyStopping::Heuristic;
  int32_t num_return_sequences = 1;  // per prompt, <= num_beams
};

struct GenerateOptions {
  SamplingParams sampling;
  BeamOptions beam;
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
  int32_t prompt_index = 0;  // the prompt it continues
  // Beam search's score: the sum of the tokens' log-probabilities divided by
  // (generated length)^length_penalty; NaN without beam search.
  double score = std::numeric_limits<double>::quiet_NaN();
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

// One sampled token and the text it released.
struct TokenEvent {
  int32_t sequence = 0;
  int32_t token = 0;
  std::string text;
  bool finished = false;  // the sequence stopped with this token
};

class BatchGenerator {
 public:
  // Uses sequences 0..prompts.size()-1 of the context, clearing them first.
  BatchGenerator(Context& context, std::vector<std::vector<int32_t>> prompts, const GenerateOptions& options);
  ~BatchGenerator();

  // Samples one token for every live sequence (running the prefill first)
  // and appends their events. Returns false once every sequence has stopped.
  bool step(std::vector<TokenEvent>* events);
  // Stops a sequence before its next token (the caller's request).
  void stop(int32_t sequence);
  bool done() const { return active_.empty(); }
  const GenerationResult& result() const { return result_; }
  GenerationResult take_result() { return std::move(result_); }

 private:
  struct Live;
  void prefill();
  void decode_active();

  Context& context_;
  GenerateOptions options_;
  const Tokenizer* tokenizer_;
  std::vector<std::unique_ptr<Live>> live_;
  std::vector<size_t> active_;
  std::vector<float> logits_;
  GenerationResult result_;
  bool prefilled_ = false;
};

// Tokenizes prompts as generation does (the tokenizer's BOS policy when
// add_special, special-token text parsed); empty results are an error.
std::vector<std::vector<int32_t>> tokenize_prompts(const Model& model, const std::vector<std::string>& prompts,
                                                   bool add_special);

// Checks the prompts and lengths of a generation that gives each prompt
// `sequences_per_prompt` sequences of the context.
void validate_prompts(const Context& context, const std::vector<std::vector<int32_t>>& prompts,
                      const GenerateOptions& options, int32_t sequences_per_prompt);

// Checks the beam settings of any generation (num_beams 1 included);
// GPTQ_ERR_INVALID_ARGUMENT naming the parameter.
void validate_beam_options(const BeamOptions& beam);

// Runs a BatchGenerator to the end, feeding options.on_token, or beam
// search (generate/beam_search.h) when options.beam.num_beams > 1.
GenerationResult generate(Context& context, const std::vector<std::string>& prompts, const GenerateOptions& options);
GenerationResult generate_from_tokens(Context& context, const std::vector<std::vector<int32_t>>& prompts,
                                      const GenerateOptions& options);

}  // namespace gptq
