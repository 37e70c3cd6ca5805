// The gptq subcommands; each returns the process exit code.
#pragma once

namespace cli {
int run_inspect(int argc, char** argv);
int run_generate(int argc, char** argv);
int run_perplexity(int argc, char** argv);
int run_tokenize(int argc, char** argv);
int run_quantize(int argc, char** argv);
int run_chat_template(int argc, char** argv);
int run_chat(int argc, char** argv);
}  // namespace cli
