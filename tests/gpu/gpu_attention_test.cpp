// The GPU attention kernels (split-KV and tiled prefill) against the CPU
// reference over decode, prefill and mixed batches, GQA, sliding windows,
// ALiBi, head sizes and type pairs; the split counts and their scratch.
#include <gtest/gtest.h>

#include <cmath>

#include "gpu/gpu_test_util.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cuda/attention.h"
#include "model/alibi.h"

namespace gptq::test {
namespace {

struct Heads {
  int32_t n_heads, n_kv_heads, head_dim;
};

struct Tokens {
  std::vector<int32_t> seq, pos;
  void run(int32_t s, int32_t first, int32_t count) {
    for (int32_t i = 0; i < count; ++i) {
      seq.push_back(s);
      pos.push_back(first + i);
    }
  }
};

constexpr int32_t kSeqs = 3, kCtx = 512;

void check(const Heads& h, const Tokens& tokens, int32_t window, FloatType type, FloatType kv_type, std::mt19937& rng,
           bool alibi = false) {
  const int32_t n = static_cast<int32_t>(tokens.seq.size());
  const int64_t head_stride = int64_t{kCtx} * h.head_dim, seq_stride = head_stride * h.n_kv_heads;
  const std::vector<float> keys = rounded(random_values(static_cast<size_t>(seq_stride * kSeqs), rng), kv_type);
  const std::vector<float> values = rounded(random_values(static_cast<size_t>(seq_stride * kSeqs), rng), kv_type);
  const int64_t q_dim = int64_t{h.n_heads} * h.head_dim;
  const std::vector<float> q = rounded(random_values(static_cast<size_t>(n * q_dim), rng), type);
  const float scale = 1.0f / std::sqrt(static_cast<float>(h.head_dim));

  std::vector<float> want(static_cast<size_t>(n * q_dim));
  cpu::AttentionProblem p;
  p.n_tokens = n;
  p.n_heads = h.n_heads;
  p.n_kv_heads = h.n_kv_heads;
  p.head_dim = h.head_dim;
  p.q = q.data();
  p.q_stride = q_dim;
  p.out = want.data();
  p.out_stride = q_dim;
  p.seq = tokens.seq.data();
  p.pos = tokens.pos.data();
  p.k = keys.data();
  p.v = values.data();
  p.seq_stride = seq_stride;
  p.head_stride = head_stride;
  p.window = window;
  p.scale = scale;
  const std::vector<float> slopes = alibi_slopes(h.n_heads);
  if (alibi) p.alibi_slopes = slopes.data();
  cpu::reference::attention(p);
  const cuda::DeviceBuffer d_slopes = upload(slopes, FloatType::F32);

  const cuda::DeviceBuffer d_keys = upload(keys, kv_type), d_values = upload(values, kv_type), d_q = upload(q, type);
  const cuda::DeviceBuffer d_seq = upload_ints(tokens.seq), d_pos = upload_ints(tokens.pos);
  std::vector<gpu::AttentionTile> tiles(static_cast<size_t>(n));
  const int32_t n_tiles = gpu::build_attention_tiles(tokens.seq.data(), tokens.pos.data(), n, tiles.data());
  cuda::DeviceBuffer d_tiles(kGpu0, tiles.size() * sizeof(gpu::AttentionTile), "tiles");
  cuda::check(cudaMemcpy(d_tiles.get(), tiles.data(), tiles.size() * sizeof(gpu::AttentionTile),
                         cudaMemcpyHostToDevice),
              "cudaMemcpy");

  gpu::AttentionArgs a;
  a.q = d_q.get();
  a.ld_q = q_dim;
  a.k_cache = d_keys.get();
  a.v_cache = d_values.get();
  a.kv_type = kv_type;
  a.seq_stride = seq_stride;
  a.head_stride = head_stride;
  a.n_ctx = kCtx;
  a.seq = d_seq.as<int32_t>();
  a.pos = d_pos.as<int32_t>();
  a.n_tokens = n;
  a.n_heads = h.n_heads;
  a.n_kv_heads = h.n_kv_heads;
  a.head_dim = h.head_dim;
  a.window = window;
  a.scale = scale;
  if (alibi) a.alibi_slopes = d_slopes.as<float>();
  auto expect_output = [&](const char* kernel) {
    SCOPED_TRACE(testing::Message() << kernel << " heads " << h.n_heads << "/" << h.n_kv_heads << " hd " << h.head_dim
                                    << " tokens " << n << " window " << window << " " << type_name(type) << "/"
                                    << type_name(kv_type) << (alibi ? " alibi" : ""));
    const std::vector<float> got = download(a.out, static_cast<size_t>(n * q_dim), type);
    for (float v : got) ASSERT_FALSE(std::isnan(v)) << "an output was not written";
    EXPECT_LT(relative_l2(got, want), tolerance_for(type == FloatType::F32 ? kv_type : type));
  };
  for (int32_t splits : {1, 4, 16, gpu::kMaxAttentionSplits}) {
    cuda::DeviceBuffer out = poisoned(static_cast<size_t>(n * q_dim) * float_type_size(type));
    cuda::DeviceBuffer partial(kGpu0, static_cast<size_t>(n) * h.n_heads * splits * (h.head_dim + 2) * 4, "partials");
    a.out = out.get();
    a.ld_out = q_dim;
    a.splits = splits;
    a.partial = partial.as<float>();
    ASSERT_EQ(gpu::launch_attention_split(type, a, nullptr), cudaSuccess);
    expect_output(("split-KV x" + std::to_string(splits)).c_str());
  }
  if (gpu::attention_tiled_supported(type, kv_type, h.head_dim)) {
    cuda::DeviceBuffer out = poisoned(static_cast<size_t>(n * q_dim) * float_type_size(type));
    a.out = out.get();
    a.tiles = d_tiles.as<gpu::AttentionTile>();
    a.n_tiles = n_tiles;
    ASSERT_EQ(gpu::launch_attention_tiled(type, a, nullptr), cudaSuccess);
    expect_output("tiled");
  }
}

TEST(GpuAttention, MatchesTheReference) {
  GPTQ_REQUIRE_GPU();
  std::mt19937 rng(21);
  Tokens decode;
  decode.run(0, 0, 1);
  decode.run(1, 37, 1);
  decode.run(2, 511, 1);
  decode.run(0, 200, 1);
  Tokens prefill;
  prefill.run(1, 100, 130);
  Tokens mixed;
  mixed.run(0, 5, 20);
  mixed.run(2, 300, 1);
  mixed.run(1, 0, 10);
  const Heads heads[] = {{8, 2, 64}, {4, 4, 128}, {6, 2, 32}, {4, 1, 80}, {2, 2, 256}};
  const std::pair<FloatType, FloatType> types[] = {{FloatType::F16, FloatType::F16},
                                                   {FloatType::BF16, FloatType::BF16},
                                                   {FloatType::F32, FloatType::F32},
                                                   {FloatType::F16, FloatType::F32},
                                                   {FloatType::F32, FloatType::BF16}};
  for (const Heads& h : heads) {
    for (const auto& [type, kv_type] : types) {
      for (int32_t window : {0, 48}) {
        for (const Tokens* batch : {&decode, &prefill, &mixed}) check(h, *batch, window, type, kv_type, rng);
      }
    }
  }
}

TEST(GpuAttention, AlibiMatchesTheReference) {
  GPTQ_REQUIRE_GPU();
  std::mt19937 rng(22);
  Tokens decode;
  decode.run(0, 0, 1);
  decode.run(1, 300, 1);
  decode.run(2, 77, 1);
  Tokens prefill;
  prefill.run(1, 0, 100);
  // 6 and 12 heads: slope series of a count that is no power of two.
  const Heads heads[] = {{6, 6, 64}, {12, 12, 128}, {8, 2, 64}, {4, 4, 80}};
  for (const Heads& h : heads) {
    for (FloatType type : {FloatType::F16, FloatType::BF16, FloatType::F32}) {
      for (const Tokens* batch : {&decode, &prefill}) check(h, *batch, 0, type, type, rng, true);
    }
  }
}

// Every split count the backend may ask for fits the scratch it sized, and
// no split is shorter than the minimum (a context of 64 positions or fewer
// is not split at all).
TEST(GpuAttention, SplitsFitTheirScratch) {
  for (int32_t heads : {1, 8, 32, 64}) {
    const int64_t scratch = gpu::attention_partial_floats(64, heads, 128);
    for (int32_t tokens = 1; tokens <= 64; ++tokens) {
      for (int32_t n_ctx : {1, 64, 200, 4096, 1 << 20}) {
        const int32_t splits = gpu::attention_splits(tokens, heads, n_ctx);
        ASSERT_GE(splits, 1);
        ASSERT_LE(splits, gpu::kMaxAttentionSplits);
        if (n_ctx <= 64) {
          EXPECT_EQ(splits, 1) << n_ctx;
        }
        if (splits > 1) {
          EXPECT_GE(n_ctx / splits, 64) << tokens << " tokens, n_ctx " << n_ctx;
          EXPECT_LE(int64_t{tokens} * heads * splits * 130, scratch) << tokens << " tokens, " << heads << " heads";
        }
      }
    }
  }
}

TEST(GpuAttention, TilesAreRunsOfConsecutivePositions) {
  Tokens t;
  t.run(0, 3, 70);
  t.run(1, 0, 2);
  t.run(1, 5, 1);
  std::vector<gpu::AttentionTile> tiles(t.seq.size());
  const int32_t n = gpu::build_attention_tiles(t.seq.data(), t.pos.data(), static_cast<int32_t>(t.seq.size()),
                                               tiles.data());
  ASSERT_EQ(n, 4);
  EXPECT_EQ(tiles[0].count, 64);
  EXPECT_EQ(tiles[1].first_row, 64);
  EXPECT_EQ(tiles[1].first_pos, 67);
  EXPECT_EQ(tiles[1].count, 6);
  EXPECT_EQ(tiles[2].seq, 1);
  EXPECT_EQ(tiles[2].count, 2);
  EXPECT_EQ(tiles[3].first_pos, 5);
}

}  // namespace
}  // namespace gptq::test
