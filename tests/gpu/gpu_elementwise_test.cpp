// The GPU row kernels against the CPU backend's row operations.
#include <gtest/gtest.h>

#include <cmath>

#include "backend/cpu/row_ops.h"
#include "gpu/gpu_test_util.h"
#include "kernels/cuda/elementwise.h"
#include "model/rope.h"

namespace gptq::test {
namespace {

constexpr FloatType kTypes[] = {FloatType::F32, FloatType::F16, FloatType::BF16};

Norm random_norm(int64_t n, bool with_bias, std::mt19937& rng) {
  Norm norm;
  norm.weight = random_values(static_cast<size_t>(n), rng);
  if (with_bias) norm.bias = random_values(static_cast<size_t>(n), rng);
  return norm;
}

TEST(GpuElementwise, ResidualNormsMatchTheCpu) {
  GPTQ_REQUIRE_GPU();
  std::mt19937 rng(1);
  for (FloatType type : kTypes) {
    for (int32_t n : {96, 4096, 5000}) {
      for (NormKind kind : {NormKind::RmsNorm, NormKind::LayerNorm}) {
        for (int adds : {0, 1, 2}) {
          SCOPED_TRACE(testing::Message() << type_name(type) << " n=" << n << " adds=" << adds);
          const int32_t rows = 5;
          const std::vector<float> hidden = rounded(random_values(rows * n, rng), type);
          const std::vector<float> a = rounded(random_values(rows * n, rng), type);
          const std::vector<float> b = rounded(random_values(rows * n, rng), type);
          const Norm norm = random_norm(n, kind == NormKind::LayerNorm, rng);
          // The CPU: the sum rounded to the stream's type, then the norm.
          std::vector<float> want_hidden = hidden, want_out(rows * n);
          for (int32_t r = 0; r < rows; ++r) {
            float* h = &want_hidden[r * n];
            if (adds >= 1) add_row(h, &a[r * n], n);
            if (adds >= 2) add_row(h, &b[r * n], n);
            for (int32_t i = 0; i < n; ++i) h[i] = round_to(h[i], type);
            norm_row(h, &want_out[r * n], n, norm, kind, 1e-5f);
          }
          cuda::DeviceBuffer d_hidden = upload(hidden, type), d_a = upload(a, type), d_b = upload(b, type);
          cuda::DeviceBuffer d_w = upload(norm.weight, FloatType::F32);
          cuda::DeviceBuffer d_bias = upload(norm.bias, FloatType::F32);
          cuda::DeviceBuffer out = poisoned(static_cast<size_t>(rows * n) * float_type_size(type));
          gpu::ResidualNormArgs args;
          args.hidden = d_hidden.get();
          args.ld_hidden = n;
          if (adds >= 1) args.add = d_a.get(), args.ld_add = n;
          if (adds >= 2) args.add2 = d_b.get(), args.ld_add2 = n;
          args.out = out.get();
          args.ld_out = n;
          args.weight = d_w.as<float>();
          args.bias = norm.bias.empty() ? nullptr : d_bias.as<float>();
          args.layer_norm = kind == NormKind::LayerNorm;
          args.eps = 1e-5f;
          args.rows = rows;
          args.n = n;
          ASSERT_EQ(gpu::launch_residual_norm(type, args, nullptr), cudaSuccess);
          EXPECT_LT(relative_l2(download(out.get(), rows * n, type), want_out), tolerance_for(type));
          EXPECT_EQ(download(d_hidden.get(), rows * n, type), want_hidden);
        }
      }
    }
  }
}

TEST(GpuElementwise, RotaryHeadNormsAndKvStoreMatchTheCpu) {
  GPTQ_REQUIRE_GPU();
  std::mt19937 rng(2);
  const int32_t n_heads = 4, n_kv = 2, n_ctx = 64, n_seq = 2;
  for (FloatType type : kTypes) {
    for (int32_t head_dim : {32, 64, 128}) {
      for (int32_t rotary : {head_dim, head_dim / 4}) {
        for (RotaryStyle style : {RotaryStyle::Half, RotaryStyle::Interleaved}) {
          for (bool head_norms : {false, true}) {
            SCOPED_TRACE(testing::Message() << type_name(type) << " hd=" << head_dim << " rotary=" << rotary
                                            << (style == RotaryStyle::Half ? " half" : " interleaved")
                                            << (head_norms ? " head norms" : ""));
            std::vector<float> inv_freq(static_cast<size_t>(rotary / 2));
            for (size_t i = 0; i < inv_freq.size(); ++i) inv_freq[i] = std::pow(10000.0f, -2.0f * i / rotary);
            const RopeTable rope = build_rope_table(inv_freq, n_ctx);
            const std::vector<int32_t> seq = {0, 1, 1}, pos = {5, 0, 63};
            const int32_t rows = 3;
            const int64_t q_dim = n_heads * head_dim, kv_dim = n_kv * head_dim;
            const std::vector<float> q = rounded(random_values(rows * q_dim, rng), type);
            const std::vector<float> k = rounded(random_values(rows * kv_dim, rng), type);
            const std::vector<float> v = rounded(random_values(rows * kv_dim, rng), type);
            const Norm q_norm = random_norm(head_dim, false, rng), k_norm = random_norm(head_dim, false, rng);
            std::vector<float> want_q = q, want_k = k;
            for (int32_t t = 0; t < rows; ++t) {
              if (head_norms) {
                norm_heads(&want_q[t * q_dim], n_heads, head_dim, q_norm, 1e-6f);
                norm_heads(&want_k[t * kv_dim], n_kv, head_dim, k_norm, 1e-6f);
              }
              apply_rope(&want_q[t * q_dim], n_heads, head_dim, rope, pos[t], style);
              apply_rope(&want_k[t * kv_dim], n_kv, head_dim, rope, pos[t], style);
            }
            const int64_t head_stride = int64_t{n_ctx} * head_dim, seq_stride = head_stride * n_kv;
            cuda::DeviceBuffer d_q = upload(q, type), d_k = upload(k, type), d_v = upload(v, type);
            cuda::DeviceBuffer d_qn = upload(q_norm.weight, FloatType::F32), d_kn = upload(k_norm.weight, FloatType::F32);
            cuda::DeviceBuffer d_cos = upload(rope.cos, FloatType::F32), d_sin = upload(rope.sin, FloatType::F32);
            cuda::DeviceBuffer d_seq = upload_ints(seq), d_pos = upload_ints(pos);
            const size_t cache = static_cast<size_t>(seq_stride * n_seq);
            cuda::DeviceBuffer k_cache = poisoned(cache * float_type_size(type));
            cuda::DeviceBuffer v_cache = poisoned(cache * float_type_size(type));
            gpu::RotateStoreArgs a;
            a.q = d_q.get();
            a.ld_q = q_dim;
            a.k = d_k.get();
            a.ld_k = kv_dim;
            a.v = d_v.get();
            a.ld_v = kv_dim;
            a.rows = rows;
            a.n_heads = n_heads;
            a.n_kv_heads = n_kv;
            a.head_dim = head_dim;
            if (head_norms) a.q_norm = d_qn.as<float>(), a.k_norm = d_kn.as<float>();
            a.norm_eps = 1e-6f;
            a.rope_cos = d_cos.as<float>();
            a.rope_sin = d_sin.as<float>();
            a.rope_half = static_cast<int32_t>(rope.half);
            a.interleaved = style == RotaryStyle::Interleaved;
            a.seq = d_seq.as<int32_t>();
            a.pos = d_pos.as<int32_t>();
            a.k_cache = k_cache.get();
            a.v_cache = v_cache.get();
            a.kv_type = type;
            a.seq_stride = seq_stride;
            a.head_stride = head_stride;
            ASSERT_EQ(gpu::launch_rotate_and_store(type, a, nullptr), cudaSuccess);
            EXPECT_LT(relative_l2(download(d_q.get(), rows * q_dim, type), want_q), tolerance_for(type));
            const std::vector<float> keys = download(k_cache.get(), cache, type);
            const std::vector<float> values = download(v_cache.get(), cache, type);
            for (int32_t t = 0; t < rows; ++t) {
              for (int32_t g = 0; g < n_kv; ++g) {
                const int64_t at = seq[t] * seq_stride + g * head_stride + int64_t{pos[t]} * head_dim;
                const std::span<const float> got_k(keys.data() + at, head_dim), got_v(values.data() + at, head_dim);
                const std::span<const float> k_row(want_k.data() + t * kv_dim + g * head_dim, head_dim);
                const std::span<const float> v_row(v.data() + t * kv_dim + g * head_dim, head_dim);
                EXPECT_LT(relative_l2(got_k, k_row), tolerance_for(type));
                EXPECT_EQ(std::vector<float>(got_v.begin(), got_v.end()), std::vector<float>(v_row.begin(), v_row.end()));
              }
            }
          }
        }
      }
    }
  }
}

TEST(GpuElementwise, SplitsActivationsGathersAndScoresMatchTheCpu) {
  GPTQ_REQUIRE_GPU();
  std::mt19937 rng(3);
  for (FloatType type : kTypes) {
    SCOPED_TRACE(type_name(type));
    // q/k/v splits, both layouts.
    for (QkvLayout layout : {QkvLayout::Concatenated, QkvLayout::HeadInterleaved}) {
      const int32_t heads = 4, kv = layout == QkvLayout::HeadInterleaved ? 4 : 2, hd = 16, rows = 3;
      const int64_t width = (heads + 2 * kv) * hd;
      const std::vector<float> qkv = rounded(random_values(rows * width, rng), type);
      std::vector<float> want_q(rows * heads * hd), want_k(rows * kv * hd), want_v(rows * kv * hd);
      for (int32_t t = 0; t < rows; ++t) {
        split_qkv_row(&qkv[t * width], layout, heads, kv, hd, &want_q[t * heads * hd], &want_k[t * kv * hd],
                      &want_v[t * kv * hd]);
      }
      cuda::DeviceBuffer d = upload(qkv, type);
      cuda::DeviceBuffer q = poisoned(want_q.size() * 4), k = poisoned(want_k.size() * 4), v = poisoned(want_v.size() * 4);
      gpu::SplitQkvArgs a;
      a.qkv = d.get();
      a.ld_qkv = width;
      a.rows = rows;
      a.head_interleaved = layout == QkvLayout::HeadInterleaved;
      a.n_heads = heads;
      a.n_kv_heads = kv;
      a.head_dim = hd;
      a.q = q.get();
      a.ld_q = heads * hd;
      a.k = k.get();
      a.ld_k = kv * hd;
      a.v = v.get();
      a.ld_v = kv * hd;
      ASSERT_EQ(gpu::launch_split_qkv(type, a, nullptr), cudaSuccess);
      EXPECT_EQ(download(q.get(), want_q.size(), type), want_q);
      EXPECT_EQ(download(k.get(), want_k.size(), type), want_k);
      EXPECT_EQ(download(v.get(), want_v.size(), type), want_v);
    }
    // Activations, gated or not.
    for (Activation act : {Activation::Silu, Activation::GeluErf, Activation::GeluTanh, Activation::Relu}) {
      for (bool gated : {false, true}) {
        const int32_t rows = 3, n = 333;
        const std::vector<float> gate = rounded(random_values(rows * n, rng, 3.0f), type);
        const std::vector<float> up = rounded(random_values(rows * n, rng), type);
        std::vector<float> want = gate;
        for (int32_t r = 0; r < rows; ++r) activate_row(&want[r * n], gated ? &up[r * n] : nullptr, n, act);
        cuda::DeviceBuffer d_gate = upload(gate, type), d_up = upload(up, type);
        ASSERT_EQ(gpu::launch_activate(type, d_gate.get(), n, gated ? d_up.get() : nullptr, n, rows, n, act, nullptr),
                  cudaSuccess);
        EXPECT_LT(relative_l2(download(d_gate.get(), rows * n, type), want), tolerance_for(type));
      }
    }
    // Row and column gathers, to and from fp32.
    const int32_t rows = 4, n = 50;
    const std::vector<float> x = rounded(random_values(rows * n, rng), type);
    cuda::DeviceBuffer d_x = upload(x, type);
    const std::vector<int32_t> pick = {3, 0, 2};
    cuda::DeviceBuffer d_pick = upload_ints(pick);
    cuda::DeviceBuffer picked = poisoned(3 * n * 4);
    ASSERT_EQ(gpu::launch_gather_rows(type, d_x.get(), n, d_pick.as<int32_t>(), 3, n, picked.get(), n, nullptr),
              cudaSuccess);
    const std::vector<float> got_rows = download(picked.get(), 3 * n, type);
    for (int r = 0; r < 3; ++r) {
      for (int i = 0; i < n; ++i) EXPECT_EQ(got_rows[r * n + i], x[pick[r] * n + i]);
    }
    const std::vector<int32_t> source = {4, -1, 0, 49, 7, -1, 1, 2};
    cuda::DeviceBuffer d_source = upload_ints(source);
    cuda::DeviceBuffer columns = poisoned(rows * 8 * 4);
    ASSERT_EQ(gpu::launch_gather_columns(type, d_x.get(), n, rows, d_source.as<int32_t>(), n, 8, columns.get(), 8,
                                         nullptr),
              cudaSuccess);
    const std::vector<float> got_columns = download(columns.get(), rows * 8, type);
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < 8; ++c) EXPECT_EQ(got_columns[r * 8 + c], source[c] < 0 ? 0.0f : x[r * n + source[c]]);
    }
    cuda::DeviceBuffer floats = poisoned(rows * n * 4);
    ASSERT_EQ(gpu::launch_to_float(type, d_x.get(), n, rows, n, floats.as<float>(), nullptr), cudaSuccess);
    EXPECT_EQ(download(floats.get(), rows * n, FloatType::F32), x);
    cuda::DeviceBuffer back = poisoned(rows * n * 4);
    ASSERT_EQ(gpu::launch_from_float(type, floats.as<float>(), rows, n, back.get(), n, nullptr), cudaSuccess);
    EXPECT_EQ(download(back.get(), rows * n, type), x);
    // Log-likelihoods of targets.
    const int32_t vocab = 1000;
    const std::vector<float> logits = rounded(random_values(rows * vocab, rng, 4.0f), type);
    const std::vector<int32_t> targets = {0, 999, 17, 500};
    cuda::DeviceBuffer d_logits = upload(logits, type), d_targets = upload_ints(targets);
    cuda::DeviceBuffer nll(kGpu0, rows * sizeof(double), "nll");
    ASSERT_EQ(gpu::launch_token_nll(type, d_logits.get(), vocab, rows, vocab, d_targets.as<int32_t>(),
                                    nll.as<double>(), nullptr),
              cudaSuccess);
    std::vector<double> got_nll(rows);
    cuda::check(cudaMemcpy(got_nll.data(), nll.get(), rows * sizeof(double), cudaMemcpyDeviceToHost), "cudaMemcpy");
    for (int r = 0; r < rows; ++r) {
      EXPECT_NEAR(got_nll[r], negative_log_likelihood(&logits[r * vocab], vocab, targets[r]), 1e-4);
    }
  }
}

TEST(GpuElementwise, EmbeddingRowsScaledWithPositions) {
  GPTQ_REQUIRE_GPU();
  std::mt19937 rng(4);
  for (FloatType type : kTypes) {
    const int32_t vocab = 30, hidden = 24, positions = 12, offset = 2;
    const std::vector<float> table = rounded(random_values(vocab * hidden, rng), type);
    const std::vector<float> pos_table = rounded(random_values((positions + offset) * hidden, rng), type);
    const std::vector<int32_t> tokens = {7, 0, 29}, pos = {0, 3, 11};
    cuda::DeviceBuffer d_table = upload(table, type), d_pos_table = upload(pos_table, type);
    cuda::DeviceBuffer d_tokens = upload_ints(tokens), d_pos = upload_ints(pos);
    cuda::DeviceBuffer out = poisoned(3 * hidden * 4);
    gpu::EmbedArgs a;
    a.out = out.get();
    a.ld_out = hidden;
    a.tokens_table = d_table.get();
    a.positions_table = d_pos_table.get();
    a.tokens = d_tokens.as<int32_t>();
    a.positions = d_pos.as<int32_t>();
    a.n_tokens = 3;
    a.hidden = hidden;
    a.scale = 1.5f;
    a.position_offset = offset;
    ASSERT_EQ(gpu::launch_embed(type, a, nullptr), cudaSuccess);
    const std::vector<float> got = download(out.get(), 3 * hidden, type);
    for (int t = 0; t < 3; ++t) {
      for (int i = 0; i < hidden; ++i) {
        const float want = round_to(table[tokens[t] * hidden + i] * 1.5f + pos_table[(pos[t] + offset) * hidden + i], type);
        // (fp32 may fuse the scale and the add into one rounding)
        EXPECT_NEAR(got[t * hidden + i], want, 1e-6f * (1.0f + std::fabs(want))) << type_name(type) << " t=" << t;
      }
    }
  }
}

}  // namespace
}  // namespace gptq::test
