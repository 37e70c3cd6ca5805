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
// GPTQ weights split the same way (decode pieces in whole panels).
// An act-order layer first gets its x gathered into the packed order of K,
// a step of its own, parallel when large.
//
// Either way every output element is one piece's complete K reduction, in
// an order fixed by the blocking alone: the result is the same bit for bit
// for any thread count.
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/cpu/drivers.h"

namespace gptq::cpu {
namespace {

// Below this many weight bytes a GEMV is about a microsecond of work, not
// worth handing to another thread.
constexpr int64_t kGemvBytesPerThread = 32 * 1024;
// GEMV pieces are whole groups of rows (whole register tiles): for GPTQ
// weights, whole panels, the widest tile.
constexpr int64_t kGemvRowGroup = 16;
constexpr int64_t kGptqGemvColumnGroup = kPanelColumns;
// Rows of x per GEMM piece, at least: fewer would repack W too often.
constexpr int64_t kGemmMinRows = 96;
constexpr int64_t kPiecesPerThread = 4;
// Gathering x for act-order weights: below this many floats, the caller
// does it alone.
constexpr int64_t kGatherFloatsPerThread = 64 * 1024;

// One piece of work: rows [m0, m1) x columns [n0, n1) of one product.
struct Piece {
  const MatmulArgs* args;
  int64_t m0, m1, n0, n1;
  bool gemv;
};

void fill_bias(const MatmulArgs& a) {
  for (int64_t m = 0; m < a.M; ++m) {
    for (int64_t n = 0; n < a.w.n_rows; ++n) a.y[m * a.ldy + n] = a.bias != nullptr ? a.bias[n] : 0.0f;
  }
}

int64_t weight_bytes(const MatmulArgs& a) {
  if (a.gptq != nullptr) return a.w.n_rows * a.w.n_cols * a.gptq->bits / 8;
  return a.w.n_rows * a.w.n_cols * (a.w.type == FloatType::F32 ? 4 : 2);
}

// Decode: ranges of rows of W of at least kGemvBytesPerThread bytes, in
// whole row groups, up to kPiecesPerThread per thread.
void gemv_pieces(const MatmulArgs& a, int64_t threads, std::vector<Piece>& out) {
  const int64_t N = a.w.n_rows;
  const int64_t group = a.gptq != nullptr ? kGptqGemvColumnGroup : kGemvRowGroup;
  const int64_t groups = (N + group - 1) / group;
  const int64_t parts = threads == 1 ? 1 : std::clamp(weight_bytes(a) / kGemvBytesPerThread, int64_t{1},
                                                        std::min(groups, kPiecesPerThread * threads));
  for (int part = 0; part < parts; ++part) {
    int64_t g0, g1;
    ThreadPool::static_range(groups, part, static_cast<int>(parts), &g0, &g1);
    out.push_back({&a, 0, a.M, g0 * group, std::min(N, g1 * group), true});
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
      out.push_back({&a, m0, m1, p0 * ks.nr, std::min(N, p1 * ks.nr), false});
    }
  }
}

void run_piece(const KernelSet& ks, const Piece& piece) {
  const MatmulArgs& a = *piece.args;
  if (a.gptq != nullptr && piece.gemv) {
    ks.gptq_gemv(a, piece.n0, piece.n1, thread_scratch(ScratchSlot::Matmul, gptq_gemv_scratch_floats(*a.gptq, a.M)));
  } else if (piece.gemv) {
    ks.gemv(a, piece.n0, piece.n1);
  } else {
    float* scratch = thread_scratch(ScratchSlot::Matmul, gemm_scratch_floats());
    (a.gptq != nullptr ? ks.gptq_gemm : ks.gemm)(a, piece.m0, piece.m1, piece.n0, piece.n1, scratch);
  }
}

bool same_rows(const GptqLayout& a, const GptqLayout& b) {
  return a.k_rows == b.k_rows &&
         (a.row_source == b.row_source ||
          std::memcmp(a.row_source, b.row_source, static_cast<size_t>(a.k_rows) * sizeof(int32_t)) == 0);
}

// One copy of x in the packed order of a GPTQ layout.
struct Gather {
  const float* x;
  int64_t ldx;
  const GptqLayout* layout;
  float* out;  // [M][layout->k_rows]
};

void gather_row(const Gather& g, int64_t m) {
  const float* x = g.x + m * g.ldx;
  float* out = g.out + m * g.layout->k_rows;
  const int32_t* source = g.layout->row_source;
  for (int64_t r = 0; r < g.layout->k_rows; ++r) out[r] = source[r] >= 0 ? x[source[r]] : 0.0f;
}

// Points every product on GPTQ weights with a row_source at a copy of its
// x in the packed order (zeros in padding rows); products of the same x in
// the same order (q, k and v of an act-order model) share one copy.
void gather_inputs(ThreadPool& pool, MatmulArgs* products, int n_products) {
  const auto needs_gather = [](const MatmulArgs& a) {
    return a.gptq != nullptr && a.gptq->row_source != nullptr && a.M > 0;
  };
  int64_t floats = 0;
  for (int i = 0; i < n_products; ++i) {
    if (needs_gather(products[i])) floats += products[i].M * products[i].gptq->k_rows;
  }
  if (floats == 0) return;
  float* buffer = thread_scratch(ScratchSlot::Gather, floats);
  std::vector<Gather> gathers;
  const int64_t M = products[0].M;
  for (int i = 0; i < n_products; ++i) {
    MatmulArgs& a = products[i];
    if (!needs_gather(a)) continue;
    const auto same = std::find_if(gathers.begin(), gathers.end(), [&](const Gather& g) {
      return g.x == a.x && g.ldx == a.ldx && same_rows(*g.layout, *a.gptq);
    });
    if (same != gathers.end()) {
      a.x = same->out;
    } else {
      gathers.push_back({a.x, a.ldx, a.gptq, buffer});
      a.x = buffer;
      buffer += a.M * a.gptq->k_rows;
    }
    a.ldx = a.gptq->k_rows;
  }
  const int64_t jobs = static_cast<int64_t>(gathers.size()) * M;
  const int64_t grain = std::max<int64_t>(1, kGatherFloatsPerThread / gathers[0].layout->k_rows);
  pool.parallel_for(jobs, grain, [&](int64_t begin, int64_t end, int) {
    for (int64_t job = begin; job < end; ++job) gather_row(gathers[job / M], job % M);
  });
}

}  // namespace

void run_matmul(const KernelSet& ks, ThreadPool& pool, const MatmulArgs* products, int n_products) {
  std::vector<MatmulArgs> args(products, products + n_products);
  gather_inputs(pool, args.data(), n_products);
  std::vector<Piece> pieces;
  for (const MatmulArgs& a : args) {
    if (a.M <= 0 || a.w.n_rows <= 0) continue;
    const bool gemv = a.M <= (a.gptq != nullptr ? ks.gptq_gemv_max_m : ks.gemv_max_m);
    if (a.w.n_cols <= 0) {
      fill_bias(a);
    } else if (gemv) {
      gemv_pieces(a, pool.size(), pieces);
    } else {
      gemm_pieces(ks, a, pool.size(), pieces);
    }
  }
  if (pieces.size() == 1) return run_piece(ks, pieces[0]);
  pool.parallel_for(static_cast<int64_t>(pieces.size()), 1, [&](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; ++i) run_piece(ks, pieces[i]);
  });
}

}  // namespace gptq::cpu
