#include "generate/generator.h"

#include <chrono>
#include <cmath>
#include <optional>

#include "core/error.h"
#include "generate/beam_search.h"

namespace gptq {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

void validate(const Context& context, const std::vector<std::vector<int32_t>>& prompts, const GenerateOptions& options) {
  validate_sampling(options.sampling);
  validate_beam_options(options.beam);
  if (options.beam.num_beams > 1) {
    fail(GPTQ_ERR_UNSUPPORTED, "streaming does not support beam search (num_beams ", options.beam.num_beams,
         "): a beam's tokens are final only when the search ends; generate without a stream");
  }
  validate_prompts(context, prompts, options, 1);
}

}  // namespace

void validate_prompts(const Context& context, const std::vector<std::vector<int32_t>>& prompts,
                      const GenerateOptions& options, int32_t sequences_per_prompt) {
  if (prompts.empty()) fail(GPTQ_ERR_INVALID_ARGUMENT, "no prompts given");
  const size_t needed = prompts.size() * static_cast<size_t>(sequences_per_prompt);
  if (needed > static_cast<size_t>(context.n_seq_max())) {
    if (sequences_per_prompt == 1) {
      fail(GPTQ_ERR_INVALID_ARGUMENT, prompts.size(), " prompts need a context with n_seq_max >= ", needed,
           " (this one holds ", context.n_seq_max(), ")");
    }
    fail(GPTQ_ERR_INVALID_ARGUMENT, "beam search with num_beams ", sequences_per_prompt, " over ", prompts.size(),
         " prompt(s) needs a context with n_seq_max >= ", needed, " (one sequence per beam; this one holds ",
         context.n_seq_max(), ")");
  }
  if (options.max_new_tokens < 0) fail(GPTQ_ERR_INVALID_ARGUMENT, "max_new_tokens must be >= 0");
  for (const std::string& stop : options.stop_strings) {
    if (stop.empty()) fail(GPTQ_ERR_INVALID_ARGUMENT, "stop strings must not be empty");
  }
  for (size_t i = 0; i < prompts.size(); ++i) {
    if (prompts[i].empty()) fail(GPTQ_ERR_INVALID_ARGUMENT, "prompt ", i, " has no tokens");
    if (prompts[i].size() >= static_cast<size_t>(context.n_ctx())) {
      fail(GPTQ_ERR_CONTEXT_FULL, "prompt ", i, " has ", prompts[i].size(), " tokens; the context holds ",
           context.n_ctx(), " per sequence (raise n_ctx)");
    }
  }
}

void validate_beam_options(const BeamOptions& beam) {
  if (beam.num_beams < 1) fail(GPTQ_ERR_INVALID_ARGUMENT, "num_beams is ", beam.num_beams, "; it must be >= 1 (1: no beam search)");
  if (beam.num_return_sequences < 1 || beam.num_return_sequences > beam.num_beams) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, "num_return_sequences is ", beam.num_return_sequences,
         "; it must be between 1 and num_beams (", beam.num_beams, ")",
         beam.num_beams == 1 ? ": greedy decoding and sampling return one sequence per prompt" : "");
  }
  if (!std::isfinite(beam.length_penalty)) fail(GPTQ_ERR_INVALID_ARGUMENT, "length_penalty is not a finite number");
  const auto stopping = static_cast<int32_t>(beam.early_stopping);
  if (stopping < 0 || stopping > 2) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, "early_stopping is ", stopping, "; use 0 (false), 1 (true) or 2 (never)");
  }
}

struct BatchGenerator::Live {
  int32_t seq = 0;
  std::vector<int32_t> history;  // prompt + generated
  std::unique_ptr<Sampler> sampler;
  std::unique_ptr<TextStream> stream;
  bool stop_requested = false;
};

BatchGenerator::BatchGenerator(Context& context, std::vector<std::vector<int32_t>> prompts,
                               const GenerateOptions& options)
    : context_(context), options_(options), tokenizer_(context.model().tokenizer()) {
  validate(context, prompts, options);
  result_.sequences.resize(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto s = std::make_unique<Live>();
    s->seq = static_cast<int32_t>(i);
    s->sampler = std::make_unique<Sampler>(options_.sampling, options_.seed + i);
    if (tokenizer_ != nullptr) s->stream = std::make_unique<TextStream>(*tokenizer_, prompts[i], options_.stop_strings);
    result_.sequences[i].prompt_tokens = prompts[i];
    result_.sequences[i].prompt_index = static_cast<int32_t>(i);
    result_.timings.prompt_tokens += static_cast<int64_t>(prompts[i].size());
    s->history = std::move(prompts[i]);
    context_.clear(s->seq);
    live_.push_back(std::move(s));
    if (options_.max_new_tokens > 0) active_.push_back(i);
  }
}

BatchGenerator::~BatchGenerator() = default;

void BatchGenerator::prefill() {
  const auto start = Clock::now();
  std::vector<SequenceInput> inputs;
  for (size_t index : active_) inputs.push_back({live_[index]->seq, live_[index]->history});
  logits_.resize(inputs.size() * context_.model().config().vocab_size);
  context_.eval_sequences(inputs, logits_.data());
  result_.timings.prompt_seconds = seconds_since(start);
  prefilled_ = true;
}

void BatchGenerator::decode_active() {
  const auto start = Clock::now();
  std::vector<SequenceInput> inputs;
  for (size_t index : active_) inputs.push_back({live_[index]->seq, std::span<const int32_t>(live_[index]->history).last(1)});
  context_.eval_sequences(inputs, logits_.data());
  result_.timings.generate_seconds += seconds_since(start);
}

void BatchGenerator::stop(int32_t sequence) {
  if (sequence >= 0 && static_cast<size_t>(sequence) < live_.size()) live_[sequence]->stop_requested = true;
}

bool BatchGenerator::step(std::vector<TokenEvent>* events) {
  // Sequences the caller stopped leave before their next token.
  std::erase_if(active_, [&](size_t index) {
    if (!live_[index]->stop_requested) return false;
    SequenceResult& out = result_.sequences[index];
    out.stop = StopReason::Callback;
    if (live_[index]->stream) out.text = live_[index]->stream->text() + live_[index]->stream->flush();
    return true;
  });
  if (active_.empty()) return false;
  if (!prefilled_) prefill();
  else decode_active();

  const auto start = Clock::now();
  const int64_t vocab = context_.model().config().vocab_size;
  std::vector<size_t> still_active;
  for (size_t row = 0; row < active_.size(); ++row) {
    Live& s = *live_[active_[row]];
    SequenceResult& out = result_.sequences[active_[row]];
    const int32_t token = s.sampler->sample(std::span<float>(logits_.data() + row * vocab, vocab), s.history);
    s.history.push_back(token);
    out.tokens.push_back(token);
    ++result_.timings.generated_tokens;

    TokenEvent event;
    event.sequence = s.seq;
    event.token = token;
    std::optional<StopReason> stop;
    if (options_.stop_on_eos && tokenizer_ != nullptr && tokenizer_->is_end_of_generation(token)) {
      stop = StopReason::Eos;
    } else if (s.stream) {
      bool hit_stop = false;
      event.text = s.stream->push(token, &hit_stop);
      if (hit_stop) stop = StopReason::StopString;
    }
    if (!stop && static_cast<int32_t>(out.tokens.size()) >= options_.max_new_tokens) stop = StopReason::Length;
    if (!stop && context_.seq_length(s.seq) >= context_.n_ctx()) stop = StopReason::ContextFull;
    if (stop) {
      if (s.stream) event.text += s.stream->flush();
      out.stop = *stop;
      if (s.stream) out.text = s.stream->text();
      event.finished = true;
    } else {
      still_active.push_back(active_[row]);
    }
    events->push_back(std::move(event));
  }
  active_ = std::move(still_active);
  result_.timings.generate_seconds += seconds_since(start);
  return true;
}

std::vector<std::vector<int32_t>> tokenize_prompts(const Model& model, const std::vector<std::string>& prompts,
                                                   bool add_special) {
  const Tokenizer& tokenizer = model.require_tokenizer();
  std::vector<std::vector<int32_t>> tokens;
  tokens.reserve(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    tokens.push_back(tokenizer.encode(prompts[i], add_special, /*parse_special=*/true));
    if (tokens.back().empty()) {
      fail(GPTQ_ERR_INVALID_ARGUMENT, "prompt ", i, " is empty and the tokenizer adds no BOS token to start from");
    }
  }
  return tokens;
}

GenerationResult generate_from_tokens(Context& context, const std::vector<std::vector<int32_t>>& prompts,
                                      const GenerateOptions& options) {
  if (options.beam.num_beams > 1) return beam_search(context, prompts, options);
  BatchGenerator generator(context, prompts, options);
  std::vector<TokenEvent> events;
  while (generator.step(&events)) {
    for (const TokenEvent& e : events) {
      if (options.on_token && !options.on_token(e.sequence, e.token, e.text) && !e.finished) generator.stop(e.sequence);
    }
    events.clear();
  }
  return generator.take_result();
}

GenerationResult generate(Context& context, const std::vector<std::string>& prompts, const GenerateOptions& options) {
  return generate_from_tokens(context, tokenize_prompts(context.model(), prompts, options.add_special), options);
}

}  // namespace gptq
