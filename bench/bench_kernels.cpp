// bench_kernels: speed of the CPU kernels on tinydoc's shapes, for every ISA
// this machine runs, with 1 and 2 threads, against the machine's own FMA
// peak (measured here with a dependency-free FMA loop), and an estimate of
// a whole tinydoc prefill and decode step (matmuls + attention only), with
// fp16 and with GPTQ 4-bit layers, next to llama.cpp's numbers on this
// machine. GPTQ weights (3, 4, 8 bits) are also timed against fp16 ones on
// tinydoc's shapes and on a layer too large for any cache.
//
//   bench_kernels [--quick] [matmul|gptq|attention|estimate]   (default: all)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/gptq_kernels.h"
#include "bench_timing.h"
#include "bench_weights.h"

namespace {

using gptq::ThreadPool;
using namespace gptq::cpu;
using namespace bench;

// llama.cpp (peers/llama.cpp) on this machine, 2 threads, tinydoc F16,
// llama-bench on a quiet machine.
constexpr double kLlamaPrefillTokensPerSecond = 5290.0;  // pp512
constexpr double kLlamaDecodeTokensPerSecond = 883.0;    // tg128
// The same, tinydoc quantized to Q4_0.
constexpr double kLlamaQ4PrefillTokensPerSecond = 6702.0;  // pp512
constexpr double kLlamaQ4DecodeTokensPerSecond = 1323.0;   // tg128


// FMA throughput of one core: 12 independent accumulator chains (enough to
// cover latency x ports on any current core), counted as 2 flops per lane.
double fma_peak_gflops(Isa isa, int threads) {
  constexpr long kIters = 1'000'000;  // ~2 ms: short runs let best-of find quiet moments
// Twelve FMAs on registers <prefix>2..13, from <prefix>0 and <prefix>1.
#define GPTQ_FMA(R, D) "vfmadd231ps %%" R "0, %%" R "1, %%" R #D "\n"
#define GPTQ_FMA12(R)                                                                                   \
  GPTQ_FMA(R, 2) GPTQ_FMA(R, 3) GPTQ_FMA(R, 4) GPTQ_FMA(R, 5) GPTQ_FMA(R, 6) GPTQ_FMA(R, 7) GPTQ_FMA(R, 8) \
      GPTQ_FMA(R, 9) GPTQ_FMA(R, 10) GPTQ_FMA(R, 11) GPTQ_FMA(R, 12) GPTQ_FMA(R, 13)
#define GPTQ_FMA_LOOP(R)                                                                                  \
  asm volatile("vxorps %%xmm0, %%xmm0, %%xmm0\n vxorps %%xmm1, %%xmm1, %%xmm1\n1:\n" GPTQ_FMA12(R)        \
               "dec %0\n jnz 1b\n vzeroupper\n"                                                          \
               : "+r"(n)::"xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", \
                 "xmm10", "xmm11", "xmm12", "xmm13", "cc")
  auto loop = [isa] {
    long n = kIters;
    if (isa == Isa::Avx512) {
      GPTQ_FMA_LOOP("zmm");
    } else {
      GPTQ_FMA_LOOP("ymm");
    }
  };
  ThreadPool pool(threads);
  const double seconds = time_call([&] { pool.run([&](int) { loop(); }); });
  const double lanes = isa == Isa::Avx512 ? 16 : 8;
  return threads * kIters * 12.0 * lanes * 2.0 / seconds / 1e9;
}


struct Shape {
  const char* name;
  int64_t n, k;
  int per_layer;  // how many matrices of this shape a tinydoc layer has
};

constexpr Shape kShapes[] = {
    {"q,o 384x384", 384, 384, 2},      {"k,v 128x384", 128, 384, 2}, {"gate,up 1024x384", 1024, 384, 2},
    {"down 384x1024", 384, 1024, 1},   {"lm_head 8192x384", 8192, 384, 0},
};
constexpr int kLayers = 6, kHidden = 384, kHeads = 6, kKvHeads = 2, kHeadDim = 64, kVocab = 8192;


// A KV cache and queries for one sequence, attention over `n_tokens` tokens
// ending at position `last`.
struct AttentionCase {
  std::vector<float> q, out, k, v;
  std::vector<int32_t> seq, pos;
  AttentionProblem p;
  AttentionCase(int n_tokens, int last, std::mt19937& rng)
      : q(random_vector(size_t(n_tokens) * kHeads * kHeadDim, rng)),
        out(q.size()),
        k(random_vector(size_t(kKvHeads) * (last + 1) * kHeadDim, rng)),
        v(random_vector(k.size(), rng)),
        seq(n_tokens, 0) {
    for (int t = 0; t < n_tokens; ++t) pos.push_back(last - n_tokens + 1 + t);
    p.n_tokens = n_tokens;
    p.n_heads = kHeads;
    p.n_kv_heads = kKvHeads;
    p.head_dim = kHeadDim;
    p.q = q.data();
    p.q_stride = kHeads * kHeadDim;
    p.out = out.data();
    p.out_stride = p.q_stride;
    p.seq = seq.data();
    p.pos = pos.data();
    p.k = k.data();
    p.v = v.data();
    p.head_stride = int64_t{last + 1} * kHeadDim;
    p.seq_stride = p.head_stride * kKvHeads;
    p.scale = 0.125f;
  }
};

// peak_1t: the 1-thread FMA peak of each ISA (by Isa value; 0 for scalar).
void print_matmul_table(const std::vector<Isa>& isas, ThreadPool* pools[2], const double peak_1t[3],
                        std::mt19937& rng) {
  std::printf(
      "\nmatmul, fp16 weights (GB/s counts weight bytes; %%pk: of threads x the ISA's 1-thread FMA peak)\n");
  std::printf("%-18s %4s %-7s | %9s %8s %7s %4s | %9s %8s %7s %4s\n", "shape NxK", "M", "isa", "1T us", "GFLOP/s",
              "GB/s", "%pk", "2T us", "GFLOP/s", "GB/s", "%pk");
  for (const Shape& shape : kShapes) {
    // Enough copies to total ~tinydoc's 25 MB, cycled so each M = 1 call
    // streams its weights from memory as in a real decode, not from L2.
    const int copies = static_cast<int>(std::clamp<int64_t>(25'000'000 / (shape.n * shape.k * 2), 1, 64));
    std::vector<Matrix> weights;
    for (int c = 0; c < copies; ++c) weights.emplace_back(shape.n, shape.k, rng);
    for (int64_t M : {1, 512}) {
      const std::vector<float> x = random_vector(M * shape.k, rng);
      std::vector<float> y(M * shape.n);
      for (Isa isa : isas) {
        double us[2], gflops[2], gbs[2];
        for (int t = 0; t < 2; ++t) {
          int next = 0;
          const double s = time_call([&] {
            matmul(isa, *pools[t], x.data(), shape.k, M, weights[next].w, nullptr, y.data(), shape.n);
            next = (next + 1) % copies;
          });
          us[t] = s * 1e6;
          gflops[t] = 2.0 * M * shape.n * shape.k / s / 1e9;
          gbs[t] = 2.0 * shape.n * shape.k / s / 1e9;
        }
        const double peak = peak_1t[static_cast<int>(isa)];
        std::printf("%-18s %4lld %-7s | %9.1f %8.1f %7.1f %3.0f%% | %9.1f %8.1f %7.1f %3.0f%%\n", shape.name,
                    static_cast<long long>(M), isa_name(isa), us[0], gflops[0], gbs[0],
                    peak > 0 ? 100.0 * gflops[0] / peak : 0.0, us[1], gflops[1], gbs[1],
                    peak > 0 ? 50.0 * gflops[1] / peak : 0.0);
      }
    }
  }
}

// GPTQ weights against fp16 ones on tinydoc's shapes and on a large
// layer (1B-model MLP) that no cache holds, with the active ISA.
void print_gptq_table(ThreadPool* pools[2], const double peak_1t[3], std::mt19937& rng) {
  struct Kind {
    const char* name;
    int bits;  // 0: fp16
    bool act_order;
  };
  const Kind kinds[] = {{"fp16", 0, false}, {"q4 g128", 4, false}, {"q4 g128 act", 4, true},
                        {"q3 g128", 3, false}, {"q8 g128", 8, false}};
  const Shape shapes[] = {kShapes[0], kShapes[1], kShapes[2], kShapes[3], {"mlp up 5632x2048", 5632, 2048, 0},
                          {"mlp down 2048x5632", 2048, 5632, 0}};
  const Isa isa = active_isa();
  const double peak = peak_1t[static_cast<int>(isa)];
  std::printf("\nmatmul, GPTQ vs fp16 weights, %s (GB/s counts the bytes of the weights as stored,\n"
              "GPTQ: packed codes + fp16 scales/zeros; %%pk as above)\n", isa_name(isa));
  std::printf("%-18s %4s %-11s | %9s %8s %7s %4s | %9s %8s %7s %4s\n", "shape NxK", "M", "weights", "1T us",
              "GFLOP/s", "GB/s", "%pk", "2T us", "GFLOP/s", "GB/s", "%pk");
  for (const Shape& shape : shapes) {
    for (const Kind& kind : kinds) {
      // Copies cycled as in print_matmul_table, ~25 MB in all.
      std::vector<Linear> weights;
      weights.emplace_back(shape.n, shape.k, kind.bits, rng, 128, kind.act_order);
      const int copies = static_cast<int>(std::clamp<int64_t>(25'000'000 / weights[0].bytes(), 1, 64));
      while (static_cast<int>(weights.size()) < copies) {
        weights.emplace_back(shape.n, shape.k, kind.bits, rng, 128, kind.act_order);
      }
      for (int64_t M : {1, 512}) {
        const std::vector<float> x = random_vector(M * shape.k, rng);
        std::vector<float> y(M * shape.n);
        double us[2], gflops[2], gbs[2];
        for (int t = 0; t < 2; ++t) {
          int next = 0;
          const double s = time_call([&] {
            const MatmulOutput out = weights[next].output(y.data(), shape.n);
            matmul_multi(isa, *pools[t], x.data(), shape.k, M, &out, 1);
            next = (next + 1) % copies;
          });
          us[t] = s * 1e6;
          gflops[t] = 2.0 * M * shape.n * shape.k / s / 1e9;
          gbs[t] = weights[0].bytes() / s / 1e9;
        }
        std::printf("%-18s %4lld %-11s | %9.1f %8.1f %7.1f %3.0f%% | %9.1f %8.1f %7.1f %3.0f%%\n", shape.name,
                    static_cast<long long>(M), kind.name, us[0], gflops[0], gbs[0],
                    peak > 0 ? 100.0 * gflops[0] / peak : 0.0, us[1], gflops[1], gbs[1],
                    peak > 0 ? 50.0 * gflops[1] / peak : 0.0);
      }
    }
  }
}

void print_attention_table(const std::vector<Isa>& isas, ThreadPool* pools[2], std::mt19937& rng) {
  std::printf("\nattention, %d heads / %d kv heads, dim %d\n", kHeads, kKvHeads, kHeadDim);
  std::printf("%-30s %-7s | %10s %10s\n", "case", "isa", "1T us", "2T us");
  AttentionCase prefill(512, 511, rng), decode(1, 511, rng);
  for (Isa isa : isas) {
    for (AttentionCase* c : {&prefill, &decode}) {
      double us[2];
      for (int t = 0; t < 2; ++t) us[t] = time_call([&] { attention(isa, *pools[t], c->p); }) * 1e6;
      std::printf("%-30s %-7s | %10.1f %10.1f\n",
                  c == &prefill ? "prefill 512 tokens (causal)" : "decode 1 token at pos 511", isa_name(isa), us[0],
                  us[1]);
    }
  }
}

// The matmuls and attention of a whole tinydoc forward pass of M tokens
// (norms, rotary, activations and sampling are left out: they are a few
// microseconds), on separate weight buffers so caches behave as in a run.
// Layer weights are fp16 (bits 0) or GPTQ with groups of 128; lm_head
// stays fp16, as quantized checkpoints keep it.
struct Tinydoc {
  std::vector<Linear> layers;  // per layer: q, k, v, o, gate, up, down
  Matrix lm_head;
  Tinydoc(int bits, std::mt19937& rng) : lm_head(kVocab, kHidden, rng) {
    for (int l = 0; l < kLayers; ++l) {
      for (auto [n, k] : {std::pair{384, 384}, {128, 384}, {128, 384}, {384, 384}, {1024, 384}, {1024, 384}, {384, 1024}})
        layers.emplace_back(n, k, bits, rng);
    }
  }

  // logits_rows: how many of the M tokens get logits (llama.cpp computes
  // only the last one's in a prompt). fused: q/k/v and gate/up each as one
  // matmul_multi step, as the forward pass should call them.
  void forward(ThreadPool& pool, int M, int logits_rows, bool fused, AttentionCase& attn, std::vector<float>& buf,
               StepTimes& step) const {
    float* x = buf.data();
    float* y = x + size_t(M) * 1024;
    float* y2 = y + size_t(M) * 1024;
    auto group = [&](const float* in, int64_t ldx, std::initializer_list<MatmulOutput> outputs) {
      if (fused) {
        step([&] { matmul_multi(pool, in, ldx, M, outputs.begin(), static_cast<int>(outputs.size())); });
      } else {
        for (const MatmulOutput& o : outputs) step([&] { matmul_multi(pool, in, ldx, M, &o, 1); });
      }
    };
    for (int l = 0; l < kLayers; ++l) {
      const Linear* m = &layers[size_t(l) * 7];
      group(x, kHidden, {m[0].output(y, kHidden), m[1].output(y2, 128), m[2].output(y2 + M * 128, 128)});
      step([&] { attention(pool, attn.p); });
      group(x, kHidden, {m[3].output(y, kHidden)});
      group(x, kHidden, {m[4].output(y, 1024), m[5].output(y2, 1024)});
      group(y, 1024, {m[6].output(x, kHidden)});
    }
    step([&] { matmul(pool, x, kHidden, logits_rows, lm_head.w, nullptr, y, kVocab); });
  }
};

void print_estimate(ThreadPool* pools[2], std::mt19937& rng) {
  std::printf("\ntinydoc estimate (%s kernels: matmuls + attention)\n", isa_name(active_isa()));
  std::printf("(ms: sum of per-step best times over repeated passes; in brackets the best whole pass;\n"
              " llama.cpp: F16 for fp16 weights, Q4_0 for GPTQ 4-bit)\n");
  std::vector<float> buf(size_t(512) * (2048 + kVocab), 0.01f);
  AttentionCase prefill_attn(512, 511, rng), decode_attn(1, 64, rng);
  for (int bits : {0, 4}) {
    const Tinydoc model(bits, rng);
    const bool q4 = bits == 4;
    const double llama_prefill_ms = 512.0 / (q4 ? kLlamaQ4PrefillTokensPerSecond : kLlamaPrefillTokensPerSecond) * 1e3;
    const double llama_decode_ms = 1e3 / (q4 ? kLlamaQ4DecodeTokensPerSecond : kLlamaDecodeTokensPerSecond);
    // {sum of the steps' best times, best whole pass}, in ms.
    auto estimate = [&](ThreadPool& pool, int M, int logits_rows, bool fused, AttentionCase& attn) {
      StepTimes steps;
      double whole = 1e30, spent = 0;
      const double budget = (M == 1 ? 1.0 : 4.0) * g_min_seconds / 0.3;
      for (int pass = 0; pass < 3 || spent < budget; ++pass) {
        steps.new_pass();
        const auto start = std::chrono::steady_clock::now();
        model.forward(pool, M, logits_rows, fused, attn, buf, steps);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        whole = std::min(whole, s);
        spent += s;
      }
      return std::pair{steps.total() * 1e3, whole * 1e3};
    };
    std::printf("%s layers:\n", q4 ? "GPTQ 4-bit g128" : "fp16");
    for (int t = 0; t < 2; ++t) {
      ThreadPool& pool = *pools[t];
      const auto separate = estimate(pool, 1, 1, false, decode_attn);
      const auto decode = estimate(pool, 1, 1, true, decode_attn);
      const auto prefill = estimate(pool, 512, 1, true, prefill_attn);
      const auto prefill_all = estimate(pool, 512, 512, true, prefill_attn);
      std::printf("%dT decode 1 token (ctx 64), 49 calls:  %7.3f [%7.3f] ms = %6.0f tok/s  (llama.cpp %.3f ms: x%.2f)\n",
                  t + 1, separate.first, separate.second, 1e3 / separate.first, llama_decode_ms,
                  llama_decode_ms / separate.first);
      std::printf("%dT decode 1 token, fused qkv, gate/up: %7.3f [%7.3f] ms = %6.0f tok/s  (llama.cpp %.3f ms: x%.2f)\n",
                  t + 1, decode.first, decode.second, 1e3 / decode.first, llama_decode_ms,
                  llama_decode_ms / decode.first);
      std::printf("%dT prefill 512, logits of last:        %7.2f [%7.2f] ms = %6.0f tok/s  (llama.cpp %.2f ms: x%.2f)\n",
                  t + 1, prefill.first, prefill.second, 512e3 / prefill.first, llama_prefill_ms,
                  llama_prefill_ms / prefill.first);
      std::printf("%dT prefill 512, logits of all 512:     %7.2f [%7.2f] ms = %6.0f tok/s\n", t + 1,
                  prefill_all.first, prefill_all.second, 512e3 / prefill_all.first);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string only;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      g_min_seconds = 0.05;
    } else {
      only = argv[i];
    }
  }
  auto wanted = [&](const char* part) { return only.empty() || only == part; };
  std::vector<Isa> isas;
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (isa_supported(isa)) isas.push_back(isa);
  }
  ThreadPool one(1), two(2);
  ThreadPool* pools[2] = {&one, &two};
  std::mt19937 rng(1);

  // Timings are best-of-many, but on a shared machine a busy second core
  // still shows: say how busy it was (the 2T FMA peak shows it too).
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    double load = 0;
    if (std::fscanf(f, "%lf", &load) == 1) std::printf("load average at start: %.2f\n", load);
    std::fclose(f);
  }
  std::printf("FMA peak (fp32, GFLOP/s):");
  double peak_1t[3] = {0, 0, 0};
  for (Isa isa : isas) {
    if (isa == Isa::Scalar) continue;
    peak_1t[static_cast<int>(isa)] = fma_peak_gflops(isa, 1);
    std::printf("  %s 1T %.0f, 2T %.0f;", isa_name(isa), peak_1t[static_cast<int>(isa)], fma_peak_gflops(isa, 2));
  }
  const double dispatch_us = time_call([&] { two.run([](int) {}); }) * 1e6;
  std::printf("\nthread pool: an empty 2-thread job takes %.2f us\n", dispatch_us);

  if (wanted("matmul")) print_matmul_table(isas, pools, peak_1t, rng);
  if (wanted("gptq")) print_gptq_table(pools, peak_1t, rng);
  if (wanted("attention")) print_attention_table(isas, pools, rng);
  if (wanted("estimate")) print_estimate(pools, rng);
  return 0;
}
