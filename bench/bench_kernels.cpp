// bench_kernels: speed of the CPU kernels on tinydoc's shapes, for every ISA
// this machine runs, with 1 and 2 threads, against the machine's own FMA
// peak (measured here with a dependency-free FMA loop), and an estimate of
// a whole tinydoc prefill and decode step (matmuls + attention only) next to
// llama.cpp's numbers on this machine.
//
//   bench_kernels [--quick] [matmul|attention|estimate]   (default: all)
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

namespace {

using gptq::ThreadPool;
using namespace gptq::cpu;

// llama.cpp (peers/llama.cpp) on this machine, 2 threads, tinydoc F16,
// llama-bench on a quiet machine.
constexpr double kLlamaPrefillTokensPerSecond = 5290.0;  // pp512
constexpr double kLlamaDecodeTokensPerSecond = 883.0;    // tg128

double g_min_seconds = 0.3;

// Best time of one call of fn, over batches filling g_min_seconds.
double time_call(const std::function<void()>& fn) {
  fn();  // warm up (page faults, scratch allocation)
  double best = 1e30, total = 0.0;
  while (total < g_min_seconds) {
    int reps = 1;
    double seconds = 0.0;
    for (;;) {
      const auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < reps; ++i) fn();
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (seconds > 5e-4) break;
      reps *= 2;
    }
    best = std::min(best, seconds / reps);
    total += seconds;
  }
  return best;
}

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

// A fp16 weight matrix with random values.
struct Matrix {
  std::vector<uint16_t> data;
  DenseWeights w;
  Matrix(int64_t n, int64_t k, std::mt19937& rng) : data(n * k) {
    std::uniform_real_distribution<float> dist(-0.05f, 0.05f);
    for (uint16_t& h : data) h = gptq::float_to_fp16(dist(rng));
    w = DenseWeights{data.data(), WeightType::F16, n, k, k};
  }
};

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

std::vector<float> random_vector(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& f : v) f = dist(rng);
  return v;
}

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

// Per-step best times over repeated runs of one pass. On a shared machine a
// 60 ms pass rarely runs whole without another process taking a core, but
// each of its steps does at some point: the sum of the steps' best times is
// the pass's time on a quiet machine. (The whole pass's best is shown too.)
class StepTimes {
 public:
  template <typename Step>
  void operator()(Step&& step) {
    const auto start = std::chrono::steady_clock::now();
    step();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (next_ == best_.size()) best_.push_back(s);
    best_[next_] = std::min(best_[next_], s);
    ++next_;
  }
  void new_pass() { next_ = 0; }
  double total() const {
    double sum = 0;
    for (double s : best_) sum += s;
    return sum;
  }

 private:
  std::vector<double> best_;
  size_t next_ = 0;
};

// The matmuls and attention of a whole tinydoc forward pass of M tokens
// (norms, rotary, activations and sampling are left out: they are a few
// microseconds), on separate weight buffers so caches behave as in a run.
struct Tinydoc {
  std::vector<Matrix> layers;  // per layer: q, k, v, o, gate, up, down
  Matrix lm_head;
  explicit Tinydoc(std::mt19937& rng) : lm_head(kVocab, kHidden, rng) {
    for (int l = 0; l < kLayers; ++l) {
      for (auto [n, k] : {std::pair{384, 384}, {128, 384}, {128, 384}, {384, 384}, {1024, 384}, {1024, 384}, {384, 1024}})
        layers.emplace_back(n, k, rng);
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
    auto group = [&](std::initializer_list<MatmulOutput> outputs) {
      if (fused) {
        step([&] { matmul_multi(pool, x, kHidden, M, outputs.begin(), static_cast<int>(outputs.size())); });
      } else {
        for (const MatmulOutput& o : outputs) step([&] { matmul(pool, x, kHidden, M, o.w, o.bias, o.y, o.ldy); });
      }
    };
    for (int l = 0; l < kLayers; ++l) {
      const Matrix* m = &layers[size_t(l) * 7];
      group({{m[0].w, nullptr, y, kHidden}, {m[1].w, nullptr, y2, 128}, {m[2].w, nullptr, y2 + M * 128, 128}});
      step([&] { attention(pool, attn.p); });
      step([&] { matmul(pool, x, kHidden, M, m[3].w, nullptr, y, kHidden); });
      group({{m[4].w, nullptr, y, 1024}, {m[5].w, nullptr, y2, 1024}});
      step([&] { matmul(pool, y, 1024, M, m[6].w, nullptr, x, kHidden); });
    }
    step([&] { matmul(pool, x, kHidden, logits_rows, lm_head.w, nullptr, y, kVocab); });
  }
};

void print_estimate(ThreadPool* pools[2], std::mt19937& rng) {
  std::printf("\ntinydoc estimate (%s kernels: matmuls + attention, fp16 weights)\n", isa_name(active_isa()));
  const Tinydoc model(rng);
  std::vector<float> buf(size_t(512) * (2048 + kVocab), 0.01f);
  AttentionCase prefill_attn(512, 511, rng), decode_attn(1, 64, rng);
  const double llama_prefill_ms = 512.0 / kLlamaPrefillTokensPerSecond * 1e3;
  const double llama_decode_ms = 1e3 / kLlamaDecodeTokensPerSecond;
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
  std::printf("(ms: sum of per-step best times over repeated passes; in brackets the best whole pass)\n");
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
                t + 1, decode.first, decode.second, 1e3 / decode.first, llama_decode_ms, llama_decode_ms / decode.first);
    std::printf("%dT prefill 512, logits of last:        %7.2f [%7.2f] ms = %6.0f tok/s  (llama.cpp %.2f ms: x%.2f)\n",
                t + 1, prefill.first, prefill.second, 512e3 / prefill.first, llama_prefill_ms,
                llama_prefill_ms / prefill.first);
    std::printf("%dT prefill 512, logits of all 512:     %7.2f [%7.2f] ms = %6.0f tok/s\n", t + 1, prefill_all.first,
                prefill_all.second, 512e3 / prefill_all.first);
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
  if (wanted("attention")) print_attention_table(isas, pools, rng);
  if (wanted("estimate")) print_estimate(pools, rng);
  return 0;
}
