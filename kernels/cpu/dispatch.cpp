// Chooses the kernels for this CPU. Until the vector kernels land, the
// threaded entry points split the reference loops across the pool.
#include "kernels/cpu/cpu_kernels.h"

namespace gptq::cpu {

Isa active_isa() { return Isa::Scalar; }

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
  }
  return "?";
}

void matmul(ThreadPool& pool, const float* x, int64_t ldx, int64_t M, const DenseWeights& w, const float* bias,
            float* y, int64_t ldy) {
  pool.parallel_for(w.n_rows, 16, [&](int64_t n0, int64_t n1, int) {
    DenseWeights part = w;
    part.data = static_cast<const uint8_t*>(w.data) +
                n0 * w.row_stride * (w.type == WeightType::F32 ? 4 : 2);
    part.n_rows = n1 - n0;
    reference::matmul(x, ldx, M, part, bias != nullptr ? bias + n0 : nullptr, y + n0, ldy);
  });
}

void attention(ThreadPool& pool, const AttentionProblem& problem) {
  pool.parallel_for(problem.n_tokens, 1, [&](int64_t t0, int64_t t1, int) {
    AttentionProblem part = problem;
    part.n_tokens = static_cast<int32_t>(t1 - t0);
    part.q += t0 * problem.q_stride;
    part.out += t0 * problem.out_stride;
    part.seq += t0;
    part.pos += t0;
    reference::attention(part);
  });
}

}  // namespace gptq::cpu
