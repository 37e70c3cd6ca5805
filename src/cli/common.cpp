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

int parse_command_line(Args& args, int argc, char** argv, std::initializer_list<const char*> required) {
  std::string error;
  if (!args.parse(argc, argv, 2, &error)) return report_usage(args, error);
  if (args.help_requested()) return std::printf("%s", args.help().c_str()), kExitOk;
  for (const char* name : required) {
    if (!args.has(name)) return report_usage(args, std::string("--") + name + " is required");
  }
  if (!args.positional().empty()) return report_usage(args, "unexpected argument '" + args.positional()[0] + "'");
  return kContinue;
}

void draw_progress_bar(const std::string& label, float fraction, const std::string& suffix) {
  if (!isatty(STDERR_FILENO)) return;
  constexpr int kWidth = 40;
  const int filled = static_cast<int>(fraction * kWidth + 0.5f);
  std::string bar(filled, '#');
  bar.resize(kWidth, '.');
  // \033[K clears what a longer previous line left.
  std::fprintf(stderr, "\r%-12s [%s] %5.1f%% %s\033[K", label.c_str(), bar.c_str(), 100.0 * fraction, suffix.c_str());
  std::fflush(stderr);
  g_bar_drawn = true;
}

int32_t progress_callback(float fraction, const char* stage, void*) {
  draw_progress_bar(stage, fraction, "");
  return interrupted() ? 1 : 0;
}

void finish_progress_line() {
  if (g_bar_drawn) {
    std::fprintf(stderr, "\n");
    g_bar_drawn = false;
  }
}

// --NAME auto|f16|bf16|f32 as a gptq_dtype.
bool read_dtype(const Args& args, const std::string& name, int32_t* out, std::string* error) {
  static const std::pair<const char*, int32_t> kNames[] = {
      {"auto", GPTQ_DTYPE_AUTO}, {"f16", GPTQ_DTYPE_F16}, {"bf16", GPTQ_DTYPE_BF16}, {"f32", GPTQ_DTYPE_F32}};
  if (!args.has(name)) return true;
  const std::string value = args.get(name);
  for (const auto& [spelling, code] : kNames) {
    if (value == spelling) {
      *out = code;
      return true;
    }
  }
  *error = "--" + name + " must be auto, f16, bf16 or f32, not '" + value + "'";
  return false;
}

std::vector<Option> device_options() {
  return {
      {"device", "DEV", "cpu (default), cuda, cuda:N, auto (the first usable GPU, else the CPU), or a list "
                        "(cuda:0,cuda:1,cpu) placed by memory"},
      {"n-gpu-layers", "N", "decoder layers on the GPU, the last ones (default -1 = all)"},
      {"compute-dtype", "auto|f16|bf16|f32", "GPU activation type (default auto: bf16 for bf16 models, else f16)"},
      {"max-memory", "BUDGETS", "place whole layers by memory: cuda:0=30GiB,cuda:1=46GiB,cpu=30GiB"},
  };
}

bool read_device_options(const Args& args, DeviceOptions* out, std::string* error) {
  out->device = args.get("device", out->device);
  out->max_memory = args.get("max-memory", out->max_memory);
  if (!args.get_int("n-gpu-layers", out->n_gpu_layers, &out->n_gpu_layers, error) ||
      !read_dtype(args, "compute-dtype", &out->compute_dtype, error)) {
    return false;
  }
  if (out->n_gpu_layers < -1) {
    *error = "--n-gpu-layers must be -1 (all), 0 (none) or a layer count, not " + std::to_string(out->n_gpu_layers);
    return false;
  }
  return true;
}

int load_model(const std::string& path, gptq_model** model, const DeviceOptions& device, bool use_mmap) {
  gptq_model_params params;
  gptq_model_default_params(&params, sizeof params);
  params.progress = progress_callback;
  params.use_mmap = use_mmap ? 1 : 0;
  params.device = device.device.c_str();
  params.n_gpu_layers = static_cast<int32_t>(device.n_gpu_layers);
  params.compute_dtype = device.compute_dtype;
  params.max_memory = device.max_memory.empty() ? nullptr : device.max_memory.c_str();
  params.plan_n_ctx = static_cast<int32_t>(device.plan_n_ctx);
  const gptq_status status = gptq_model_load(path.c_str(), &params, model);
  finish_progress_line();
  return status == GPTQ_OK ? kExitOk : report_failure(status);
}

int load_model(const std::string& path, gptq_model** model, const RunOptions& run) {
  DeviceOptions device = run.device;
  device.plan_n_ctx = run.n_ctx;
  return load_model(path, model, device, !run.no_mmap);
}

std::vector<Option> run_options() {
  std::vector<Option> options = {
      {"threads", "N", "worker threads (default: one per physical core)"},
      {"ctx", "N", "context length in tokens (default: the model's, at most 4096)"},
      {"no-mmap", "", "read the weights into memory instead of mapping them"},
      {"kv-dtype", "auto|f16|bf16|f32", "KV cache type of GPU layers (default auto: the compute type)"},
  };
  for (Option& o : device_options()) options.push_back(std::move(o));
  return options;
}

bool read_run_options(const Args& args, RunOptions* out, std::string* error) {
  out->no_mmap = args.has("no-mmap");
  return args.get_int("threads", 0, &out->threads, error) && args.get_int("ctx", 0, &out->n_ctx, error) &&
         read_dtype(args, "kv-dtype", &out->kv_dtype, error) && read_device_options(args, &out->device, error);
}

int new_context(gptq_model* model, const RunOptions& run, int32_t n_seq_max, gptq_context** context) {
  gptq_context_params params;
  gptq_context_default_params(&params, sizeof params);
  params.n_threads = static_cast<int32_t>(run.threads);
  params.n_ctx = static_cast<int32_t>(run.n_ctx);
  params.n_seq_max = n_seq_max;
  params.kv_dtype = run.kv_dtype;
  const gptq_status status = gptq_context_new(model, &params, context);
  return status == GPTQ_OK ? kExitOk : report_failure(status);
}

const char* dtype_name(int32_t dtype) {
  switch (dtype) {
    case GPTQ_DTYPE_F32: return "float32";
    case GPTQ_DTYPE_F16: return "float16";
    case GPTQ_DTYPE_BF16: return "bfloat16";
  }
  return "?";
}

void print_json(const nlohmann::json& value) {
  // Generated text may end inside a UTF-8 character; never let that abort the output.
  std::cout << value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
}

}  // namespace cli
