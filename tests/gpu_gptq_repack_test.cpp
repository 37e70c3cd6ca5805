// The GPU layout's repack, checked on the CPU by reading every weight back
// the way a kernel lane does (gptq_layout.h's shared extraction), so the
// layout is right before any GPU runs it.
#include <gtest/gtest.h>

#include <random>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/cuda/gptq_repack.h"
#include "kernels_gptq_test_util.h"
#include "test_util.h"

namespace gptq::test {
namespace {

using gpu::GptqTilesHost;

// Every (k', n) the layout holds, as lane `lane` of tile (nt, kt) reads it:
// the code there must be the source's code of input row row_source[k'].
void expect_tiles_hold_the_source(const GptqLayer& layer, const GptqTilesHost& host) {
  const GptqSource s = layer.source();
  const std::vector<uint8_t> q = unpack_gptq_codes(s);
  const gpu::GptqTiles& t = host.tiles;
  const int bits = t.bits;
  auto source_row = [&](int64_t row) { return host.row_source.empty() ? static_cast<int32_t>(row) : host.row_source[row]; };
  int64_t mismatches = 0, checked = 0;
  for (int64_t nt = 0; nt < t.n_tiles(); ++nt) {
    for (int64_t kt = 0; kt < t.k_tiles(); ++kt) {
      const uint32_t* tile = host.weights.data() + (nt * t.k_tiles() + kt) * 32 * gpu::lane_words(bits);
      for (int lane = 0; lane < 32; ++lane) {
        uint32_t words[32];
        for (int i = 0; i < gpu::lane_words(bits); ++i) words[i] = tile[((i / 4) * 32 + lane) * 4 + i % 4];
        for (int ks = 0; ks < gpu::kStepsPerTile; ++ks) {
          const uint32_t* step = words + ks * gpu::step_words(bits);
          for (int j = 0; j < gpu::pair_words(bits); ++j) {
            for (int p = 0; p < gpu::pairs_per_word(bits); ++p) {
              const int f = gpu::pair_fragment(bits, j, p), r = gpu::pair_register(bits, p);
              for (int half = 0; half < 2; ++half) {
                const int64_t row = kt * gpu::kTileK + gpu::fragment_k(lane, ks, r, half);
                const int64_t n = nt * gpu::kTileN + gpu::fragment_n(lane, f);
                const int32_t src = source_row(row);
                const uint32_t want = src >= 0 && n < s.out_features ? q[src * s.out_features + n] : 0u;
                mismatches += gpu::pair_value(step, bits, j, p, half) != want;
                ++checked;
              }
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(checked, t.k_padded * int64_t{t.n_padded});
  EXPECT_EQ(mismatches, 0);
}

void expect_groups_and_rows_consistent(const GptqLayer& layer, const GptqTilesHost& host) {
  const GptqSource s = layer.source();
  const gpu::GptqTiles& t = host.tiles;
  ASSERT_EQ(t.k_padded % gpu::kTileK, 0);
  ASSERT_EQ(t.n_padded % gpu::kTileN, 0);
  ASSERT_GE(t.n_padded, t.n);
  ASSERT_EQ(static_cast<int64_t>(host.block_group.size()), t.k_padded / gpu::kStepK);
  // Every input column appears once, in a k16 step of its own group.
  std::vector<int> seen(static_cast<size_t>(s.in_features), 0);
  for (int64_t row = 0; row < t.k_padded; ++row) {
    const int32_t src = host.row_source.empty() ? static_cast<int32_t>(row) : host.row_source[row];
    if (src < 0) continue;
    ASSERT_LT(src, s.in_features);
    ++seen[src];
    EXPECT_EQ(host.block_group[row / gpu::kStepK], s.g_idx[src]) << "row " << row;
  }
  for (int64_t k = 0; k < s.in_features; ++k) EXPECT_EQ(seen[k], 1) << "column " << k;
  // Whole-tile groups, where the layout claims them.
  if (t.tiles_per_group > 0) {
    for (size_t kb = 0; kb < host.block_group.size(); ++kb) {
      ASSERT_EQ(host.block_group[kb], static_cast<int32_t>(kb / gpu::kStepsPerTile / t.tiles_per_group)) << kb;
    }
  }
  // Scales and zeros where lane c * 4 of a strip reads fragment f's column.
  for (int64_t g = 0; g < s.n_groups; ++g) {
    for (int64_t nt = 0; nt < t.n_tiles(); ++nt) {
      for (int c = 0; c < 8; ++c) {
        for (int f = 0; f < gpu::kFragments; ++f) {
          const int64_t n = nt * gpu::kTileN + gpu::fragment_n(4 * c, f);
          const size_t at = static_cast<size_t>(((g * t.n_tiles() + nt) * 8 + c) * 8 + f);
          const float scale = n < s.out_features ? fp16_to_float(s.scales_fp16[g * s.out_features + n]) : 0.0f;
          const float zero = n < s.out_features ? static_cast<float>(s.zeros[g * s.out_features + n]) : 0.0f;
          ASSERT_EQ(host.scales[at], scale);
          ASSERT_EQ(host.zeros[at], zero);
        }
      }
    }
  }
}

TEST(GpuGptqRepack, EveryLaneReadsTheSourceValues) {
  std::mt19937 rng(7);
  const GptqShape shapes[] = {
      {4, 128, 64, 128, false},  {4, 256, 200, 64, false}, {4, 352, 96, 128, false}, {4, 192, 72, 32, true},
      {8, 128, 64, -1, true},    {8, 160, 70, 32, false},  {2, 128, 130, 64, false}, {2, 256, 64, 16, true},
      {3, 128, 64, 128, false},  {3, 96, 100, 32, true},   {3, 416, 65, 128, false}, {4, 320, 64, 100, false},
  };
  for (const GptqShape& shape : shapes) {
    SCOPED_TRACE(testing::Message() << shape);
    const GptqLayer layer = random_gptq_layer(shape, rng);
    const GptqTilesHost host = gpu::repack_gptq_tiles(layer.source());
    expect_groups_and_rows_consistent(layer, host);
    expect_tiles_hold_the_source(layer, host);
  }
}

TEST(GpuGptqRepack, StripsRepackedInParallelAreTheSameWords) {
  std::mt19937 rng(11);
  ThreadPool pool(3);
  for (const GptqShape& shape : {GptqShape{4, 256, 650, 128, false}, GptqShape{3, 192, 130, 32, true}}) {
    SCOPED_TRACE(testing::Message() << shape);
    const GptqLayer layer = random_gptq_layer(shape, rng);
    const GptqTilesHost serial = gpu::repack_gptq_tiles(layer.source());
    const GptqTilesHost parallel = gpu::repack_gptq_tiles(layer.source(), &pool);
    EXPECT_EQ(serial.weights, parallel.weights);
    EXPECT_EQ(serial.scales, parallel.scales);
    EXPECT_EQ(serial.zeros, parallel.zeros);
    EXPECT_EQ(serial.row_source, parallel.row_source);
  }
}

TEST(GpuGptqRepack, InPlaceInputOnlyWithoutReorderOrPadding) {
  std::mt19937 rng(3);
  EXPECT_TRUE(gpu::repack_gptq_tiles(random_gptq_layer({4, 256, 64, 128, false}, rng).source()).row_source.empty());
  EXPECT_TRUE(gpu::repack_gptq_tiles(random_gptq_layer({4, 256, 64, 32, false}, rng).source()).row_source.empty());
  // K not a multiple of 64, a group size that is not a multiple of 16, act-order.
  EXPECT_FALSE(gpu::repack_gptq_tiles(random_gptq_layer({4, 352, 64, 128, false}, rng).source()).row_source.empty());
  EXPECT_FALSE(gpu::repack_gptq_tiles(random_gptq_layer({4, 320, 64, 40, false}, rng).source()).row_source.empty());
  EXPECT_FALSE(gpu::repack_gptq_tiles(random_gptq_layer({4, 256, 64, 128, true}, rng).source()).row_source.empty());
}

TEST(GpuGptqRepack, WholeTileGroupsAreFoundWhereTheyHold) {
  std::mt19937 rng(4);
  auto per_group = [&](const GptqShape& shape) {
    return gpu::repack_gptq_tiles(random_gptq_layer(shape, rng).source()).tiles.tiles_per_group;
  };
  EXPECT_EQ(per_group({4, 512, 64, 128, false}), 2);
  EXPECT_EQ(per_group({4, 512, 64, 128, true}), 2);  // act-order, once reordered
  EXPECT_EQ(per_group({4, 512, 64, -1, false}), 8);
  EXPECT_EQ(per_group({4, 352, 64, 128, false}), 2);  // the padded tail stays in the last group
  EXPECT_EQ(per_group({4, 512, 64, 32, false}), 0);
  EXPECT_EQ(per_group({4, 320, 64, 100, false}), 0);
}

TEST(GpuGptqRepack, RefusesInconsistentSources) {
  std::mt19937 rng(5);
  GptqLayer layer = random_gptq_layer({4, 128, 64, 64, false}, rng);
  layer.g_idx[3] = 7;
  std::string message;
  EXPECT_EQ(status_of([&] { gpu::repack_gptq_tiles(layer.source()); }, &message), GPTQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(message.find("g_idx"), std::string::npos) << message;
}

TEST(GpuGptqRepack, ZeroMagicMatchesEachTypesDequantization) {
  EXPECT_EQ(gpu::zero_magic(FloatType::F16, 4), 1024.0f);
  EXPECT_EQ(gpu::zero_magic(FloatType::BF16, 4), 128.0f);
  EXPECT_EQ(gpu::zero_magic(FloatType::BF16, 8), 0.0f);
  EXPECT_EQ(gpu::zero_magic(FloatType::F32, 3), 0.0f);
}

}  // namespace
}  // namespace gptq::test
