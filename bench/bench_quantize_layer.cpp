// GPTQ's time per decoder layer of a llama-7B-shaped model on the CPU, by
// stage, and the whole model extrapolated.
//
//   bench_quantize_layer [--dir DIR] [--samples N] [--seqlen N] [--threads N] [--desc-act]
//
// Writes a random-weight checkpoint with llama-7B's layer shape (hidden
// 4096, intermediate 11008, 32 heads) and two layers into DIR once (default
// ./bench-quantize-llama7b, 0.8 GB), quantizes it w4 g128 through the C API
// from N random-token samples (default 2 of 2048 tokens) and reports the
// second layer, which carries, as every layer of a deep model does, the
// pass that turned the first layer's inputs into its own. Forward and
// Hessian time grow with the samples and nothing else does, so the layer at
// 128 x 2048 samples is (forward + hessian) * 128 / N + the rest, and the
// model is 32 of them. Timings are printed, never asserted.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "bench/random_llama.h"
#include "gptq.h"

namespace {

struct Stages {
  double forward = 0, hessian = 0, factorization = 0, gptq = 0, packing = 0;
  double total() const { return forward + hessian + factorization + gptq + packing; }
};

struct Run {
  int32_t layer = 1;  // the one reported
  Stages layer_total;
  std::vector<std::pair<std::string, Stages>> modules;
};

int32_t on_module(const gptq_quantize_module_report* r, void* user_data) {
  auto* run = static_cast<Run*>(user_data);
  if (r->layer != run->layer) return 0;
  const Stages s{r->forward_seconds, r->hessian_seconds, r->factorization_seconds, r->gptq_seconds,
                 r->packing_seconds};
  std::string name = r->module;
  name = name.substr(name.find('.', name.find("layers.") + 7) + 1);
  run->modules.emplace_back(name, s);
  Stages& t = run->layer_total;
  t.forward += s.forward;
  t.hessian += s.hessian;
  t.factorization += s.factorization;
  t.gptq += s.gptq;
  t.packing += s.packing;
  std::fprintf(stderr, "  %s done\n", name.c_str());
  return 0;
}

void check(gptq_status status, const char* what) {
  if (status == GPTQ_OK) return;
  std::fprintf(stderr, "%s: %s (%s)\n", what, gptq_last_error(), gptq_status_name(status));
  std::exit(1);
}

void print_row(const std::string& name, const Stages& s) {
  std::printf("| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n", name.c_str(), s.forward, s.hessian,
              s.factorization, s.gptq, s.packing, s.total());
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "bench-quantize-llama7b";
  int samples = 2, seqlen = 2048, threads = 0;
  bool desc_act = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--dir" && i + 1 < argc) dir = argv[++i];
    else if (a == "--samples" && i + 1 < argc) samples = std::atoi(argv[++i]);
    else if (a == "--seqlen" && i + 1 < argc) seqlen = std::atoi(argv[++i]);
    else if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--desc-act") desc_act = true;
    else {
      std::fprintf(stderr, "usage: %s [--dir DIR] [--samples N] [--seqlen N] [--threads N] [--desc-act]\n", argv[0]);
      return 2;
    }
  }
  bench::LlamaShape shape;  // llama-7B's layer; a small vocabulary keeps the file to the layers
  shape.layers = 2;
  shape.vocab = 1024;
  bench::write_random_llama(dir, shape);

  gptq_model* model = nullptr;
  check(gptq_model_load(dir.c_str(), nullptr, &model), "load");
  gptq_calibration* calibration = nullptr;
  check(gptq_calibration_new(&calibration), "calibration");
  std::mt19937 rng(3);
  std::vector<int32_t> tokens(seqlen);
  for (int s = 0; s < samples; ++s) {
    for (int32_t& t : tokens) t = static_cast<int32_t>(rng() % shape.vocab);
    check(gptq_calibration_add(calibration, tokens.data(), tokens.size()), "calibration");
  }
  gptq_quantize_params params;
  gptq_quantize_default_params(&params, sizeof params);
  params.desc_act = desc_act ? 1 : 0;
  params.n_threads = threads;
  Run run;
  params.report = on_module;
  params.report_user_data = &run;
  gptq_model* quantized = nullptr;
  const auto start = std::chrono::steady_clock::now();
  check(gptq_quantize(model, calibration, &params, &quantized), "quantize");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::printf("llama-7B-shaped layer, w4 g128%s, %d x %d calibration tokens, 2 layers in %.1f s\n\n",
              desc_act ? " act-order" : "", samples, seqlen, seconds);
  std::printf("| module (layer 1) | forward | hessian | factorization | gptq | packing | total (s) |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const auto& [name, s] : run.modules) print_row(name, s);
  print_row("layer", run.layer_total);
  const Stages& t = run.layer_total;
  const double scale = 128.0 * 2048.0 / (static_cast<double>(samples) * seqlen);
  Stages full = t;
  full.forward *= scale;
  full.hessian *= scale;
  std::printf("\nat 128 x 2048 samples, per layer:\n");
  print_row("layer, extrapolated", full);
  std::printf("32 layers: %.1f h; linear algebra (factorization) %.2f%% of it\n", 32 * full.total() / 3600.0,
              100.0 * full.factorization / full.total());
  gptq_model_free(quantized);
  gptq_calibration_free(calibration);
  gptq_model_free(model);
  return 0;
}
