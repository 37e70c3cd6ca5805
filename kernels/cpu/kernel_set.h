// The seam between the ISA-independent drivers (matmul.cpp, attention.cpp:
// threading, partitioning, scratch memory) and the per-ISA compute code
// (kernel_set_{scalar,avx2,avx512}.cpp, each instantiating the templates in
// *_impl.h on its vector traits).
//
// The drivers only ever call through these pointers, once per thread or per
// tile, so the indirection costs nothing measurable, and no code compiled
// for a wider ISA is reachable unless dispatch.cpp picked that set.
#pragma once

#include <cstdint>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/gptq_layout.h"

namespace gptq::cpu {

// One product y = x . W^T + bias. For GPTQ weights (gptq set), w.n_rows is
// N, w.n_cols the packed rows of K (layout.k_rows), and x is already in the
// packed order (gathered when the layout has a row_source).
struct MatmulArgs {
  const float* x = nullptr;
  int64_t ldx = 0;
  int64_t M = 0;
  DenseMatrix w;
  const float* bias = nullptr;
  float* y = nullptr;
  int64_t ldy = 0;
  const GptqLayout* gptq = nullptr;
};

// GEMM cache blocking, shared by the driver (scratch sizes) and the
// kernels. A packed block of W (kGemmKc x kGemmNc, <= 512 KiB) and one of x
// (kGemmMc x kGemmKc, <= 480 KiB) share the 1 MiB L2 while register tiles
// sweep them; each kGemmKc x NR micro-panel of W is then streamed from L2
// at 2 vector loads per 24 FMAs, well within its bandwidth. A deep k block
// means y is read back and rewritten only once per 512 of K (not at all
// for tinydoc's K = 384): with 8192 columns, 256-deep blocks cost 10%.
// Limiting the column block to 256 keeps W's packed block in L2 for every
// row block of x (it was 15% slower for lm_head, N = 8192, without).
inline constexpr int64_t kGemmKc = 512;
inline constexpr int64_t kGemmNc = 256;
inline constexpr int64_t kGemmMc = 240;

// Keys per attention block: the width of one tile of scores (S = Q.K^T).
inline constexpr int kAttentionBlock = 64;

struct KernelSet {
  Isa isa;
  int mr;              // GEMM register tile rows
  int nr;              // GEMM register tile columns (multiple of the vector width)
  int64_t gemv_max_m;  // largest M for which the GEMV beats the tiled GEMM
  int attention_rows;  // query rows (tokens x heads of one kv head) per attention tile

  // Rows [n0, n1) of y for all M rows, streaming W once (decode).
  void (*gemv)(const MatmulArgs& args, int64_t n0, int64_t n1);
  // The block [m0, m1) x [n0, n1) of y, complete over K. scratch holds
  // gemm_scratch_floats() floats, 64-byte aligned.
  void (*gemm)(const MatmulArgs& args, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch);
  // The same on GPTQ weights (args.gptq), M <= gptq_gemv_max_m;
  // n0 and n1 are multiples of kPanelColumns or N. scratch holds
  // gptq_gemv_scratch_floats() floats.
  int64_t gptq_gemv_max_m;
  void (*gptq_gemv)(const MatmulArgs& args, int64_t n0, int64_t n1, float* scratch);
  void (*gptq_gemm)(const MatmulArgs& args, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch);
  // Row `row` of w converted to fp32 (embedding lookup).
  void (*row_to_float)(const DenseMatrix& w, int64_t row, float* out);
  // Attention for n_tokens tokens of one sequence, sorted by position
  // (token indices into the problem), and the query heads of kv head
  // `kv_head`. scratch holds attention_scratch_floats(rows, head_dim).
  void (*attention)(const AttentionProblem& problem, const int32_t* tokens, int n_tokens, int kv_head,
                    float* scratch);
};

// Linkage rule for everything the ISA files (*_avx2.cpp, *_avx512.cpp)
// compile: an inline function with external linkage is emitted, as a weak
// symbol, by every file that uses it without inlining (always at -O0), and
// the linker keeps one copy for all callers, possibly the AVX-512 one for
// baseline code. So the kernel templates and helpers live in anonymous
// namespaces or are templates on the ISA's traits (distinct symbols), and
// the ISA files call no std:: inline wrappers (std::exp, std::min, ...;
// __builtin_expf instead). tests/check_isa_symbols.cmake verifies that those
// objects define nothing but their kernel_set_<isa>() entry point.
namespace {

constexpr int64_t round_up(int64_t n, int64_t to) { return (n + to - 1) / to * to; }

constexpr int64_t gemm_scratch_floats() { return kGemmKc * kGemmNc + kGemmMc * kGemmKc + 64; }

// Per-segment sums of each row of x.
constexpr int64_t gptq_gemv_scratch_floats(const GptqLayout& layout, int64_t M) {
  return M * layout.n_segments + 16;
}

constexpr int64_t attention_scratch_floats(const KernelSet& ks, int64_t rows, int64_t head_dim) {
  const int64_t padded_rows = round_up(rows, ks.mr);
  return padded_rows * head_dim               // packed scaled queries
         + kAttentionBlock * head_dim          // packed keys of one block
         + padded_rows * kAttentionBlock       // scores / probabilities
         + padded_rows * head_dim              // output accumulators
         + 2 * padded_rows + 64;               // running max and sum
}

}  // namespace

const KernelSet& kernel_set_scalar();
const KernelSet& kernel_set_avx2();
const KernelSet& kernel_set_avx512();

}  // namespace gptq::cpu
