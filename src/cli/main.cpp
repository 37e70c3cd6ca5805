// gptq: the command-line face of libgptq, a client of include/gptq.h only.
#include <cstdio>
#include <cstring>
#include <string>

#include "commands.h"
#include "common.h"

namespace {

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* summary;
};

constexpr Command kCommands[] = {
    {"inspect", cli::run_inspect, "show a checkpoint's architecture, size and tokenizer"},
    {"generate", cli::run_generate, "generate text from one or more prompts"},
    {"perplexity", cli::run_perplexity, "measure perplexity on a text file"},
    {"quantize", cli::run_quantize, "GPTQ-quantize a checkpoint and save it in AutoGPTQ's format"},
    {"tokenize", cli::run_tokenize, "show the token ids of a text"},
    {"chat-template", cli::run_chat_template, "show the prompt a model's chat template makes of a conversation"},
    {"chat", cli::run_chat, "chat with a model on stdin/stdout through its chat template"},
};

void print_usage(FILE* out) {
  std::fprintf(out, "usage: gptq COMMAND [options]   (gptq COMMAND --help for its options)\n\ncommands:\n");
  for (const Command& c : kCommands) std::fprintf(out, "  %-12s %s\n", c.name, c.summary);
  std::fprintf(out, "\n  --version    print the library version\n  --verbose    log progress details (any command)\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(stderr);
    return cli::kExitUsage;
  }
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    print_usage(stdout);
    return cli::kExitOk;
  }
  if (command == "--version") {
    std::printf("gptq %s (%s)\n", gptq_version_string(), gptq_system_info());
    return cli::kExitOk;
  }
  // --verbose is accepted anywhere; strip it before the command parses.
  bool verbose = false;
  int kept = 2;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--verbose") == 0) {
      verbose = true;
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  cli::setup(verbose);
  for (const Command& c : kCommands) {
    if (command == c.name) return c.run(argc, argv);
  }
  std::fprintf(stderr, "gptq: unknown command '%s'\n\n", command.c_str());
  print_usage(stderr);
  return cli::kExitUsage;
}
