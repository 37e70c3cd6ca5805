// gptq quantize: GPTQ (or RTN) a float checkpoint into an AutoGPTQ-format one.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <iterator>
#include <string>
#include <vector>

#include "commands.h"
#include "common.h"

namespace cli {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// The stages of gptq_quantize_module_report under their --json names.
struct Stage {
  const char* name;
  double gptq_quantize_module_report::*seconds;
};
constexpr Stage kStages[] = {
    {"forward", &gptq_quantize_module_report::forward_seconds},
    {"hessian", &gptq_quantize_module_report::hessian_seconds},
    {"factorization", &gptq_quantize_module_report::factorization_seconds},
    {"gptq", &gptq_quantize_module_report::gptq_seconds},
    {"packing", &gptq_quantize_module_report::packing_seconds},
};

// "1h02m", "3m07s", "42s".
std::string duration_text(double seconds) {
  const long total = static_cast<long>(seconds + 0.5);
  char text[32];
  if (total >= 3600) std::snprintf(text, sizeof text, "%ldh%02ldm", total / 3600, total / 60 % 60);
  else if (total >= 60) std::snprintf(text, sizeof text, "%ldm%02lds", total / 60, total % 60);
  else std::snprintf(text, sizeof text, "%lds", total);
  return text;
}

// "mlp.down_proj" of "model.layers.3.mlp.down_proj".
std::string short_module_name(const std::string& name) {
  const size_t last = name.rfind('.');
  const size_t before = last == std::string::npos || last == 0 ? std::string::npos : name.rfind('.', last - 1);
  return before == std::string::npos ? name : name.substr(before + 1);
}

struct QuantizeProgress {
  bool print_lines = true;
  Clock::time_point start = Clock::now();
  int32_t current_layer = -1;
  double layer_loss = 0;
  double layer_seconds = 0;
  int layer_modules = 0;
  double stage_totals[std::size(kStages)] = {};
  nlohmann::json modules = nlohmann::json::array();

  void close_layer(int32_t n_layers) {
    if (current_layer < 0 || !print_lines) return;
    finish_progress_line();
    std::fprintf(stderr, "layer %d/%d: average loss %.6g over %d modules, %.1f s\n", current_layer + 1, n_layers,
                 layer_modules > 0 ? layer_loss / layer_modules : 0.0, layer_modules, layer_seconds);
  }

  nlohmann::json stage_seconds(double save_seconds) const {
    nlohmann::json totals = nlohmann::json::object();
    for (size_t i = 0; i < std::size(kStages); ++i) totals[kStages[i].name] = stage_totals[i];
    totals["saving"] = save_seconds;
    return totals;
  }
};

int32_t on_module(const gptq_quantize_module_report* report, void* user_data) {
  auto* state = static_cast<QuantizeProgress*>(user_data);
  if (report->layer != state->current_layer) {
    state->close_layer(report->n_layers);
    state->current_layer = report->layer;
    state->layer_loss = 0;
    state->layer_seconds = 0;
    state->layer_modules = 0;
  }
  state->layer_loss += report->loss;
  ++state->layer_modules;
  nlohmann::json seconds = nlohmann::json::object();
  for (size_t i = 0; i < std::size(kStages); ++i) {
    const double value = report->*kStages[i].seconds;
    seconds[kStages[i].name] = value;
    state->stage_totals[i] += value;
    state->layer_seconds += value;
  }
  state->modules.push_back({{"module", report->module}, {"layer", report->layer}, {"loss", report->loss},
                            {"seconds", seconds}});
  // Every layer has the same modules, so the fraction of modules done is
  // the fraction of the work done at each layer's end.
  const double elapsed = seconds_since(state->start);
  const double fraction = report->fraction;
  const double eta = fraction > 0 ? elapsed * (1.0 - fraction) / fraction : 0.0;
  draw_progress_bar("layer " + std::to_string(report->layer + 1) + "/" + std::to_string(report->n_layers), fraction,
                    short_module_name(report->module) + "  " + duration_text(elapsed) + " elapsed, ETA " +
                        duration_text(eta));
  return interrupted() ? 1 : 0;
}

double peak_rss_mib() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

}  // namespace

int run_quantize(int argc, char** argv) {
  std::vector<Option> options = {
      {"model", "DIR", "float checkpoint to quantize"},
      {"out", "DIR", "where to write the quantized checkpoint (must not exist)"},
      {"bits", "N", "2, 3, 4 or 8 (default 4)"},
      {"group-size", "N", "columns per group, -1 for one group (default 128)"},
      {"desc-act", "", "act-order: quantize columns by decreasing Hessian diagonal"},
      {"sym", "", "symmetric zero points (the default)"},
      {"asym", "", "asymmetric zero points"},
      {"static-groups", "", "fix group ranges before act-order"},
      {"no-true-sequential", "", "quantize all of a layer's linears from its float inputs"},
      {"damp", "F", "damping as a fraction of mean(diag H) (default 0.01)"},
      {"mse", "", "search each group's range for the least error"},
      {"calib", "FILE", "calibration text (random windows) or .jsonl with \"text\" or \"input_ids\" per line"},
      {"nsamples", "N", "calibration samples (default 128)"},
      {"seqlen", "N", "tokens per calibration sample (default 2048)"},
      {"seed", "N", "calibration sampling seed (default 0)"},
      {"format", "gptq|gptq_v2", "checkpoint format (default gptq, as AutoGPTQ writes)"},
      {"rtn", "", "round-to-nearest baseline instead of GPTQ (no calibration needed)"},
      {"skip", "MODULE", "keep a module in float, e.g. mlp.down_proj", true},
      {"shard-size", "MB", "split the weights into shards of at most MB megabytes"},
      {"json", "", "print a JSON report on stdout"},
      {"threads", "N", "worker threads (default: one per physical core)"},
      {"device", "DEV", "where to quantize: cpu (default), cuda, cuda:N, auto (the first usable GPU, else the CPU); "
                        "the model stays on the CPU and its layers go to the GPU one at a time"},
      {"compute-dtype", "auto|f16|bf16|f32", "a GPU's activation type (default auto: bf16 for bf16 models, else f16; "
                                             "f32 reproduces the CPU's arithmetic)"},
      {"max-device-mb", "MB", "GPU memory the quantizer may plan for (default: what is free); calibration "
                              "activations that do not fit stay in pinned host memory"},
      {"all-experts", "", "mixture of experts: calibrate every expert on every calibration token"},
      {"min-expert-tokens", "N", "mixture of experts: an expert routed fewer tokens is warned about and calibrated "
                                 "on every token (default 0: hidden_size; -1: no minimum)"},
  };
  Args args("quantize", "--model DIR --out DIR --calib FILE [options]", options);
  std::string error;
  if (!args.parse(argc, argv, 2, &error)) return report_usage(args, error);
  if (args.help_requested()) return std::printf("%s", args.help().c_str()), kExitOk;
  if (!args.has("model") || !args.has("out")) return report_usage(args, "--model and --out are required");
  const bool rtn = args.has("rtn");
  if (!rtn && !args.has("calib")) return report_usage(args, "--calib is required for GPTQ (or pass --rtn)");
  if (args.has("sym") && args.has("asym")) return report_usage(args, "--sym and --asym exclude each other");
  if (!args.positional().empty()) return report_usage(args, "unexpected argument '" + args.positional()[0] + "'");
  const std::string format = args.get("format", "gptq");
  if (format != "gptq" && format != "gptq_v2") return report_usage(args, "--format must be gptq or gptq_v2");

  gptq_quantize_params params;
  gptq_quantize_default_params(&params, sizeof params);
  long long bits = 0, group = 0, nsamples = 0, seqlen = 0, seed = 0, threads = 0, shard_mb = 0, device_mb = 0,
            min_expert_tokens = 0;
  double damp = 0;
  const std::string device = args.get("device", "cpu");
  params.device = device.c_str();
  if (!read_dtype(args, "compute-dtype", &params.compute_dtype, &error) ||
      !args.get_int("bits", params.bits, &bits, &error) ||
      !args.get_int("group-size", params.group_size, &group, &error) ||
      !args.get_int("nsamples", 128, &nsamples, &error) || !args.get_int("seqlen", 2048, &seqlen, &error) ||
      !args.get_int("seed", 0, &seed, &error) || !args.get_int("threads", 0, &threads, &error) ||
      !args.get_int("shard-size", 0, &shard_mb, &error) || !args.get_int("max-device-mb", 0, &device_mb, &error) ||
      !args.get_int("min-expert-tokens", 0, &min_expert_tokens, &error) || !args.get_float("damp", params.damp_percent, &damp, &error)) {
    return report_usage(args, error);
  }
  params.bits = static_cast<int32_t>(bits);
  params.group_size = static_cast<int32_t>(group);
  params.desc_act = args.has("desc-act") ? 1 : 0;
  params.sym = args.has("asym") ? 0 : 1;
  params.static_groups = args.has("static-groups") ? 1 : 0;
  params.true_sequential = args.has("no-true-sequential") ? 0 : 1;
  params.damp_percent = static_cast<float>(damp);
  params.method = rtn ? GPTQ_METHOD_RTN : GPTQ_METHOD_GPTQ;
  params.mse = args.has("mse") ? 1 : 0;
  params.n_threads = static_cast<int32_t>(threads);
  params.max_device_bytes = device_mb * 1000 * 1000;
  params.calibrate_all_experts = args.has("all-experts") ? 1 : 0;
  params.min_expert_tokens = static_cast<int32_t>(min_expert_tokens);
  std::vector<const char*> skips;
  for (const std::string& s : args.all("skip")) skips.push_back(s.c_str());
  params.skip_modules = skips.data();
  params.n_skip_modules = static_cast<int32_t>(skips.size());
  const bool json = args.has("json");
  QuantizeProgress progress;
  progress.print_lines = !json;
  params.report = on_module;
  params.report_user_data = &progress;

  gptq_model* raw_model = nullptr;
  if (int code = load_model(args.get("model"), &raw_model, DeviceOptions{}); code != kExitOk) return code;
  ModelPtr model(raw_model);
  gptq_model_info info;
  info.struct_size = sizeof info;
  if (gptq_status s = gptq_model_get_info(model.get(), &info); s != GPTQ_OK) return report_failure(s);

  gptq_calibration* raw_calibration = nullptr;
  if (!rtn) {
    const gptq_status s = gptq_calibration_from_file(model.get(), args.get("calib").c_str(), static_cast<int32_t>(nsamples),
                                                     static_cast<int32_t>(seqlen), static_cast<uint64_t>(seed), &raw_calibration);
    if (s != GPTQ_OK) return report_failure(s);
  }
  std::unique_ptr<gptq_calibration, void (*)(gptq_calibration*)> calibration(raw_calibration, gptq_calibration_free);

  const auto start = Clock::now();
  progress.start = start;
  gptq_model* raw_quantized = nullptr;
  gptq_status status = gptq_quantize(model.get(), calibration.get(), &params, &raw_quantized);
  progress.close_layer(info.n_layers);
  if (status != GPTQ_OK) return report_failure(status);
  ModelPtr quantized(raw_quantized);
  const double quantize_seconds = seconds_since(start);

  gptq_save_params save;
  gptq_save_default_params(&save, sizeof save);
  save.format = format == "gptq_v2" ? GPTQ_FORMAT_GPTQ_V2 : GPTQ_FORMAT_GPTQ;
  save.max_shard_bytes = shard_mb * 1000 * 1000;
  const auto save_start = Clock::now();
  status = gptq_model_save(quantized.get(), args.get("out").c_str(), &save);
  if (status != GPTQ_OK) return report_failure(status);
  const double save_seconds = seconds_since(save_start);

  gptq_model_info qinfo;
  qinfo.struct_size = sizeof qinfo;
  if (gptq_status s = gptq_model_get_info(quantized.get(), &qinfo); s != GPTQ_OK) return report_failure(s);
  const nlohmann::json report = {
      {"out", args.get("out")},
      {"method", rtn ? "rtn" : "gptq"},
      {"device", rtn ? "cpu" : device},
      {"bits", params.bits},
      {"group_size", params.group_size},
      {"desc_act", params.desc_act != 0},
      {"sym", params.sym != 0},
      {"static_groups", params.static_groups != 0},
      {"calibration_samples", calibration ? gptq_calibration_count(calibration.get()) : 0},
      {"seqlen", seqlen},
      {"quantize_seconds", quantize_seconds},
      {"stage_seconds", progress.stage_seconds(save_seconds)},
      {"peak_rss_mib", peak_rss_mib()},
      {"weight_bytes_before", info.weight_bytes},
      {"weight_bytes_after", qinfo.weight_bytes},
      {"modules", progress.modules},
  };
  if (json) {
    print_json(report);
  } else {
    std::printf("quantized %s to %d bits in %.1f s (peak memory %.0f MiB); wrote %s\n", args.get("model").c_str(),
                params.bits, quantize_seconds, peak_rss_mib(), args.get("out").c_str());
  }
  return kExitOk;
}

}  // namespace cli
