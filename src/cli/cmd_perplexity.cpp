// gptq perplexity: the standard non-overlapping-window perplexity of a text file.
#include <cstdio>

#include "commands.h"
#include "common.h"

namespace cli {

int run_perplexity(int argc, char** argv) {
  std::vector<Option> options = {
      {"model", "DIR", "model directory"},
      {"file", "TEXT_FILE", "text to evaluate (e.g. wikitext-2 test.txt)"},
      {"window", "N", "window length in tokens (default 512; --ctx sets it too)"},
      {"max-windows", "N", "evaluate only the first N windows"},
      {"add-bos", "", "start each window with BOS (default: no, as AutoGPTQ)"},
      {"json", "", "print a JSON object on stdout"},
  };
  for (const Option& o : run_options()) options.push_back(o);
  Args args("perplexity", "--model DIR --file TEXT_FILE [--ctx N] [options]", options);
  std::string error;
  if (!args.parse(argc, argv, 2, &error)) return report_usage(args, error);
  if (args.help_requested()) return std::printf("%s", args.help().c_str()), kExitOk;
  if (!args.has("model") || !args.has("file")) return report_usage(args, "--model and --file are required");
  if (!args.positional().empty()) return report_usage(args, "unexpected argument '" + args.positional()[0] + "'");

  RunOptions run;
  long long window = 0, max_windows = 0;
  if (!read_run_options(args, &run, &error) || !args.get_int("max-windows", 0, &max_windows, &error) ||
      !args.get_int("window", run.n_ctx > 0 ? run.n_ctx : 512, &window, &error)) {
    return report_usage(args, error);
  }
  if (run.n_ctx == 0) run.n_ctx = window;

  gptq_model* raw_model = nullptr;
  if (int code = load_model(args.get("model"), &raw_model, run); code != kExitOk) return code;
  ModelPtr model(raw_model);
  gptq_context* raw_context = nullptr;
  if (int code = new_context(model.get(), run, 1, &raw_context); code != kExitOk) return code;
  ContextPtr context(raw_context);

  gptq_perplexity_params params;
  gptq_perplexity_default_params(&params, sizeof params);
  params.window = static_cast<int32_t>(window);
  params.max_windows = static_cast<int32_t>(max_windows);
  params.add_bos = args.has("add-bos") ? 1 : 0;
  params.progress = progress_callback;
  gptq_perplexity_result result;
  result.struct_size = sizeof result;
  const gptq_status status = gptq_perplexity_file(context.get(), args.get("file").c_str(), &params, &result);
  finish_progress_line();
  if (status != GPTQ_OK) return report_failure(status);

  const nlohmann::json j = {
      {"perplexity", result.perplexity},      {"mean_nll", result.mean_nll},
      {"window", window},                     {"windows", result.n_windows},
      {"tokens_scored", result.n_scored},     {"text_tokens", result.n_text_tokens},
      {"seconds", result.seconds},            {"tokens_per_second", result.tokens_per_second},
      {"threads", gptq_context_n_threads(context.get())}, {"file", args.get("file")},
  };
  if (args.has("json")) {
    print_json(j);
  } else {
    std::printf("perplexity %.4f over %lld tokens (%d windows of %lld) in %.1f s, %.0f tokens/s\n", result.perplexity,
                static_cast<long long>(result.n_scored), result.n_windows, window, result.seconds,
                result.tokens_per_second);
  }
  return kExitOk;
}

}  // namespace cli
