// Threading and partitioning of y = x . W^T + bias (see kernel_set.h for the
// kernels it hands the pieces to).
//
// Work is cut into a few pieces per thread and handed out dynamically: on a
// machine shared with other processes a thread can lose its core for a
// whole time slice, and with one static piece per thread the caller would
// wait all that time; with small pieces it takes over the rest.
//
// Decode (M <= gemv_max_m): pieces are ranges of rows of W, each streamed
// once by one thread; a matrix too small to pay for waking another thread
// runs on the caller alone.
//
// Prefill: pieces are blocks of y. Columns (rows of W) are split first, in
// whole register panels, so each thread packs mostly its own part of W;
// rows of x are split next, which only repeats the cheap packing of W.
// Either way every output element is one piece's complete K reduction, in
// an order fixed by the blocking alone: the result is the same bit for bit
// for any thread count.
#include <algorithm>
#include <vector>

#include "kernels/cpu/drivers.h"

namespace gptq::cpu {
namespace {

// Below this many weight bytes a GEMV is about a microsecond of work, not
// worth handing to another thread.
constexpr int64_t kGemvBytesPerThread = 32 * 1024;
// GEMV pieces are whole groups of rows (whole register tiles).
constexpr int64_t kGemvRowGroup = 16;
// Rows of x per GEMM piece, at least: fewer would repack W too often.
constexpr int64_t kGemmMinRows = 96;
constexpr int64_t kPiecesPerThread = 4;

// One piece of work: rows [m0, m1) x columns [n0, n1) of one product.
struct Piece {
  const MatmulArgs* args;
  int64_t m0, m1, n0, n1;
};

void fill_bias(const MatmulArgs& a) {
  for (int64_t m = 0; m < a.M; ++m) {
    for (int64_t n = 0; n < a.w.n_rows; ++n) a.y[m * a.ldy + n] = a.bias != nullptr ? a.bias[n] : 0.0f;
  }
}

// Decode: ranges of rows of W of at least kGemvBytesPerThread bytes, in
// whole row groups, up to kPiecesPerThread per thread.
void gemv_pieces(const MatmulArgs& a, int64_t threads, std::vector<Piece>& out) {
  const int64_t N = a.w.n_rows;
  const int64_t bytes = N * a.w.n_cols * (a.w.type == WeightType::F32 ? 4 : 2);
  const int64_t groups = (N + kGemvRowGroup - 1) / kGemvRowGroup;
  const int64_t parts = threads == 1 ? 1 : std::clamp(bytes / kGemvBytesPerThread, int64_t{1},
                                                        std::min(groups, kPiecesPerThread * threads));
  for (int part = 0; part < parts; ++part) {
    int64_t g0, g1;
    ThreadPool::static_range(groups, part, static_cast<int>(parts), &g0, &g1);
    out.push_back({&a, 0, a.M, g0 * kGemvRowGroup, std::min(N, g1 * kGemvRowGroup)});
  }
}

// Prefill: blocks of y, columns split first in whole panels.
void gemm_pieces(const KernelSet& ks, const MatmulArgs& a, int64_t threads, std::vector<Piece>& out) {
  const int64_t N = a.w.n_rows, M = a.M;
  const int64_t panels = (N + ks.nr - 1) / ks.nr;
  const int64_t pieces = threads == 1 ? 1 : kPiecesPerThread * threads;
  const int64_t n_parts = std::min(threads, panels);
  const int64_t m_parts =
      std::clamp<int64_t>((pieces + n_parts - 1) / n_parts, 1, std::max<int64_t>(1, M / kGemmMinRows));
  for (int64_t mp = 0; mp < m_parts; ++mp) {
    for (int64_t np = 0; np < n_parts; ++np) {
      int64_t p0, p1, m0, m1;
      ThreadPool::static_range(panels, static_cast<int>(np), static_cast<int>(n_parts), &p0, &p1);
      ThreadPool::static_range(M, static_cast<int>(mp), static_cast<int>(m_parts), &m0, &m1);
      out.push_back({&a, m0, m1, p0 * ks.nr, std::min(N, p1 * ks.nr)});
    }
  }
}

void run_piece(const KernelSet& ks, const Piece& piece, bool gemv) {
  if (gemv) {
    ks.gemv(*piece.args, piece.n0, piece.n1);
  } else {
    ks.gemm(*piece.args, piece.m0, piece.m1, piece.n0, piece.n1, thread_scratch(ScratchSlot::Matmul, gemm_scratch_floats()));
  }
}

}  // namespace

void run_matmul(const KernelSet& ks, ThreadPool& pool, const MatmulArgs* products, int n_products) {
  const bool gemv = n_products > 0 && products[0].M <= ks.gemv_max_m;
  std::vector<Piece> pieces;
  for (int i = 0; i < n_products; ++i) {
    const MatmulArgs& a = products[i];
    if (a.M <= 0 || a.w.n_rows <= 0) continue;
    if (a.w.n_cols <= 0) {
      fill_bias(a);
    } else if (gemv) {
      gemv_pieces(a, pool.size(), pieces);
    } else {
      gemm_pieces(ks, a, pool.size(), pieces);
    }
  }
  if (pieces.size() == 1) return run_piece(ks, pieces[0], gemv);
  pool.parallel_for(static_cast<int64_t>(pieces.size()), 1, [&](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; ++i) run_piece(ks, pieces[i], gemv);
  });
}

}  // namespace gptq::cpu
