// Picks the kernel set for this CPU once, honouring GPTQ_CPU_ISA, and routes
// the public entry points to the ISA-independent drivers with it.
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "core/log.h"
#include "kernels/cpu/drivers.h"
#include "kernels/cpu/gptq_kernels.h"
#include "kernels/cpu/kernel_set.h"

namespace gptq::cpu {
namespace {

bool cpu_supports(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  // __builtin_cpu_supports also checks that the OS saves the wide registers
  // (XCR0), so a kernel that disabled AVX-512 state is not picked.
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                    __builtin_cpu_supports("f16c") && __builtin_cpu_supports("bmi2");
  switch (isa) {
    case Isa::Scalar: return true;
    case Isa::Avx2: return avx2;
    case Isa::Avx512:
      return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  }
  return false;
#else
  return isa == Isa::Scalar;
#endif
}

Isa best_supported() {
  Isa best = Isa::Scalar;
  for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
    if (cpu_supports(isa)) best = isa;
  }
  return best;
}

const KernelSet& kernel_set(Isa isa) {
  if (!cpu_supports(isa)) fail(GPTQ_ERR_UNSUPPORTED, "this CPU cannot run the ", isa_name(isa), " kernels");
  switch (isa) {
    case Isa::Avx512: return kernel_set_avx512();
    case Isa::Avx2: return kernel_set_avx2();
    case Isa::Scalar: break;
  }
  return kernel_set_scalar();
}

const KernelSet& active_set() {
  static const KernelSet& set = kernel_set(active_isa());
  return set;
}

}  // namespace

Isa resolve_isa(const char* requested, Isa best) {
  if (requested == nullptr || *requested == '\0') return best;
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (std::strcmp(requested, isa_name(isa)) != 0) continue;
    if (static_cast<int>(isa) > static_cast<int>(best)) {
      log_warn("GPTQ_CPU_ISA=", requested, " is not supported by this CPU; using ", isa_name(best));
      return best;
    }
    return isa;
  }
  log_warn("GPTQ_CPU_ISA=", requested, " is not one of scalar, avx2, avx512; using ", isa_name(best));
  return best;
}

Isa active_isa() {
  static const Isa isa = resolve_isa(std::getenv("GPTQ_CPU_ISA"), best_supported());
  return isa;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
  }
  return "?";
}

bool isa_supported(Isa isa) { return cpu_supports(isa); }

namespace {

MatmulArgs product_args(const float* x, int64_t ldx, int64_t M, const MatmulOutput& out) {
  MatmulArgs args{x, ldx, M, out.w, out.bias, out.y, out.ldy};
  if (out.gptq != nullptr) {
    const GptqLayout& layout = out.gptq->layout();
    args.gptq = &layout;
    args.w = DenseMatrix{nullptr, FloatType::F32, layout.n_cols, layout.k_rows, layout.k_rows};
  }
  return args;
}

void run_multi(const KernelSet& ks, ThreadPool& pool, const float* x, int64_t ldx, int64_t M,
               const MatmulOutput* outputs, int n_outputs) {
  constexpr int kOnStack = 8;
  for (int i0 = 0; i0 < n_outputs; i0 += kOnStack) {
    const int n = n_outputs - i0 < kOnStack ? n_outputs - i0 : kOnStack;
    MatmulArgs args[kOnStack];
    for (int i = 0; i < n; ++i) args[i] = product_args(x, ldx, M, outputs[i0 + i]);
    run_matmul(ks, pool, args, n);
  }
}

}  // namespace

void matmul(ThreadPool& pool, const float* x, int64_t ldx, int64_t M, const DenseMatrix& w, const float* bias,
            float* y, int64_t ldy) {
  const MatmulArgs args{x, ldx, M, w, bias, y, ldy};
  run_matmul(active_set(), pool, &args, 1);
}

void matmul(Isa isa, ThreadPool& pool, const float* x, int64_t ldx, int64_t M, const DenseMatrix& w,
            const float* bias, float* y, int64_t ldy) {
  const MatmulArgs args{x, ldx, M, w, bias, y, ldy};
  run_matmul(kernel_set(isa), pool, &args, 1);
}

void matmul_multi(ThreadPool& pool, const float* x, int64_t ldx, int64_t M, const MatmulOutput* outputs,
                  int n_outputs) {
  run_multi(active_set(), pool, x, ldx, M, outputs, n_outputs);
}

void matmul_multi(Isa isa, ThreadPool& pool, const float* x, int64_t ldx, int64_t M, const MatmulOutput* outputs,
                  int n_outputs) {
  run_multi(kernel_set(isa), pool, x, ldx, M, outputs, n_outputs);
}

void matmul_gptq(ThreadPool& pool, const float* x, int64_t ldx, int64_t M, const PackedGptq& w, const float* bias,
                 float* y, int64_t ldy) {
  const MatmulOutput out{{}, bias, y, ldy, &w};
  run_multi(active_set(), pool, x, ldx, M, &out, 1);
}

void matmul_gptq(Isa isa, ThreadPool& pool, const float* x, int64_t ldx, int64_t M, const PackedGptq& w,
                 const float* bias, float* y, int64_t ldy) {
  const MatmulOutput out{{}, bias, y, ldy, &w};
  run_multi(kernel_set(isa), pool, x, ldx, M, &out, 1);
}

void dense_row_to_float(const DenseMatrix& w, int64_t row, float* out) { active_set().row_to_float(w, row, out); }

void dense_row_to_float(Isa isa, const DenseMatrix& w, int64_t row, float* out) {
  kernel_set(isa).row_to_float(w, row, out);
}

void attention(ThreadPool& pool, const AttentionProblem& problem) { run_attention(active_set(), pool, problem); }

void attention(Isa isa, ThreadPool& pool, const AttentionProblem& problem) {
  run_attention(kernel_set(isa), pool, problem);
}

}  // namespace gptq::cpu
