// Threading and partitioning of y = x . W^T + bias (see kernel_set.h for the
// kernels it hands the pieces to).
//
// Decode (M <= gemv_max_m): the threads split the rows of W into contiguous
// ranges, each streamed once by one thread; a matrix too small to pay for
// waking the other threads runs on the caller alone.
//
// Prefill: the threads split the columns of y (rows of W) in whole register
// panels, so each thread packs only its own part of W; only when W has
// fewer panels than there are threads are the rows of x split as well.
// Either way every output element is one thread's complete K reduction, in
// an order fixed by the blocking alone: the result is the same bit for bit
// for any thread count.
#include <algorithm>

#include "kernels/cpu/drivers.h"

namespace gptq::cpu {
namespace {

// Below this many weight bytes a GEMV is a few microseconds of work, about
// what handing it to another thread costs.
constexpr int64_t kGemvBytesPerThread = 96 * 1024;

void fill_bias(const MatmulArgs& a) {
  for (int64_t m = 0; m < a.M; ++m) {
    for (int64_t n = 0; n < a.w.n_rows; ++n) a.y[m * a.ldy + n] = a.bias != nullptr ? a.bias[n] : 0.0f;
  }
}

void run_gemv(const KernelSet& ks, ThreadPool& pool, const MatmulArgs& a) {
  const int64_t N = a.w.n_rows;
  const int64_t bytes = N * a.w.n_cols * (a.w.type == WeightType::F32 ? 4 : 2);
  const int64_t threads = std::clamp<int64_t>(bytes / kGemvBytesPerThread, 1, pool.size());
  if (threads == 1) {
    ks.gemv(a, 0, N);
    return;
  }
  // Ranges in multiples of 16 rows keep each thread's rows in whole tiles.
  const int64_t per_thread = round_up((N + threads - 1) / threads, 16);
  pool.run([&](int t) {
    const int64_t n0 = t * per_thread, n1 = std::min(N, n0 + per_thread);
    if (n0 < n1) ks.gemv(a, n0, n1);
  });
}

void run_gemm(const KernelSet& ks, ThreadPool& pool, const MatmulArgs& a) {
  const int64_t N = a.w.n_rows, M = a.M;
  const int64_t panels = (N + ks.nr - 1) / ks.nr;
  const int64_t threads = pool.size();
  const int64_t n_parts = std::min(threads, panels);
  const int64_t m_parts = std::min((threads + n_parts - 1) / n_parts, (M + ks.mr - 1) / ks.mr);
  pool.parallel_for(n_parts * m_parts, 1, [&](int64_t begin, int64_t end, int) {
    float* scratch = thread_scratch(ScratchSlot::Matmul, gemm_scratch_floats());
    for (int64_t task = begin; task < end; ++task) {
      int64_t p0, p1, m0, m1;
      ThreadPool::static_range(panels, static_cast<int>(task % n_parts), static_cast<int>(n_parts), &p0, &p1);
      ThreadPool::static_range(M, static_cast<int>(task / n_parts), static_cast<int>(m_parts), &m0, &m1);
      if (m0 < m1) ks.gemm(a, m0, m1, p0 * ks.nr, std::min(N, p1 * ks.nr), scratch);
    }
  });
}

}  // namespace

void run_matmul(const KernelSet& ks, ThreadPool& pool, const MatmulArgs& args) {
  if (args.M <= 0 || args.w.n_rows <= 0) return;
  if (args.w.n_cols <= 0) return fill_bias(args);
  if (args.M <= ks.gemv_max_m) return run_gemv(ks, pool, args);
  run_gemm(ks, pool, args);
}

}  // namespace gptq::cpu
