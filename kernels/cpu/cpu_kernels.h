// CPU compute kernels behind the forward pass.
//
// Layouts
//  - Activations are fp32, row-major: row m of an [M, K] matrix starts at
//    x + m * ldx.
//  - Dense weights are the checkpoint's own [N, K] row-major matrices
//    (N = out_features, K = in_features; torch.nn.Linear layout) in fp32,
//    fp16 or bf16, read in place from the mapped file: rows need not be
//    aligned. Math is fp32 throughout.
//  - Attention reads a KV cache laid out [sequence][kv_head][position][head_dim].
//
// Every kernel has a plain scalar reference (kernels/cpu/reference.cpp); the
// vector versions are checked against it on random data of odd shapes.
// Results never depend on the thread count: no reduction is split across
// threads.
//
// GPTQ-quantized weights: gptq_kernels.h.
//
// Where things are: dispatch.cpp picks a KernelSet (kernel_set.h) per ISA;
// matmul.cpp and attention.cpp split the work among threads; the compute
// is templates on vector traits (simd_{scalar,avx2,avx512}.h): gemv_impl.h
// (decode), gemm_impl.h + pack_impl.h + micro_impl.h (prefill),
// attention_impl.h; kernel_set_<isa>.cpp instantiate them.
#pragma once

#include <cstdint>

#include "core/dense_matrix.h"
#include "core/thread_pool.h"

namespace gptq::cpu {

// y[m, n] = bias[n] + sum_k x[m, k] * W[n, k], for m < M and n < N.
// bias may be null. x and y must not overlap.
void matmul(ThreadPool& pool, const float* x, int64_t ldx, int64_t M, const DenseMatrix& w, const float* bias,
            float* y, int64_t ldy);

class PackedGptq;  // gptq_kernels.h

// Several products of the same x, e.g. the q, k and v projections or gate
// and up: y_i = x . W_i^T + bias_i. One parallel step for all of them,
// which in decode saves a thread hand-off per matrix; the results are the
// same, bit for bit, as separate matmul() / matmul_gptq() calls.
struct MatmulOutput {
  DenseMatrix w;               // ignored when gptq is set
  const float* bias = nullptr;  // may be null
  float* y = nullptr;
  int64_t ldy = 0;
  const PackedGptq* gptq = nullptr;  // GPTQ-quantized weights instead of w
};
void matmul_multi(ThreadPool& pool, const float* x, int64_t ldx, int64_t M, const MatmulOutput* outputs,
                  int n_outputs);

// Copies row `row` of `w` into fp32 (embedding lookup).
void dense_row_to_float(const DenseMatrix& w, int64_t row, float* out);

struct AttentionProblem {
  int32_t n_tokens = 0;
  int32_t n_heads = 0;
  int32_t n_kv_heads = 0;  // divides n_heads; query head h reads kv head h / (n_heads / n_kv_heads)
  int32_t head_dim = 0;
  const float* q = nullptr;  // token t, head h at q + t * q_stride + h * head_dim
  int64_t q_stride = 0;
  float* out = nullptr;      // same layout as q, with out_stride
  int64_t out_stride = 0;
  const int32_t* seq = nullptr;  // sequence of each token
  const int32_t* pos = nullptr;  // position of each token; its own K/V are already in the cache
  const float* k = nullptr;      // cache: seq s, kv head g, position p at k + s*seq_stride + g*head_stride + p*head_dim
  const float* v = nullptr;
  int64_t seq_stride = 0;
  int64_t head_stride = 0;
  int32_t window = 0;  // > 0: attend to the last `window` positions only (sliding window)
  float scale = 1.0f;  // applied to q.k before softmax
  // Per query head, or null: head h's scores += alibi_slopes[h] * (key position - query position).
  const float* alibi_slopes = nullptr;
};

// Causal softmax attention: token t attends to positions
// [max(0, pos[t] - window + 1), pos[t]] of its own sequence.
void attention(ThreadPool& pool, const AttentionProblem& problem);

// The instruction set the kernels use, chosen once from what the CPU (and
// OS) offers: the widest of AVX-512 (F/BW/VL/DQ), AVX2 (+FMA, F16C) and
// portable scalar code. GPTQ_CPU_ISA=scalar|avx2|avx512 in the environment
// lowers the choice (it never raises it past what the CPU supports).
enum class Isa : int { Scalar = 0, Avx2 = 1, Avx512 = 2 };
Isa active_isa();
const char* isa_name(Isa isa);

// Whether this CPU can run the kernels of `isa` (scalar: always).
bool isa_supported(Isa isa);

// The ISA to use given the GPTQ_CPU_ISA value `requested` (null or empty:
// none) and the best one the CPU supports: the request if it is a known
// name no wider than `best`, else `best` (with a warning logged).
Isa resolve_isa(const char* requested, Isa best);

// The kernels of one given ISA, whatever active_isa() says: for tests and
// benchmarks, which compare every variant this machine can run. Throws
// gptq::Error (GPTQ_ERR_UNSUPPORTED) when !isa_supported(isa).
void matmul(Isa isa, ThreadPool& pool, const float* x, int64_t ldx, int64_t M, const DenseMatrix& w,
            const float* bias, float* y, int64_t ldy);
void matmul_multi(Isa isa, ThreadPool& pool, const float* x, int64_t ldx, int64_t M, const MatmulOutput* outputs,
                  int n_outputs);
void attention(Isa isa, ThreadPool& pool, const AttentionProblem& problem);
void dense_row_to_float(Isa isa, const DenseMatrix& w, int64_t row, float* out);

// Reference implementations: straightforward loops, single-threaded.
namespace reference {
void matmul(const float* x, int64_t ldx, int64_t M, const DenseMatrix& w, const float* bias, float* y, int64_t ldy);
void attention(const AttentionProblem& problem);
void dense_row_to_float(const DenseMatrix& w, int64_t row, float* out);
}  // namespace reference

}  // namespace gptq::cpu
