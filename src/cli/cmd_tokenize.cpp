// gptq tokenize: the ids (and pieces) a model's tokenizer gives a text.
#include <cstdio>
#include <vector>

#include "commands.h"
#include "common.h"

namespace cli {

int run_tokenize(int argc, char** argv) {
  Args args("tokenize", "--model DIR --text TEXT [--no-bos] [--json]",
            {{"model", "DIR", "model directory"},
             {"text", "TEXT", "text to tokenize"},
             {"no-bos", "", "do not add BOS/EOS"},
             {"json", "", "print a JSON object on stdout"}});
  std::string error;
  if (!args.parse(argc, argv, 2, &error)) return report_usage(args, error);
  if (args.help_requested()) return std::printf("%s", args.help().c_str()), kExitOk;
  if (!args.has("model") || !args.has("text")) return report_usage(args, "--model and --text are required");

  gptq_model* raw = nullptr;
  if (int code = load_model(args.get("model"), &raw); code != kExitOk) return code;
  ModelPtr model(raw);
  const std::string text = args.get("text");
  const uint32_t flags = GPTQ_TOKENIZE_PARSE_SPECIAL | (args.has("no-bos") ? 0u : uint32_t{GPTQ_TOKENIZE_ADD_SPECIAL});
  size_t n = 0;
  gptq_status status = gptq_tokenize(model.get(), text.data(), text.size(), flags, nullptr, 0, &n);
  if (status != GPTQ_OK && status != GPTQ_ERR_BUFFER_TOO_SMALL) return report_failure(status);
  std::vector<int32_t> ids(n);
  status = gptq_tokenize(model.get(), text.data(), text.size(), flags, ids.data(), ids.size(), &n);
  if (status != GPTQ_OK) return report_failure(status);

  nlohmann::json pieces = nlohmann::json::array();
  for (int32_t id : ids) {
    const char* piece = gptq_model_token_text(model.get(), id);
    pieces.push_back(piece != nullptr ? piece : "");
  }
  if (args.has("json")) {
    print_json({{"ids", ids}, {"pieces", pieces}, {"count", ids.size()}});
    return kExitOk;
  }
  for (size_t i = 0; i < ids.size(); ++i) std::printf("%8d  %s\n", ids[i], pieces[i].get<std::string>().c_str());
  std::printf("%zu tokens\n", ids.size());
  return kExitOk;
}

}  // namespace cli
