// Threading of causal attention (see attention_impl.h for one tile).
//
// Tokens are ordered by (sequence, position) — a batch may interleave
// sequences — and cut into tiles of consecutive tokens of one sequence, as
// many as fill kernel_set.attention_rows query rows with the heads of one kv
// head. Work items are (tile, kv head); the threads take them dynamically,
// costliest (longest key range) first, and each item writes its own rows of
// the output, so the result does not depend on the thread count.
#include <algorithm>
#include <numeric>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/drivers.h"

namespace gptq::cpu {
namespace {

struct Tile {
  int32_t begin, count;  // into the sorted token order
  int64_t cost;          // keys visited x rows, for scheduling
};

void check(const AttentionProblem& p) {
  if (p.n_heads <= 0 || p.n_kv_heads <= 0 || p.n_heads % p.n_kv_heads != 0 || p.head_dim <= 0) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, "attention: ", p.n_heads, " heads, ", p.n_kv_heads, " kv heads, head_dim ",
         p.head_dim);
  }
}

}  // namespace

void run_attention(const KernelSet& ks, ThreadPool& pool, const AttentionProblem& p) {
  if (p.n_tokens <= 0) return;
  check(p);
  const int group = p.n_heads / p.n_kv_heads;

  std::vector<int32_t> order(p.n_tokens);
  std::iota(order.begin(), order.end(), 0);
  auto before = [&](int32_t a, int32_t b) { return p.seq[a] != p.seq[b] ? p.seq[a] < p.seq[b] : p.pos[a] < p.pos[b]; };
  if (!std::is_sorted(order.begin(), order.end(), before)) std::stable_sort(order.begin(), order.end(), before);

  const int32_t per_tile = std::max(1, ks.attention_rows / group);
  std::vector<Tile> tiles;
  for (int32_t i = 0; i < p.n_tokens;) {
    int32_t j = i + 1;
    while (j < p.n_tokens && j - i < per_tile && p.seq[order[j]] == p.seq[order[i]]) ++j;
    const int32_t last = p.pos[order[j - 1]];
    const int32_t first = p.window > 0 ? std::max(0, p.pos[order[i]] - p.window + 1) : 0;
    tiles.push_back({i, j - i, int64_t{last - first + 1} * (j - i)});
    i = j;
  }
  std::stable_sort(tiles.begin(), tiles.end(), [](const Tile& a, const Tile& b) { return a.cost > b.cost; });

  const int64_t items = static_cast<int64_t>(tiles.size()) * p.n_kv_heads;
  pool.parallel_for(items, 1, [&](int64_t begin, int64_t end, int) {
    for (int64_t item = begin; item < end; ++item) {
      const Tile& tile = tiles[item / p.n_kv_heads];
      const int kv_head = static_cast<int>(item % p.n_kv_heads);
      float* scratch =
          thread_scratch(ScratchSlot::Attention, attention_scratch_floats(ks, int64_t{tile.count} * group, p.head_dim));
      ks.attention(p, order.data() + tile.begin, tile.count, kv_head, scratch);
    }
  });
}

}  // namespace gptq::cpu
