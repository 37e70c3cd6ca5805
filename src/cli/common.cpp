#include "common.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>

namespace cli {
namespace {

std::atomic<bool> g_interrupted{false};
bool g_bar_drawn = false;

void on_sigint(int) {
  if (g_interrupted.exchange(true)) std::_Exit(kExitCancelled);  // second Ctrl-C: leave now
}

void log_to_stderr(int32_t level, const char* message, void*) {
  static const char* names[] = {"debug", "info", "warning", "error"};
  finish_progress_line();
  std::fprintf(stderr, "gptq: %s: %s\n", names[level >= 0 && level <= 3 ? level : 3], message);
}

}  // namespace

void setup(bool verbose) {
  gptq_log_set(log_to_stderr, nullptr, verbose ? GPTQ_LOG_DEBUG : GPTQ_LOG_WARN);
  std::signal(SIGINT, on_sigint);
}

bool interrupted() { return g_interrupted.load(); }

int report_failure(gptq_status status) {
  finish_progress_line();
  std::fprintf(stderr, "gptq: error: %s (%s)\n", gptq_last_error(), gptq_status_name(status));
  return status == GPTQ_ERR_CANCELLED ? kExitCancelled : kExitFailure;
}

int report_usage(const Args& args, const std::string& message) {
  std::fprintf(stderr, "gptq: %s\n\n%s", message.c_str(), args.help().c_str());
  return kExitUsage;
}

int32_t progress_callback(float fraction, const char* stage, void*) {
  if (isatty(STDERR_FILENO)) {
    constexpr int kWidth = 40;
    const int filled = static_cast<int>(fraction * kWidth + 0.5f);
    std::string bar(filled, '#');
    bar.resize(kWidth, '.');
    std::fprintf(stderr, "\r%-12s [%s] %5.1f%%", stage, bar.c_str(), 100.0 * fraction);
    std::fflush(stderr);
    g_bar_drawn = true;
  }
  return interrupted() ? 1 : 0;
}

void finish_progress_line() {
  if (g_bar_drawn) {
    std::fprintf(stderr, "\n");
    g_bar_drawn = false;
  }
}

int load_model(const std::string& path, gptq_model** model, bool use_mmap) {
  gptq_model_params params;
  gptq_model_default_params(&params, sizeof params);
  params.progress = progress_callback;
  params.use_mmap = use_mmap ? 1 : 0;
  const gptq_status status = gptq_model_load(path.c_str(), &params, model);
  finish_progress_line();
  return status == GPTQ_OK ? kExitOk : report_failure(status);
}

std::vector<Option> run_options() {
  return {
      {"threads", "N", "worker threads (default: one per physical core)"},
      {"ctx", "N", "context length in tokens (default: the model's, at most 4096)"},
      {"no-mmap", "", "read the weights into memory instead of mapping them"},
  };
}

bool read_run_options(const Args& args, RunOptions* out, std::string* error) {
  out->no_mmap = args.has("no-mmap");
  return args.get_int("threads", 0, &out->threads, error) && args.get_int("ctx", 0, &out->n_ctx, error);
}

int new_context(gptq_model* model, const RunOptions& run, int32_t n_seq_max, gptq_context** context) {
  gptq_context_params params;
  gptq_context_default_params(&params, sizeof params);
  params.n_threads = static_cast<int32_t>(run.threads);
  params.n_ctx = static_cast<int32_t>(run.n_ctx);
  params.n_seq_max = n_seq_max;
  const gptq_status status = gptq_context_new(model, &params, context);
  return status == GPTQ_OK ? kExitOk : report_failure(status);
}

void print_json(const nlohmann::json& value) {
  // Generated text may end inside a UTF-8 character; never let that abort the output.
  std::cout << value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
}

}  // namespace cli
