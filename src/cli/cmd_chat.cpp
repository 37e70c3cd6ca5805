// gptq chat: an interactive conversation on stdin/stdout through the
// model's chat template, the reply streamed as it is generated.
#include <cstdio>
#include <iostream>
#include <string>

#include "chat_render.h"
#include "commands.h"
#include "common.h"

namespace cli {
namespace {

int32_t stream_reply(int32_t, int32_t, const char* text, size_t text_len, void*) {
  std::fwrite(text, 1, text_len, stdout);
  std::fflush(stdout);
  return interrupted() ? 1 : 0;
}

}  // namespace

int run_chat(int argc, char** argv) {
  std::vector<Option> options = {
      {"model", "DIR", "model directory"},
      {"template", "FILE", "use this Jinja chat template instead of the model's"},
      {"system", "TEXT", "a system message opening the conversation"},
      {"max-new-tokens", "N", "most tokens of one reply (default 256)"},
      {"temperature", "T", "sampling temperature; 0 = greedy (default 0)"},
      {"seed", "N", "sampling seed (default 0)"},
  };
  for (const Option& o : run_options()) options.push_back(o);
  Args args("chat", "--model DIR [options]   (one user message per line on stdin)", options);
  if (int code = parse_command_line(args, argc, argv, {"model"}); code != kContinue) return code;
  std::string error;
  long long max_new = 0, seed = 0;
  double temperature = 0;
  RunOptions run;
  std::string template_override;
  if (!args.get_int("max-new-tokens", 256, &max_new, &error) || !args.get_int("seed", 0, &seed, &error) ||
      !args.get_float("temperature", 0, &temperature, &error) || !read_run_options(args, &run, &error) ||
      (args.has("template") && !read_template_file(args.get("template"), &template_override, &error))) {
    return report_usage(args, error);
  }

  gptq_generate_params params;
  gptq_generate_default_params(&params, sizeof params);
  params.max_new_tokens = static_cast<int32_t>(max_new);
  params.temperature = static_cast<float>(temperature);
  params.seed = static_cast<uint64_t>(seed);
  // The template writes BOS and the other special tokens itself, as
  // transformers tokenizes a rendered chat without adding special tokens.
  params.add_special = 0;
  params.on_token = stream_reply;

  gptq_model* raw_model = nullptr;
  if (int code = load_model(args.get("model"), &raw_model, run); code != kExitOk) return code;
  ModelPtr model(raw_model);
  gptq_context* raw_context = nullptr;
  if (int code = new_context(model.get(), run, 1, &raw_context); code != kExitOk) return code;
  ContextPtr context(raw_context);

  Conversation conversation;
  if (args.has("system")) conversation.add("system", args.get("system"));
  std::string line;
  while (!interrupted()) {
    std::fprintf(stderr, "> ");
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    conversation.add("user", line);
    std::string prompt;
    if (gptq_status s = render_conversation(model.get(), template_override, conversation, true, &prompt);
        s != GPTQ_OK) {
      return report_failure(s);
    }
    // gptq_generate starts sequence 0 afresh and no call samples after
    // tokens appended with gptq_context_eval, so every turn evaluates the
    // whole conversation again instead of reusing the KV cache.
    gptq_generation* raw_generation = nullptr;
    if (gptq_status s = gptq_generate(context.get(), prompt.c_str(), &params, &raw_generation); s != GPTQ_OK) {
      return report_failure(s);
    }
    GenerationPtr generation(raw_generation);
    std::printf("\n");
    std::fflush(stdout);
    conversation.add("assistant", gptq_generation_text(generation.get(), 0));
    if (gptq_generation_stop_reason(generation.get(), 0) == GPTQ_STOP_CONTEXT_FULL) {
      std::fprintf(stderr, "gptq: the conversation fills the context (%d tokens); ending it\n",
                   gptq_context_n_ctx(context.get()));
      break;
    }
  }
  return interrupted() ? kExitCancelled : kExitOk;
}

}  // namespace cli
