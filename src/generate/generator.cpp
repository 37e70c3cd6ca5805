#include "generate/generator.h"

#include <chrono>
#include <memory>
#include <optional>

#include "core/error.h"
#include "generate/text_stream.h"

namespace gptq {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct LiveSequence {
  int32_t seq;
  std::vector<int32_t> history;  // prompt + generated
  std::unique_ptr<Sampler> sampler;
  std::unique_ptr<TextStream> stream;
  bool done = false;
};

void validate(const Context& context, size_t n_prompts, const GenerateOptions& options) {
  validate_sampling(options.sampling);
  if (n_prompts == 0) fail(GPTQ_ERR_INVALID_ARGUMENT, "no prompts given");
  if (n_prompts > static_cast<size_t>(context.n_seq_max())) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, n_prompts, " prompts need a context with n_seq_max >= ", n_prompts,
         " (this one holds ", context.n_seq_max(), ")");
  }
  if (options.max_new_tokens < 0) fail(GPTQ_ERR_INVALID_ARGUMENT, "max_new_tokens must be >= 0");
  for (const std::string& stop : options.stop_strings) {
    if (stop.empty()) fail(GPTQ_ERR_INVALID_ARGUMENT, "stop strings must not be empty");
  }
}

}  // namespace

GenerationResult generate_from_tokens(Context& context, const std::vector<std::vector<int32_t>>& prompts,
                                      const GenerateOptions& options) {
  validate(context, prompts.size(), options);
  const Model& model = context.model();
  const Tokenizer* tokenizer = model.tokenizer();
  const int64_t vocab = model.config().vocab_size;

  GenerationResult result;
  result.sequences.resize(prompts.size());
  std::vector<LiveSequence> live(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    if (prompts[i].empty()) fail(GPTQ_ERR_INVALID_ARGUMENT, "prompt ", i, " has no tokens");
    if (prompts[i].size() >= static_cast<size_t>(context.n_ctx())) {
      fail(GPTQ_ERR_CONTEXT_FULL, "prompt ", i, " has ", prompts[i].size(), " tokens; the context holds ",
           context.n_ctx(), " per sequence (raise n_ctx)");
    }
    LiveSequence& s = live[i];
    s.seq = static_cast<int32_t>(i);
    s.history = prompts[i];
    s.sampler = std::make_unique<Sampler>(options.sampling, options.seed + i);
    if (tokenizer != nullptr) s.stream = std::make_unique<TextStream>(*tokenizer, prompts[i], options.stop_strings);
    result.sequences[i].prompt_tokens = prompts[i];
    context.clear(s.seq);
  }

  // Prefill every prompt, sharing batches.
  const auto prefill_start = Clock::now();
  std::vector<SequenceInput> inputs;
  for (const LiveSequence& s : live) inputs.push_back({s.seq, s.history});
  std::vector<float> logits(inputs.size() * vocab);
  if (options.max_new_tokens > 0) context.eval_sequences(inputs, logits.data());
  result.timings.prompt_seconds = seconds_since(prefill_start);
  for (const auto& p : prompts) result.timings.prompt_tokens += static_cast<int64_t>(p.size());

  const auto decode_start = Clock::now();
  std::vector<size_t> active(live.size());
  for (size_t i = 0; i < live.size(); ++i) active[i] = i;
  if (options.max_new_tokens == 0) active.clear();
  std::vector<int32_t> next_tokens;
  while (!active.empty()) {
    std::vector<size_t> still_active;
    for (size_t row = 0; row < active.size(); ++row) {
      LiveSequence& s = live[active[row]];
      SequenceResult& out = result.sequences[active[row]];
      std::span<float> row_logits(logits.data() + row * vocab, vocab);
      const int32_t token = s.sampler->sample(row_logits, s.history);
      s.history.push_back(token);
      out.tokens.push_back(token);
      ++result.timings.generated_tokens;

      std::optional<StopReason> stop;
      const bool is_eog = tokenizer != nullptr && tokenizer->is_end_of_generation(token);
      std::string piece;
      if (options.stop_on_eos && is_eog) {
        stop = StopReason::Eos;
      } else if (s.stream) {
        bool hit_stop = false;
        piece = s.stream->push(token, &hit_stop);
        if (hit_stop) stop = StopReason::StopString;
      }
      if (!stop && static_cast<int32_t>(out.tokens.size()) >= options.max_new_tokens) stop = StopReason::Length;
      if (!stop && context.seq_length(s.seq) >= context.n_ctx()) stop = StopReason::ContextFull;
      if (stop && s.stream) piece += s.stream->flush();
      if (options.on_token && !options.on_token(s.seq, token, piece) && !stop) stop = StopReason::Callback;
      if (stop) {
        out.stop = *stop;
        if (s.stream) out.text = s.stream->text();
        continue;
      }
      still_active.push_back(active[row]);
    }
    active = std::move(still_active);
    if (active.empty()) break;
    inputs.clear();
    for (size_t index : active) {
      const LiveSequence& s = live[index];
      inputs.push_back({s.seq, std::span<const int32_t>(s.history).last(1)});
    }
    context.eval_sequences(inputs, logits.data());
  }
  result.timings.generate_seconds = seconds_since(decode_start);
  return result;
}

GenerationResult generate(Context& context, const std::vector<std::string>& prompts, const GenerateOptions& options) {
  const Tokenizer& tokenizer = context.model().require_tokenizer();
  std::vector<std::vector<int32_t>> tokens;
  tokens.reserve(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    tokens.push_back(tokenizer.encode(prompts[i], options.add_special, /*parse_special=*/true));
    if (tokens.back().empty()) {
      fail(GPTQ_ERR_INVALID_ARGUMENT, "prompt ", i, " is empty and the tokenizer adds no BOS token to start from");
    }
  }
  return generate_from_tokens(context, tokens, options);
}

}  // namespace gptq
