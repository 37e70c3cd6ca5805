// CPU speed of libgptq against llama.cpp, measured side by side in one run.
//
//   bench_cpu [--model DIR] [--threads N] [--reps N] [--llama-cpp DIR] [--large] [--no-mmap]
//
// Run it from the build directory: --large writes its 1.7 GB random model
// into ./bench-large-llama once.
//
// Prefill (pp512: 512 prompt tokens from an empty context, logits of the
// last one) and decode (tg128: 128 single-token steps from an empty
// context) as llama-bench defines them, for the fp16 model and for its
// GPTQ 4-bit version; llama-bench runs the same model's F16 and Q4_0 GGUF
// with the same thread count, and the table gives the ratios. --large adds a
// llama-shaped model with random weights (hidden 2048, 16 layers), whose fp16
// weights do not fit in the caches, to compare fp16 and 4-bit decoding.
// Uses the public C API only. Timings are printed, never asserted.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/random_llama.h"
#include "gptq.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Speeds {
  double prefill = 0;  // tokens/s
  double decode = 0;   // tokens/s
};

[[noreturn]] void die(const char* what, gptq_status status) {
  std::fprintf(stderr, "%s: %s (%s)\n", what, gptq_last_error(), gptq_status_name(status));
  std::exit(1);
}

void check(gptq_status status, const char* what) {
  if (status != GPTQ_OK) die(what, status);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

Speeds measure(gptq_model* model, int threads, int reps) {
  gptq_model_info info;
  info.struct_size = sizeof info;
  check(gptq_model_get_info(model, &info), "model info");
  gptq_context_params params;
  gptq_context_default_params(&params, sizeof params);
  params.n_ctx = 1024;
  params.n_threads = threads;
  gptq_context* context = nullptr;
  check(gptq_context_new(model, &params, &context), "context");
  std::mt19937 rng(1);
  std::vector<int32_t> prompt(512);
  for (auto& t : prompt) t = static_cast<int32_t>(rng() % info.vocab_size);
  std::vector<float> logits(info.vocab_size);

  std::vector<double> prefill, decode;
  for (int r = 0; r <= reps; ++r) {  // the first round warms up
    check(gptq_context_clear(context, -1), "clear");
    auto start = Clock::now();
    check(gptq_context_eval(context, 0, prompt.data(), prompt.size(), GPTQ_LOGITS_LAST, logits.data(), logits.size()),
          "prefill");
    const double p = std::chrono::duration<double>(Clock::now() - start).count();
    check(gptq_context_clear(context, -1), "clear");
    start = Clock::now();
    for (int i = 0; i < 128; ++i) {
      check(gptq_context_eval(context, 0, &prompt[i], 1, GPTQ_LOGITS_LAST, logits.data(), logits.size()), "decode");
    }
    const double d = std::chrono::duration<double>(Clock::now() - start).count();
    if (r > 0) {
      prefill.push_back(512 / p);
      decode.push_back(128 / d);
    }
  }
  gptq_context_free(context);
  return {median(prefill), median(decode)};
}

// llama-bench's pp512/tg128 tokens/s for a GGUF, or zeros when unavailable.
Speeds llama_bench(const std::string& llama_dir, const std::string& gguf, int threads, int reps) {
  struct stat st {};
  if (stat(gguf.c_str(), &st) != 0) return {};
  const std::string command = "LD_LIBRARY_PATH=" + llama_dir + "/lib " + llama_dir + "/bin/llama-bench -m " + gguf +
                              " -t " + std::to_string(threads) + " -p 512 -n 128 -r " + std::to_string(reps) +
                              " -o json 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {};
  std::string out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  pclose(pipe);
  Speeds s;
  try {
    for (const auto& row : nlohmann::json::parse(out)) {
      if (row["n_prompt"] == 512) s.prefill = row["avg_ts"].get<double>();
      if (row["n_gen"] == 128) s.decode = row["avg_ts"].get<double>();
    }
  } catch (const std::exception&) {
    std::fprintf(stderr, "could not read llama-bench's output for %s\n", gguf.c_str());
  }
  return s;
}

gptq_model* quantize_4bit(gptq_model* model, const std::string& calibration_file, int threads) {
  gptq_calibration* calibration = nullptr;
  gptq_quantize_params params;
  gptq_quantize_default_params(&params, sizeof params);
  params.n_threads = threads;
  if (!calibration_file.empty()) {
    check(gptq_calibration_from_file(model, calibration_file.c_str(), 16, 256, 0, &calibration), "calibration");
  } else {
    params.method = GPTQ_METHOD_RTN;  // speed does not depend on how the codes were chosen
  }
  gptq_model* quantized = nullptr;
  check(gptq_quantize(model, calibration, &params, &quantized), "quantize");
  gptq_calibration_free(calibration);
  return quantized;
}

void row(const char* name, double ours, double theirs, const char* theirs_name) {
  if (theirs > 0) {
    std::printf("| %-34s | %9.1f | %-16s %9.1f | %6.2fx |\n", name, ours, theirs_name, theirs, ours / theirs);
  } else {
    std::printf("| %-34s | %9.1f | %-16s %9s | %7s |\n", name, ours, theirs_name, "-", "-");
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string shared = "../shared";
  if (const char* env = std::getenv("GPTQ_SHARED_DIR")) shared = env;
  std::string model_dir = shared + "/models/tinydoc-llama-13m";
  std::string llama_dir = shared + "/peers/llama.cpp";
  std::string calib = shared + "/data/wikitext-2/valid.txt";
  int threads = 2, reps = 5;
  bool large = false, use_mmap = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--model") model_dir = value();
    else if (a == "--threads") threads = std::atoi(value().c_str());
    else if (a == "--reps") reps = std::atoi(value().c_str());
    else if (a == "--llama-cpp") llama_dir = value();
    else if (a == "--calib") calib = value();
    else if (a == "--large") large = true;
    else if (a == "--no-mmap") use_mmap = false;
    else {
      std::fprintf(stderr, "usage: %s [--model DIR] [--threads N] [--reps N] [--llama-cpp DIR] [--calib FILE] [--large] [--no-mmap]\n", argv[0]);
      return 2;
    }
  }
  std::printf("%s; %d threads, median of %d runs\n\n", gptq_system_info(), threads, reps);

  gptq_model_params load_params;
  gptq_model_default_params(&load_params, sizeof load_params);
  load_params.use_mmap = use_mmap ? 1 : 0;
  gptq_model* fp16 = nullptr;
  check(gptq_model_load(model_dir.c_str(), &load_params, &fp16), "load");
  gptq_model* q4 = quantize_4bit(fp16, calib, threads);
  const Speeds ours16 = measure(fp16, threads, reps);
  const Speeds ours4 = measure(q4, threads, reps);
  const Speeds cpp16 = llama_bench(llama_dir, llama_dir + "/models/tinydoc-f16.gguf", threads, reps);
  const Speeds cpp4 = llama_bench(llama_dir, llama_dir + "/models/tinydoc-q4_0.gguf", threads, reps);

  std::printf("| tinydoc (tokens/s)                 |   libgptq | llama.cpp                  |  ratio  |\n");
  std::printf("|------------------------------------|-----------|----------------------------|---------|\n");
  row("prefill pp512, fp16", ours16.prefill, cpp16.prefill, "F16");
  row("decode tg128, fp16", ours16.decode, cpp16.decode, "F16");
  row("prefill pp512, GPTQ 4-bit g128", ours4.prefill, cpp4.prefill, "Q4_0");
  row("decode tg128, GPTQ 4-bit g128", ours4.decode, cpp4.decode, "Q4_0");
  std::printf("\n4-bit vs fp16 decode on tinydoc: %.2fx\n", ours4.decode / ours16.decode);
  gptq_model_free(q4);
  gptq_model_free(fp16);

  if (large) {
    bench::LlamaShape shape;  // hidden 2048, 16 layers: 0.8 B parameters
    shape.hidden = 2048;
    shape.intermediate = 5632;
    shape.layers = 16;
    shape.heads = 16;
    shape.kv_heads = 4;
    const std::string dir = bench::write_random_llama("bench-large-llama", shape);
    gptq_model* big16 = nullptr;
    check(gptq_model_load(dir.c_str(), &load_params, &big16), "load large");
    gptq_model* big4 = quantize_4bit(big16, "", threads);
    const Speeds b16 = measure(big16, threads, 2), b4 = measure(big4, threads, 2);
    std::printf("\nrandom llama, hidden 2048, 16 layers (%s):\n", dir.c_str());
    std::printf("  decode fp16 %.1f tokens/s, 4-bit %.1f tokens/s: %.2fx\n", b16.decode, b4.decode, b4.decode / b16.decode);
    std::printf("  prefill fp16 %.1f tokens/s, 4-bit %.1f tokens/s\n", b16.prefill, b4.prefill);
    gptq_model_free(big4);
    gptq_model_free(big16);
  }
  return 0;
}
