#include "generate/beam_search.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>

#include "core/error.h"
#include "generate/beam_hypotheses.h"
#include "generate/beam_slots.h"

namespace gptq {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Scores are summed in fp32, as transformers sums its fp32 log-softmax, so
// that near-ties resolve the same way; the length penalty is applied in double.
struct Beam {
  std::vector<int32_t> tokens;  // generated
  float score = 0;              // sum of the tokens' log-probabilities
  int32_t slot = 0;
};

struct Candidate {
  float score = 0;
  int32_t beam = 0;
  int32_t token = 0;
};

// transformers' order: higher score first, then the lower flat index
// (beam * vocab + token).
bool ranks_before(const Candidate& a, const Candidate& b) {
  if (a.score != b.score) return a.score > b.score;
  return a.beam != b.beam ? a.beam < b.beam : a.token < b.token;
}

void refuse_unsupported(const GenerateOptions& options) {
  const SamplingParams& s = options.sampling;
  if (s.temperature > 0 || s.top_k > 0 || s.top_p < 1 || s.min_p > 0) {
    fail(GPTQ_ERR_UNSUPPORTED, "beam search does not sample: leave temperature, top_k, top_p and min_p at their "
         "defaults with num_beams ", options.beam.num_beams, " (beam sampling is not supported)");
  }
  if (s.repetition_penalty != 1.0f) {
    fail(GPTQ_ERR_UNSUPPORTED, "repetition_penalty is not supported with beam search (num_beams ",
         options.beam.num_beams, ")");
  }
  if (!options.stop_strings.empty()) fail(GPTQ_ERR_UNSUPPORTED, "stop strings are not supported with beam search");
  if (options.on_token) {
    fail(GPTQ_ERR_UNSUPPORTED, "the token callback is not supported with beam search: a beam's tokens are final "
         "only when the search ends");
  }
}

// The search of one prompt.
struct PromptSearch {
  PromptSearch(Context& context, int32_t index, const std::vector<int32_t>& prompt_tokens, const BeamOptions& beam,
               int32_t max_generated)
      : prompt_index(index),
        prompt(prompt_tokens),
        slots(context, index * beam.num_beams, beam.num_beams),
        finished(beam.num_beams),
        max_generated(max_generated) {}

  int32_t prompt_index;
  std::vector<int32_t> prompt;
  BeamSlots slots;
  std::vector<Beam> running;
  BeamHypotheses finished;
  int32_t max_generated;  // max_new_tokens, or less where n_ctx ends first
  bool done = false;
};

class BeamSearch {
 public:
  BeamSearch(Context& context, const GenerateOptions& options)
      : context_(context),
        options_(options),
        beam_(options.beam),
        tokenizer_(options.stop_on_eos ? context.model().tokenizer() : nullptr),
        vocab_(context.model().config().vocab_size) {
    const int32_t n_eos = tokenizer_ != nullptr ? tokenizer_->end_of_generation_count() : 0;
    keep_ = std::max(2, 1 + n_eos) * beam_.num_beams;
    if (vocab_ < keep_) {
      fail(GPTQ_ERR_INVALID_ARGUMENT, "num_beams ", beam_.num_beams, " keeps ", keep_,
           " candidates a step, more than the vocabulary's ", vocab_, " tokens");
    }
  }

  GenerationResult run(const std::vector<std::vector<int32_t>>& prompts);

 private:
  void prefill();
  // One step of every unfinished search over its beams' logits (rows in
  // running order, searches in order), then the next step's inputs.
  void advance(const float* logits);
  void advance(PromptSearch& search, const float* logits);
  std::vector<Candidate> candidates(const PromptSearch& search, const float* logits);
  double penalised(float score, int64_t length) const {
    return static_cast<double>(score) / std::pow(static_cast<double>(length), beam_.length_penalty);
  }
  bool ends(int32_t token, int64_t generated, const PromptSearch& search) const {
    return generated >= search.max_generated || (tokenizer_ != nullptr && tokenizer_->is_end_of_generation(token));
  }
  void finish(PromptSearch& search, GenerationResult& result) const;

  Context& context_;
  const GenerateOptions& options_;
  const BeamOptions& beam_;
  const Tokenizer* tokenizer_;  // null: no end-of-generation token ends a beam
  int64_t vocab_;
  int32_t keep_ = 0;
  std::vector<std::unique_ptr<PromptSearch>> searches_;
  std::vector<SequenceInput> inputs_;
  std::vector<int32_t> input_tokens_;  // what inputs_' spans point into
  std::vector<float> logits_, log_probs_;
  std::vector<int32_t> order_;
  int64_t appended_ = 0;
};

void BeamSearch::prefill() {
  inputs_.clear();
  for (const auto& search : searches_) inputs_.push_back({search->slots.first_slot(), search->prompt});
  logits_.resize(inputs_.size() * vocab_);
  context_.eval_sequences(inputs_, logits_.data());
  for (const auto& search : searches_) {
    search->slots.prefilled(search->prompt);
    search->running = {Beam{{}, 0.0f, search->slots.first_slot()}};
  }
}

std::vector<Candidate> BeamSearch::candidates(const PromptSearch& search, const float* logits) {
  std::vector<Candidate> all;
  log_probs_.resize(vocab_);
  order_.resize(vocab_);
  for (size_t b = 0; b < search.running.size(); ++b) {
    const float* row = logits + b * vocab_;
    const float max = *std::max_element(row, row + vocab_);
    double sum = 0;
    for (int64_t v = 0; v < vocab_; ++v) sum += std::exp(static_cast<double>(row[v] - max));
    const float log_sum = static_cast<float>(std::log(sum));
    for (int64_t v = 0; v < vocab_; ++v) log_probs_[v] = (row[v] - max) - log_sum;
    // A beam contributes at most keep_ of the keep_ best candidates.
    for (int64_t v = 0; v < vocab_; ++v) order_[v] = static_cast<int32_t>(v);
    std::partial_sort(order_.begin(), order_.begin() + keep_, order_.end(), [&](int32_t x, int32_t y) {
      return log_probs_[x] != log_probs_[y] ? log_probs_[x] > log_probs_[y] : x < y;
    });
    for (int32_t k = 0; k < keep_; ++k) {
      all.push_back({search.running[b].score + log_probs_[order_[k]], static_cast<int32_t>(b), order_[k]});
    }
  }
  std::partial_sort(all.begin(), all.begin() + keep_, all.end(), ranks_before);
  all.resize(keep_);
  return all;
}

void BeamSearch::advance(PromptSearch& search, const float* logits) {
  const std::vector<Candidate> ranked = candidates(search, logits);
  const int64_t generated = static_cast<int64_t>(search.running.front().tokens.size()) + 1;
  std::vector<Beam> next;
  bool all_end = true;
  for (size_t rank = 0; rank < ranked.size(); ++rank) {
    const Candidate& c = ranked[rank];
    const Beam& parent = search.running[c.beam];
    if (ends(c.token, generated, search)) {
      // Only the best num_beams may finish; the rest are spares that keep
      // num_beams beams running past end-of-generation tokens.
      if (rank < static_cast<size_t>(beam_.num_beams)) {
        std::vector<int32_t> tokens = parent.tokens;
        tokens.push_back(c.token);
        search.finished.add(std::move(tokens), penalised(c.score, generated));
      }
      continue;
    }
    all_end = false;
    if (next.size() < static_cast<size_t>(beam_.num_beams)) {
      Beam child{parent.tokens, c.score, parent.slot};
      child.tokens.push_back(c.token);
      next.push_back(std::move(child));
    }
  }
  search.running = std::move(next);
  if (all_end || search.running.empty()) {
    search.done = true;
    return;
  }
  if (search.finished.full()) {
    if (beam_.early_stopping == EarlyStopping::True) {
      search.done = true;
      return;
    }
    // The best a running beam could still score: at its current length
    // (transformers' heuristic), or at the longest length when "never" and
    // a positive penalty make longer sequences score higher.
    const int64_t length = beam_.early_stopping == EarlyStopping::Never && beam_.length_penalty > 0
                               ? search.max_generated
                               : generated;
    if (!(penalised(search.running.front().score, length) > search.finished.worst_score())) {
      search.done = true;
      return;
    }
  }
  appended_ += static_cast<int64_t>(search.running.size());
}

void BeamSearch::advance(const float* logits) {
  std::vector<int32_t> parents, tokens;
  inputs_.clear();
  input_tokens_.clear();
  input_tokens_.reserve(searches_.size() * beam_.num_beams);
  size_t row = 0;
  for (const auto& search : searches_) {
    if (search->done) continue;
    const size_t n_rows = search->running.size();
    advance(*search, logits + row * vocab_);
    row += n_rows;
    if (search->done) continue;
    parents.clear();
    tokens.clear();
    for (const Beam& b : search->running) {
      parents.push_back(b.slot);
      tokens.push_back(b.tokens.back());
    }
    const std::vector<int32_t> slots = search->slots.assign(parents, tokens);
    for (size_t i = 0; i < slots.size(); ++i) {
      search->running[i].slot = slots[i];
      input_tokens_.push_back(tokens[i]);
      inputs_.push_back({slots[i], std::span<const int32_t>(&input_tokens_.back(), 1)});
    }
  }
}

void BeamSearch::finish(PromptSearch& search, GenerationResult& result) const {
  std::vector<Hypothesis> best = search.finished.ranked();
  // Only a search that never ran (max_new_tokens 0) finishes nothing.
  while (best.size() < static_cast<size_t>(beam_.num_return_sequences)) best.push_back({});
  best.resize(beam_.num_return_sequences);
  const Tokenizer* text_tokenizer = context_.model().tokenizer();
  for (Hypothesis& h : best) {
    SequenceResult out;
    out.prompt_tokens = search.prompt;
    out.prompt_index = search.prompt_index;
    out.score = h.score;
    if (text_tokenizer != nullptr) {
      // Decoded as a stream would, so the text is what greedy decoding of these tokens gives.
      TextStream stream(*text_tokenizer, search.prompt, options_.stop_strings);
      bool stopped = false;
      for (int32_t token : h.tokens) stream.push(token, &stopped);
      out.text = stream.text();
    }
    if (!h.tokens.empty() && tokenizer_ != nullptr && tokenizer_->is_end_of_generation(h.tokens.back())) {
      out.stop = StopReason::Eos;
    } else if (static_cast<int32_t>(h.tokens.size()) < options_.max_new_tokens) {
      out.stop = StopReason::ContextFull;
    }
    out.tokens = std::move(h.tokens);
    result.sequences.push_back(std::move(out));
  }
}

GenerationResult BeamSearch::run(const std::vector<std::vector<int32_t>>& prompts) {
  GenerationResult result;
  for (size_t i = 0; i < prompts.size(); ++i) {
    // A beam's last token is never evaluated, so it may fill the context.
    const int64_t room = int64_t{context_.n_ctx()} - static_cast<int64_t>(prompts[i].size()) + 1;
    const auto max_generated = static_cast<int32_t>(std::min<int64_t>(options_.max_new_tokens, room));
    searches_.push_back(std::make_unique<PromptSearch>(context_, static_cast<int32_t>(i), prompts[i], beam_,
                                                       max_generated));
    result.timings.prompt_tokens += static_cast<int64_t>(prompts[i].size());
  }
  if (options_.max_new_tokens > 0) {
    auto start = Clock::now();
    prefill();
    result.timings.prompt_seconds = seconds_since(start);
    start = Clock::now();
    while (true) {
      advance(logits_.data());
      if (inputs_.empty()) break;
      logits_.resize(inputs_.size() * vocab_);
      context_.eval_sequences(inputs_, logits_.data());
    }
    result.timings.generate_seconds = seconds_since(start);
  }
  result.timings.generated_tokens = appended_;
  for (const auto& search : searches_) finish(*search, result);
  return result;
}

}  // namespace

GenerationResult beam_search(Context& context, const std::vector<std::vector<int32_t>>& prompts,
                             const GenerateOptions& options) {
  validate_sampling(options.sampling);
  validate_beam_options(options.beam);
  refuse_unsupported(options);
  validate_prompts(context, prompts, options, options.beam.num_beams);
  return BeamSearch(context, options).run(prompts);
}

}  // namespace gptq
