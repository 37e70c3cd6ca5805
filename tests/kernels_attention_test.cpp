// attention: every ISA variant against the scalar reference: prefill,
// chunked prefill, decode batches, sequences interleaved in one batch, GQA
// ratios 1-4, sliding windows, head dims 32/64/80/96/128 and odd ones,
// ALiBi biases.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "model/alibi.h"
#include "kernels_test_util.h"

namespace gptq::test {
namespace {

using cpu::AttentionProblem;
using cpu::Isa;

struct Token {
  int32_t seq, pos;
};

// A batch of tokens over a KV cache with room for `capacity` positions per
// sequence; q/out rows and cache rows are padded so strides are exercised.
class Batch {
 public:
  Batch(std::vector<Token> tokens, int n_heads, int n_kv_heads, int head_dim, int window, std::mt19937& rng)
      : tokens_(std::move(tokens)) {
    int32_t n_seqs = 0, capacity = 0;
    for (const Token& t : tokens_) {
      n_seqs = std::max(n_seqs, t.seq + 1);
      capacity = std::max(capacity, t.pos + 1);
    }
    capacity += 3;
    p_.n_tokens = static_cast<int32_t>(tokens_.size());
    p_.n_heads = n_heads;
    p_.n_kv_heads = n_kv_heads;
    p_.head_dim = head_dim;
    p_.q_stride = int64_t{n_heads} * head_dim + 5;
    p_.out_stride = int64_t{n_heads} * head_dim + 2;
    p_.head_stride = int64_t{capacity} * head_dim;
    p_.seq_stride = p_.head_stride * n_kv_heads + 7;
    p_.window = window;
    p_.scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    q_ = random_floats(p_.n_tokens * p_.q_stride, rng);
    // Scores of a few units, so the softmax is neither flat nor one-hot.
    for (float& f : q_) f *= 3.0f;
    k_ = random_floats(n_seqs * p_.seq_stride, rng);
    v_ = random_floats(n_seqs * p_.seq_stride, rng);
    for (const Token& t : tokens_) {
      seq_.push_back(t.seq);
      pos_.push_back(t.pos);
    }
    p_.q = q_.data();
    p_.k = k_.data();
    p_.v = v_.data();
    p_.seq = seq_.data();
    p_.pos = pos_.data();
  }

  void use_alibi() {
    slopes_ = alibi_slopes(p_.n_heads);
    p_.alibi_slopes = slopes_.data();
  }

  // The output rows (padding included, so stray writes show).
  std::vector<float> run(Isa isa, ThreadPool& pool) {
    std::vector<float> out(p_.n_tokens * p_.out_stride, -7.0f);
    AttentionProblem p = p_;
    p.out = out.data();
    cpu::attention(isa, pool, p);
    return out;
  }
  std::vector<float> reference() {
    std::vector<float> out(p_.n_tokens * p_.out_stride, -7.0f);
    AttentionProblem p = p_;
    p.out = out.data();
    cpu::reference::attention(p);
    return out;
  }

 private:
  std::vector<Token> tokens_;
  AttentionProblem p_;
  std::vector<float> q_, k_, v_, slopes_;
  std::vector<int32_t> seq_, pos_;
};

std::vector<Token> prefill(int32_t seq, int32_t from, int32_t to) {
  std::vector<Token> tokens;
  for (int32_t p = from; p < to; ++p) tokens.push_back({seq, p});
  return tokens;
}

// Three sequences: a chunk of prefill, a decode step far into its cache, a
// fresh prompt; tokens interleaved in a scrambled order.
std::vector<Token> mixed_batch(std::mt19937& rng) {
  std::vector<Token> tokens = prefill(0, 30, 70);
  tokens.push_back({1, 150});
  for (const Token& t : prefill(2, 0, 21)) tokens.push_back(t);
  std::shuffle(tokens.begin(), tokens.end(), rng);
  return tokens;
}

// One token per sequence at unrelated positions (batched decode).
std::vector<Token> decode_batch() { return {{0, 0}, {1, 63}, {2, 64}, {3, 200}, {4, 5}, {5, 129}}; }

void expect_close(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-5) << "at " << i;
}

class KernelsAttention : public testing::TestWithParam<Isa> {};

TEST_P(KernelsAttention, MatchesReference) {
  GPTQ_REQUIRE_ISA(GetParam());
  ThreadPool pool(2);
  std::mt19937 rng(11);
  struct Heads {
    int n_heads, n_kv_heads;
  };
  for (const Heads heads : {Heads{4, 4}, Heads{4, 2}, Heads{6, 2}, Heads{8, 2}, Heads{3, 1}}) {
    for (int head_dim : {32, 64, 80, 96, 128, 17}) {
      for (int window : {0, 7, 50}) {
        // The last batch: one sequence at scattered positions, so a tile's
        // rows see very different key ranges.
        const std::vector<Token> batches[] = {prefill(0, 0, 1),  prefill(0, 0, 100), prefill(1, 40, 81),
                                              mixed_batch(rng),  decode_batch(),
                                              {{0, 200}, {0, 3}, {0, 50}, {0, 10}, {0, 11}}};
        for (const std::vector<Token>& tokens : batches) {
          SCOPED_TRACE(testing::Message() << heads.n_heads << " heads, " << heads.n_kv_heads << " kv heads, dim "
                                          << head_dim << ", window " << window << ", " << tokens.size()
                                          << " tokens");
          Batch batch(tokens, heads.n_heads, heads.n_kv_heads, head_dim, window, rng);
          expect_close(batch.run(GetParam(), pool), batch.reference());
        }
      }
    }
  }
}

TEST_P(KernelsAttention, AlibiMatchesReference) {
  GPTQ_REQUIRE_ISA(GetParam());
  ThreadPool pool(2);
  std::mt19937 rng(14);
  struct Heads {
    int n_heads, n_kv_heads;
  };
  // 6 and 12 heads: the slopes of a count that is no power of two.
  for (const Heads heads : {Heads{4, 4}, Heads{6, 2}, Heads{12, 12}}) {
    for (int head_dim : {64, 17}) {
      for (int window : {0, 7}) {
        for (const std::vector<Token>& tokens : {prefill(0, 0, 100), mixed_batch(rng), decode_batch()}) {
          SCOPED_TRACE(testing::Message() << heads.n_heads << " heads, dim " << head_dim << ", window " << window
                                          << ", " << tokens.size() << " tokens");
          Batch batch(tokens, heads.n_heads, heads.n_kv_heads, head_dim, window, rng);
          const std::vector<float> plain = batch.reference();
          batch.use_alibi();
          const std::vector<float> biased = batch.reference();
          expect_close(batch.run(GetParam(), pool), biased);
          // The biases must change what a long row attends to.
          if (tokens.size() == 100) {
            EXPECT_NE(plain, biased);
          }
        }
      }
    }
  }
}

TEST_P(KernelsAttention, LongPrefillMatchesReference) {
  GPTQ_REQUIRE_ISA(GetParam());
  ThreadPool pool(2);
  std::mt19937 rng(12);
  Batch batch(prefill(0, 0, 300), 6, 2, 64, 0, rng);
  expect_close(batch.run(GetParam(), pool), batch.reference());
}

TEST_P(KernelsAttention, ResultDoesNotDependOnThreadCount) {
  GPTQ_REQUIRE_ISA(GetParam());
  std::mt19937 rng(13);
  ThreadPool pools[] = {ThreadPool(1), ThreadPool(2), ThreadPool(3)};
  for (std::vector<Token> tokens : {prefill(0, 0, 200), mixed_batch(rng), decode_batch()}) {
    Batch batch(tokens, 6, 2, 64, 0, rng);
    const std::vector<float> first = batch.run(GetParam(), pools[0]);
    for (ThreadPool& pool : pools) {
      const std::vector<float> out = batch.run(GetParam(), pool);
      EXPECT_EQ(std::memcmp(out.data(), first.data(), out.size() * 4), 0) << pool.size() << " threads";
    }
  }
}

TEST_P(KernelsAttention, EmptyBatchIsANoOp) {
  GPTQ_REQUIRE_ISA(GetParam());
  ThreadPool pool(2);
  AttentionProblem p;
  p.n_heads = 2;
  p.n_kv_heads = 1;
  p.head_dim = 8;
  EXPECT_NO_THROW(cpu::attention(GetParam(), pool, p));
}

INSTANTIATE_TEST_SUITE_P(Kernels, KernelsAttention, testing::ValuesIn(kAllIsas), isa_param_name);

}  // namespace
}  // namespace gptq::test
