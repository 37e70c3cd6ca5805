// gptq generate: stream a continuation of one prompt, or run several
// prompts as one batch.
#include <algorithm>
#include <cstdio>
#include <vector>

#include "commands.h"
#include "common.h"

namespace cli {
namespace {

const char* stop_reason_name(int32_t reason) {
  switch (reason) {
    case GPTQ_STOP_LENGTH: return "length";
    case GPTQ_STOP_EOS: return "eos";
    case GPTQ_STOP_STRING: return "stop_string";
    case GPTQ_STOP_CALLBACK: return "interrupted";
    case GPTQ_STOP_CONTEXT_FULL: return "context_full";
  }
  return "?";
}

struct StreamState {
  bool stream_to_stdout = false;
};

int32_t on_token(int32_t, int32_t, const char* text, size_t text_len, void* user_data) {
  const auto* state = static_cast<const StreamState*>(user_data);
  if (state->stream_to_stdout && text_len > 0) {
    std::fwrite(text, 1, text_len, stdout);
    std::fflush(stdout);
  }
  return interrupted() ? 1 : 0;
}

nlohmann::json ids_json(const int32_t* ids, size_t n) { return nlohmann::json(std::vector<int32_t>(ids, ids + n)); }

// transformers' spelling of early_stopping: true, false or never.
bool parse_early_stopping(const std::string& text, int32_t* out) {
  if (text == "false") *out = GPTQ_EARLY_STOPPING_FALSE;
  else if (text == "true") *out = GPTQ_EARLY_STOPPING_TRUE;
  else if (text == "never") *out = GPTQ_EARLY_STOPPING_NEVER;
  else return false;
  return true;
}

}  // namespace

int run_generate(int argc, char** argv) {
  std::vector<Option> options = {
      {"model", "DIR", "model directory"},
      {"prompt", "TEXT", "prompt; several run as one batch", true},
      {"max-new-tokens", "N", "tokens to generate (default 128)"},
      {"temperature", "T", "sampling temperature; 0 = greedy (default 0)"},
      {"top-k", "K", "keep the K most likely tokens (default 0 = off)"},
      {"top-p", "P", "nucleus sampling mass (default 1 = off)"},
      {"min-p", "P", "drop tokens below P x the top probability (default 0 = off)"},
      {"repeat-penalty", "R", "repetition penalty (default 1 = off)"},
      {"repeat-last-n", "N", "tokens the penalty looks back over (default 0 = all)"},
      {"seed", "N", "sampling seed (default 0)"},
      {"stop", "TEXT", "stop when the text contains TEXT", true},
      {"no-bos", "", "do not add the BOS token"},
      {"ignore-eos", "", "keep generating after end-of-generation tokens"},
      {"num-beams", "N", "beam search with N beams (default 1 = off)"},
      {"length-penalty", "X", "beam scores are sum log p / length^X (default 1)"},
      {"early-stopping", "WHEN", "when beam search stops: true, false (default) or never"},
      {"num-return-sequences", "K", "best K beams returned per prompt, K <= N (default 1)"},
      {"json", "", "print a JSON object on stdout instead of streaming"},
  };
  for (const Option& o : run_options()) options.push_back(o);
  Args args("generate", "--model DIR --prompt TEXT [options]", options);
  std::string error;
  if (!args.parse(argc, argv, 2, &error)) return report_usage(args, error);
  if (args.help_requested()) return std::printf("%s", args.help().c_str()), kExitOk;
  if (!args.has("model")) return report_usage(args, "--model is required");
  if (!args.has("prompt")) return report_usage(args, "--prompt is required");
  if (!args.positional().empty()) return report_usage(args, "unexpected argument '" + args.positional()[0] + "'");

  gptq_generate_params params;
  gptq_generate_default_params(&params, sizeof params);
  long long max_new = 0, top_k = 0, last_n = 0, seed = 0, num_beams = 0, num_return = 0;
  double temperature = 0, top_p = 0, min_p = 0, penalty = 0, length_penalty = 0;
  RunOptions run;
  if (!args.get_int("max-new-tokens", params.max_new_tokens, &max_new, &error) ||
      !args.get_int("top-k", params.top_k, &top_k, &error) ||
      !args.get_int("repeat-last-n", params.repetition_last_n, &last_n, &error) ||
      !args.get_int("seed", 0, &seed, &error) ||
      !args.get_float("temperature", params.temperature, &temperature, &error) ||
      !args.get_float("top-p", params.top_p, &top_p, &error) ||
      !args.get_float("min-p", params.min_p, &min_p, &error) ||
      !args.get_float("repeat-penalty", params.repetition_penalty, &penalty, &error) ||
      !args.get_int("num-beams", params.num_beams, &num_beams, &error) ||
      !args.get_int("num-return-sequences", params.num_return_sequences, &num_return, &error) ||
      !args.get_float("length-penalty", params.length_penalty, &length_penalty, &error) ||
      !read_run_options(args, &run, &error)) {
    return report_usage(args, error);
  }
  params.max_new_tokens = static_cast<int32_t>(max_new);
  params.top_k = static_cast<int32_t>(top_k);
  params.repetition_last_n = static_cast<int32_t>(last_n);
  params.seed = static_cast<uint64_t>(seed);
  params.temperature = static_cast<float>(temperature);
  params.top_p = static_cast<float>(top_p);
  params.min_p = static_cast<float>(min_p);
  params.repetition_penalty = static_cast<float>(penalty);
  params.num_beams = static_cast<int32_t>(num_beams);
  params.num_return_sequences = static_cast<int32_t>(num_return);
  params.length_penalty = static_cast<float>(length_penalty);
  if (args.has("early-stopping") && !parse_early_stopping(args.get("early-stopping"), &params.early_stopping)) {
    return report_usage(args, "--early-stopping takes true, false or never, not '" + args.get("early-stopping") + "'");
  }
  const bool beams = params.num_beams > 1;
  params.add_special = args.has("no-bos") ? 0 : 1;
  params.stop_on_eos = args.has("ignore-eos") ? 0 : 1;
  std::vector<const char*> stops;
  for (const std::string& s : args.all("stop")) stops.push_back(s.c_str());
  params.stop_strings = stops.data();
  params.n_stop_strings = static_cast<int32_t>(stops.size());

  const std::vector<std::string>& prompt_texts = args.all("prompt");
  const bool json = args.has("json");
  // Beams are final only at the end: nothing streams.
  StreamState stream{!json && !beams && prompt_texts.size() == 1};
  params.on_token = beams ? nullptr : on_token;
  params.user_data = &stream;

  gptq_model* raw_model = nullptr;
  if (int code = load_model(args.get("model"), &raw_model, run); code != kExitOk) return code;
  ModelPtr model(raw_model);
  gptq_context* raw_context = nullptr;
  // One sequence per beam; a bad num_beams is left to the library to name.
  const auto n_seq = static_cast<int32_t>(prompt_texts.size() * static_cast<size_t>(std::max(1LL, num_beams)));
  if (int code = new_context(model.get(), run, n_seq, &raw_context); code != kExitOk) {
    return code;
  }
  ContextPtr context(raw_context);

  std::vector<const char*> prompts;
  for (const std::string& p : prompt_texts) prompts.push_back(p.c_str());
  if (stream.stream_to_stdout) {
    std::fwrite(prompts[0], 1, prompt_texts[0].size(), stdout);
    std::fflush(stdout);
  }
  gptq_generation* raw_generation = nullptr;
  const gptq_status status = gptq_generate_batch(context.get(), prompts.data(), prompts.size(), &params, &raw_generation);
  if (status != GPTQ_OK) return report_failure(status);
  GenerationPtr generation(raw_generation);
  gptq_timings timings;
  timings.struct_size = sizeof timings;
  if (gptq_status s = gptq_generation_timings(generation.get(), &timings); s != GPTQ_OK) return report_failure(s);

  nlohmann::json results = nlohmann::json::array();
  for (size_t i = 0; i < gptq_generation_count(generation.get()); ++i) {
    const int32_t* ids = nullptr;
    const size_t n = gptq_generation_tokens(generation.get(), i, &ids);
    const int32_t* prompt_ids = nullptr;
    const size_t n_prompt = gptq_generation_prompt_tokens(generation.get(), i, &prompt_ids);
    const int32_t prompt_index = gptq_generation_prompt_index(generation.get(), i);
    nlohmann::json result = {{"prompt", prompt_texts[prompt_index]},
                              {"text", gptq_generation_text(generation.get(), i)},
                              {"tokens", ids_json(ids, n)},
                              {"prompt_tokens", ids_json(prompt_ids, n_prompt)},
                              {"stop_reason", stop_reason_name(gptq_generation_stop_reason(generation.get(), i))}};
    if (beams) {
      result["prompt_index"] = prompt_index;
      result["score"] = gptq_generation_score(generation.get(), i);
    }
    results.push_back(std::move(result));
  }
  const nlohmann::json timing_json = {
      {"prompt_tokens", timings.prompt_tokens},
      {"prompt_seconds", timings.prompt_seconds},
      {"prompt_tokens_per_second", timings.prompt_tokens_per_second},
      {"generated_tokens", timings.generated_tokens},
      {"generate_seconds", timings.generate_seconds},
      {"generated_tokens_per_second", timings.generated_tokens_per_second},
      {"threads", gptq_context_n_threads(context.get())},
  };
  if (json) {
    print_json({{"results", results}, {"timings", timing_json}});
    return kExitOk;
  }
  if (stream.stream_to_stdout) {
    std::printf("\n");
  } else {
    for (const auto& r : results) {
      if (beams) std::printf("[prompt %d] score %.6f\n", r["prompt_index"].get<int>(), r["score"].get<double>());
      std::printf("%s%s\n---\n", r["prompt"].get<std::string>().c_str(), r["text"].get<std::string>().c_str());
    }
  }
  std::fprintf(stderr, "prompt: %lld tokens, %.1f tokens/s | generated: %lld tokens, %.1f tokens/s | %d threads\n",
               static_cast<long long>(timings.prompt_tokens), timings.prompt_tokens_per_second,
               static_cast<long long>(timings.generated_tokens), timings.generated_tokens_per_second,
               gptq_context_n_threads(context.get()));
  return kExitOk;
}

}  // namespace cli
