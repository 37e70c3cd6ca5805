#include "kernels/cuda/gptq_repack.h"

#include "core/error.h"
#include "core/half.h"
#include "core/thread_pool.h"

namespace gptq::gpu {

namespace {

// The tiles per group when groups are whole tiles in order (see GptqTiles), else 0.
int32_t uniform_tiles_per_group(const std::vector<int32_t>& block_group, int64_t k_tiles) {
  int64_t per_group = 0;
  while (per_group < k_tiles && block_group[static_cast<size_t>(per_group * kStepsPerTile)] == 0) ++per_group;
  if (block_group[0] != 0 || per_group == 0) return 0;
  for (int64_t kt = 0; kt < k_tiles; ++kt) {
    for (int ks = 0; ks < kStepsPerTile; ++ks) {
      if (block_group[static_cast<size_t>(kt * kStepsPerTile + ks)] != kt / per_group) return 0;
    }
  }
  return static_cast<int32_t>(per_group);
}

}  // namespace

float zero_magic(FloatType type, int bits) {
  switch (type) {
    case FloatType::F16: return 1024.0f;
    case FloatType::BF16: return bits == 8 ? 0.0f : 128.0f;
    case FloatType::F32: return 0.0f;
  }
  return 0.0f;
}

GptqTilesHost repack_gptq_tiles(const GptqSource& s, ThreadPool* pool) {
  validate_gptq_source(s);
  const int bits = s.bits;
  const int64_t K = s.in_features, N = s.out_features, G = s.n_groups;
  GptqSegmentPlan plan = plan_gptq_segments(s, kStepK);
  // The segments' rows, then zero rows up to a whole tile.
  const int64_t k_padded = (static_cast<int64_t>(plan.rows.size()) + kTileK - 1) / kTileK * kTileK;
  if (k_padded != static_cast<int64_t>(plan.rows.size())) plan.identity = false;
  plan.rows.resize(static_cast<size_t>(k_padded), -1);
  const int64_t n_padded = (N + kTileN - 1) / kTileN * kTileN;
  if (k_padded > INT32_MAX || n_padded > INT32_MAX) fail(GPTQ_ERR_UNSUPPORTED, "GPTQ layer too large for the GPU");

  GptqTilesHost out;
  GptqTiles& t = out.tiles;
  t.bits = bits;
  t.k = static_cast<int32_t>(K);
  t.k_padded = static_cast<int32_t>(k_padded);
  t.n = static_cast<int32_t>(N);
  t.n_padded = static_cast<int32_t>(n_padded);
  t.n_groups = static_cast<int32_t>(G);

  out.block_group.reserve(static_cast<size_t>(k_padded / kStepK));
  for (size_t seg = 0; seg < plan.units.size(); ++seg) out.block_group.insert(out.block_group.end(), plan.units[seg], plan.group[seg]);
  out.block_group.resize(static_cast<size_t>(k_padded / kStepK), plan.group.back());
  if (!plan.identity) out.row_source = plan.rows;
  t.tiles_per_group = uniform_tiles_per_group(out.block_group, k_padded / kTileK);

  const std::vector<uint8_t> q = unpack_gptq_codes(s);
  const auto code = [&](int64_t row, int64_t n) -> uint32_t {
    const int32_t src = plan.rows[static_cast<size_t>(row)];
    return src >= 0 && n < N ? q[src * N + n] : 0u;
  };
  const int64_t k_tiles = k_padded / kTileK, n_tiles = n_padded / kTileN;
  const int words = lane_words(bits);
  out.weights.assign(static_cast<size_t>(n_tiles * k_tiles * 32 * words), 0u);
  const auto repack_strip = [&](int64_t nt) {
    for (int64_t kt = 0; kt < k_tiles; ++kt) {
      uint32_t* tile = out.weights.data() + (nt * k_tiles + kt) * 32 * words;
      for (int lane = 0; lane < 32; ++lane) {
        uint32_t w[4 * 8] = {};  // the lane's words, w = ks * bits + j
        for (int ks = 0; ks < kStepsPerTile; ++ks) {
          uint32_t* step = w + ks * step_words(bits);
          for (int j = 0; j < pair_words(bits); ++j) {
            for (int p = 0; p < pairs_per_word(bits); ++p) {
              const int f = pair_fragment(bits, j, p), r = pair_register(bits, p);
              for (int half = 0; half < 2; ++half) {
                const uint32_t v = code(kt * kTileK + fragment_k(lane, ks, r, half), nt * kTileN + fragment_n(lane, f));
                const int pb = pair_bits(bits);
                step[j] |= (v & ((1u << pb) - 1u)) << (16 * half + p * pb);
                if (bits == 3) step[2] |= ((v >> 2) & 1u) << (16 * half + 8 * j + p);
              }
            }
          }
        }
        // Word w of the lane goes to uint4 w / 4, component w % 4.
        for (int i = 0; i < words; ++i) tile[((i / 4) * 32 + lane) * 4 + i % 4] = w[i];
      }
    }
  };
  if (pool != nullptr) {
    pool->parallel_for(n_tiles, 1, [&](int64_t begin, int64_t end, int) {
      for (int64_t nt = begin; nt < end; ++nt) repack_strip(nt);
    });
  } else {
    for (int64_t nt = 0; nt < n_tiles; ++nt) repack_strip(nt);
  }

  const size_t per_group = static_cast<size_t>(n_tiles * 64);
  out.scales.assign(static_cast<size_t>(G) * per_group, 0.0f);
  out.zeros.assign(static_cast<size_t>(G) * per_group, 0.0f);
  for (int64_t g = 0; g < G; ++g) {
    for (int64_t nt = 0; nt < n_tiles; ++nt) {
      for (int c = 0; c < 8; ++c) {
        for (int f = 0; f < kFragments; ++f) {
          const int64_t n = nt * kTileN + fragment_n(4 * c, f);
          const size_t at = static_cast<size_t>(((g * n_tiles + nt) * 8 + c) * 8 + f);
          if (n >= N) continue;
          out.scales[at] = fp16_to_float(s.scales_fp16[g * N + n]);
          out.zeros[at] = static_cast<float>(s.zeros[g * N + n]);
        }
      }
    }
  }
  return out;
}

}  // namespace gptq::gpu
