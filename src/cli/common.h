// What every gptq subcommand shares: loading a model with a progress bar,
// Ctrl-C handling, error reporting and exit codes. Uses gptq.h alone.
#pragma once

#include <initializer_list>
#include <string>

#include <nlohmann/json.hpp>

#include "args.h"
#include "gptq.h"

namespace cli {

enum ExitCode { kExitOk = 0, kExitFailure = 1, kExitUsage = 2, kExitCancelled = 130 };

// Installs the stderr logger and the Ctrl-C handler (Ctrl-C cancels long
// work through the progress callbacks instead of killing the process).
void setup(bool verbose);

// Reports a failed call ("gptq: error: <message>") and returns its exit code.
int report_failure(gptq_status status);
// Reports a usage mistake and returns kExitUsage.
int report_usage(const Args& args, const std::string& message);
// Parses a command's argv[2..] taking no positional arguments and needing
// the options in `required`: kContinue to go on, else the exit code (after
// printing --help, or reporting a mistake).
constexpr int kContinue = -1;
int parse_command_line(Args& args, int argc, char** argv, std::initializer_list<const char*> required);

// A progress callback drawing a bar on stderr when it is a terminal; it
// returns nonzero (cancel) after Ctrl-C.
int32_t progress_callback(float fraction, const char* stage, void* user_data);
// Draws "label [####....] 42.0% suffix" over the current stderr line when
// stderr is a terminal.
void draw_progress_bar(const std::string& label, float fraction, const std::string& suffix);
void finish_progress_line();
bool interrupted();

// Where a model is loaded: --device, --n-gpu-layers, --compute-dtype (every
// command that loads a model has them).
struct DeviceOptions {
  std::string device = "cpu";
  long long n_gpu_layers = -1;
  int32_t compute_dtype = GPTQ_DTYPE_AUTO;
  std::string max_memory;
  long long plan_n_ctx = 0;  // the context the memory plan sizes KV caches for (--ctx)
};
std::vector<Option> device_options();
// --NAME auto|f16|bf16|f32 as a gptq_dtype.
bool read_dtype(const Args& args, const std::string& name, int32_t* out, std::string* error);
bool read_device_options(const Args& args, DeviceOptions* out, std::string* error);

// Loads a model with a progress bar; returns the exit code (kExitOk on success).
// `use_mmap` false reads the weights into memory, for file systems or
// machines that evict mapped pages under pressure.
int load_model(const std::string& path, gptq_model** model, const DeviceOptions& device = {}, bool use_mmap = true);

// Options shared by commands that run the model (the device options included).
struct RunOptions {
  long long threads = 0;
  long long n_ctx = 0;
  bool no_mmap = false;
  int32_t kv_dtype = GPTQ_DTYPE_AUTO;
  DeviceOptions device;
};
std::vector<Option> run_options();
bool read_run_options(const Args& args, RunOptions* out, std::string* error);
// Loads the model as `run` says (device, mmap).
int load_model(const std::string& path, gptq_model** model, const RunOptions& run);
int new_context(gptq_model* model, const RunOptions& run, int32_t n_seq_max, gptq_context** context);

void print_json(const nlohmann::json& value);

// "float32", "float16", "bfloat16" for a gptq_dtype (inspect's spelling).
const char* dtype_name(int32_t dtype);

}  // namespace cli

#include <memory>

namespace cli {
struct ModelDeleter {
  void operator()(gptq_model* m) const { gptq_model_free(m); }
};
struct ContextDeleter {
  void operator()(gptq_context* c) const { gptq_context_free(c); }
};
struct GenerationDeleter {
  void operator()(gptq_generation* g) const { gptq_generation_free(g); }
};
using ModelPtr = std::unique_ptr<gptq_model, ModelDeleter>;
using ContextPtr = std::unique_ptr<gptq_context, ContextDeleter>;
using GenerationPtr = std::unique_ptr<gptq_generation, GenerationDeleter>;
}  // namespace cli
