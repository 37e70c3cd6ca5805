// End-to-end speed of a model on a device, through the public C API alone:
// time to first token and prefill tokens/s for a long prompt, and decode
// tokens/s of greedy generation at several batch sizes (every step one
// device-to-host copy of the logits, sampled on the host).
//
//   bench_gpu_e2e --model DIR [--device cuda] [--prompt-tokens 2048]
//                 [--decode-tokens 128] [--batches 1,16,64] [--json FILE]
//                 [--label NAME]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gptq.h"

namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "bench_gpu_e2e: %s: %s\n", what, gptq_last_error());
  std::exit(1);
}

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

}  // namespace

int main(int argc, char** argv) {
  std::string model_dir, device = "cuda", json_path, label;
  int32_t prompt_tokens = 2048, decode_tokens = 128;
  std::vector<int32_t> batches = {1, 16, 64};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--model") model_dir = value();
    else if (arg == "--device") device = value();
    else if (arg == "--prompt-tokens") prompt_tokens = std::atoi(value().c_str());
    else if (arg == "--decode-tokens") decode_tokens = std::atoi(value().c_str());
    else if (arg == "--json") json_path = value();
    else if (arg == "--label") label = value();
    else if (arg == "--batches") {
      batches.clear();
      std::stringstream list(value());
      for (std::string b; std::getline(list, b, ',');) batches.push_back(std::atoi(b.c_str()));
    } else {
      std::fprintf(stderr, "usage: %s --model DIR [--device D] [--prompt-tokens N] [--decode-tokens N] "
                           "[--batches 1,16,64] [--json FILE] [--label NAME]\n", argv[0]);
      return 2;
    }
  }
  if (model_dir.empty()) {
    std::fprintf(stderr, "--model is required\n");
    return 2;
  }
  if (label.empty()) label = model_dir;

  gptq_model_params mp;
  gptq_model_default_params(&mp, sizeof mp);
  mp.device = device.c_str();
  gptq_model* model = nullptr;
  const double load_start = now();
  if (gptq_model_load(model_dir.c_str(), &mp, &model) != GPTQ_OK) die("loading the model");
  const double load_seconds = now() - load_start;
  gptq_model_info info;
  info.struct_size = sizeof info;
  if (gptq_model_get_info(model, &info) != GPTQ_OK) die("model info");
  std::printf("%s: %s on %s (%s), %lld weight bytes on the GPU, loaded in %.1f s\n", label.c_str(), info.architecture,
              info.device, info.placement, static_cast<long long>(info.gpu_weight_bytes), load_seconds);

  nlohmann::json rows = nlohmann::json::array();
  const std::string format = info.quant_bits > 0 ? "gptq" + std::to_string(info.quant_bits) : "fp16";

  // Prefill: one prompt of random tokens, its last logits; best of three.
  {
    gptq_context_params cp;
    gptq_context_default_params(&cp, sizeof cp);
    cp.n_ctx = prompt_tokens + 8;
    cp.n_batch = prompt_tokens;
    gptq_context* context = nullptr;
    if (gptq_context_new(model, &cp, &context) != GPTQ_OK) die("creating the prefill context");
    std::mt19937 rng(1);
    std::uniform_int_distribution<int32_t> token(3, std::min(info.vocab_size, 8000) - 1);
    std::vector<int32_t> prompt(static_cast<size_t>(prompt_tokens));
    for (int32_t& t : prompt) t = token(rng);
    std::vector<float> logits(static_cast<size_t>(info.vocab_size));
    double best = 1e30;
    for (int rep = 0; rep < 4; ++rep) {
      if (gptq_context_clear(context, 0) != GPTQ_OK) die("clearing");
      const double start = now();
      if (gptq_context_eval(context, 0, prompt.data(), prompt.size(), GPTQ_LOGITS_LAST, logits.data(), logits.size()) !=
          GPTQ_OK) {
        die("prefill");
      }
      if (rep > 0) best = std::min(best, now() - start);  // the first run warms up
    }
    std::printf("  prefill %d tokens: time to first token %.1f ms, %.0f tokens/s\n", prompt_tokens, 1e3 * best,
                prompt_tokens / best);
    rows.push_back({{"model", label}, {"format", format}, {"batch", 1}, {"prompt_tokens", prompt_tokens},
                    {"ttft_ms", 1e3 * best}, {"prefill_tokens_per_s", prompt_tokens / best}});
    gptq_context_free(context);
  }

  // Decode: batches of short prompts, greedy, fixed length.
  for (int32_t batch : batches) {
    gptq_context_params cp;
    gptq_context_default_params(&cp, sizeof cp);
    cp.n_ctx = 64 + decode_tokens;
    cp.n_seq_max = batch;
    cp.n_batch = std::max(512, 16 * batch);
    gptq_context* context = nullptr;
    if (gptq_context_new(model, &cp, &context) != GPTQ_OK) die("creating the decode context");
    std::vector<std::string> texts(static_cast<size_t>(batch));
    std::vector<const char*> prompts;
    for (int32_t b = 0; b < batch; ++b) {
      texts[b] = "The history of the city number " + std::to_string(b) + " begins with";
      prompts.push_back(texts[b].c_str());
    }
    gptq_generate_params gp;
    gptq_generate_default_params(&gp, sizeof gp);
    gp.max_new_tokens = decode_tokens;
    gp.stop_on_eos = 0;
    double best_rate = 0;
    for (int rep = 0; rep < 3; ++rep) {
      gptq_generation* generation = nullptr;
      if (gptq_generate_batch(context, prompts.data(), prompts.size(), &gp, &generation) != GPTQ_OK) die("generating");
      gptq_timings timings;
      timings.struct_size = sizeof timings;
      if (gptq_generation_timings(generation, &timings) != GPTQ_OK) die("timings");
      if (rep > 0) best_rate = std::max(best_rate, timings.generated_tokens_per_second);
      gptq_generation_free(generation);
    }
    std::printf("  decode batch %3d: %8.1f tokens/s (%.1f per sequence)\n", batch, best_rate, best_rate / batch);
    rows.push_back({{"model", label}, {"format", format}, {"batch", batch},
                    {"decode_tokens_per_s", best_rate}, {"gpu_weight_bytes", info.gpu_weight_bytes}});
    gptq_context_free(context);
  }
  gptq_model_free(model);
  if (!json_path.empty()) std::ofstream(json_path) << rows.dump(1) << "\n";
  return 0;
}
