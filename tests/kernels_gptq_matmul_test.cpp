// matmul_gptq: every ISA variant against reference::matmul_gptq (which
// reads the checkpoint format itself) over bit widths, group sizes,
// act-order, v1 zero points, odd shapes on both sides of the GEMV/GEMM
// switch, bias or none, padded strides, with x and bias ending at an
// unreadable page.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "kernels/cpu/gptq_kernels.h"
#include "kernels_gptq_test_util.h"
#include "kernels_test_util.h"

namespace gptq::test {
namespace {

using cpu::Isa;

constexpr float kSentinel = -12345.0f;

struct RowsCase {
  int64_t M;
  bool bias, padded;
};

// Runs M rows through `isa` and checks each output against the reference
// and that nothing outside the outputs was written.
void check_rows(Isa isa, ThreadPool& pool, const GptqLayer& layer, const cpu::PackedGptq& packed, const RowsCase& c,
                std::mt19937& rng) {
  const GptqSource w = layer.source();
  const int64_t M = c.M, K = w.in_features, N = w.out_features;
  SCOPED_TRACE(testing::Message() << layer.shape << " M=" << M << " bias=" << c.bias << " padded=" << c.padded);
  const int64_t ldx = c.padded ? K + 3 : K, ldy = c.padded ? N + 5 : N;
  GuardedBuffer x_buffer(static_cast<size_t>((M - 1) * ldx + K) * 4), bias_buffer(static_cast<size_t>(N) * 4);
  float* x = reinterpret_cast<float*>(x_buffer.data());
  const std::vector<float> x_values = random_floats((M - 1) * ldx + K, rng);
  std::memcpy(x, x_values.data(), x_values.size() * 4);
  float* bias = c.bias ? reinterpret_cast<float*>(bias_buffer.data()) : nullptr;
  if (bias != nullptr) {
    const std::vector<float> b = random_floats(N, rng);
    std::memcpy(bias, b.data(), b.size() * 4);
  }
  std::vector<float> y(M * ldy + 8, kSentinel), expected(M * ldy + 8, kSentinel);
  cpu::matmul_gptq(isa, pool, x, ldx, M, packed, bias, y.data(), ldy);
  cpu::reference::matmul_gptq(x, ldx, M, w, bias, expected.data(), ldy);
  const GptqErrorBound bound(w);
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t n = 0; n < N; ++n) {
      const size_t i = m * ldy + n;
      ASSERT_NEAR(y[i], expected[i], bound(x + m * ldx, n, bias)) << "at m=" << m << " n=" << n;
    }
  }
  for (size_t i = 0; i < y.size(); ++i) {
    if (int64_t(i) >= M * ldy || int64_t(i) % ldy >= N) {
      ASSERT_EQ(y[i], kSentinel) << "wrote outside the output at " << i;
    }
  }
}

// K values each width can pack (K * bits a multiple of 32), around the
// unit sizes (16, 32, 8, 4 values) and the GEMM's k block (512).
std::vector<int64_t> ks_for(int bits) {
  if (bits == 2 || bits == 3) return {32, 96, 352, 992};
  return {32, 96, 352, 1000};
}

class KernelsGptqMatmul : public testing::TestWithParam<Isa> {};

// Rows on both sides of every ISA's GEMV/GEMM switch (4, 16, 32): the
// GEMV's 1-4 row tiles, several of them, and GEMM row blocks.
const RowsCase kRows[] = {{1, true, false}, {3, false, true}, {6, true, true}, {33, false, false}, {130, true, false}};

TEST_P(KernelsGptqMatmul, MatchesReferenceAcrossFormats) {
  GPTQ_REQUIRE_ISA(GetParam());
  ThreadPool pool(2);
  std::mt19937 rng(11);
  // N: below, at and past the panel (32) and the vector widths.
  const int64_t kNs[] = {1, 17, 45, 64, 100};
  int variant = 0;
  for (int bits : {2, 3, 4, 8}) {
    for (int group : {-1, 32, 64, 128}) {
      for (bool act_order : {false, true}) {
        for (int64_t K : ks_for(bits)) {
          const GptqShape shape{bits, K, kNs[variant % 5], group, act_order};
          const GptqLayer layer = random_gptq_layer(shape, rng);
          const cpu::PackedGptq packed(layer.source());
          // Two row counts per layer, rotating through kRows.
          for (int r = 0; r < 2; ++r) check_rows(GetParam(), pool, layer, packed, kRows[(variant + 2 * r) % 5], rng);
          ++variant;
        }
      }
    }
  }
}

// Groups that are not whole units (padded segments, x gathered even
// without act-order), partial last groups, and a group per unit.
TEST_P(KernelsGptqMatmul, MatchesReferenceWithUnalignedAndPartialGroups) {
  GPTQ_REQUIRE_ISA(GetParam());
  ThreadPool pool(2);
  std::mt19937 rng(12);
  const GptqShape shapes[] = {{4, 352, 70, 128, false}, {4, 352, 70, 128, true},  {4, 352, 33, 100, false},
                              {8, 100, 40, 10, false},  {3, 352, 31, 100, true},  {2, 96, 20, 20, false},
                              {4, 1000, 96, 8, false},  {8, 1000, 50, 1000, true}, {2, 352, 65, 16, true}};
  for (const GptqShape& shape : shapes) {
    const GptqLayer layer = random_gptq_layer(shape, rng);
    const cpu::PackedGptq packed(layer.source());
    for (const RowsCase& rows : kRows) check_rows(GetParam(), pool, layer, packed, rows, rng);
  }
}

TEST_P(KernelsGptqMatmul, ResultDoesNotDependOnThreadCount) {
  GPTQ_REQUIRE_ISA(GetParam());
  ThreadPool pools[] = {ThreadPool(1), ThreadPool(2), ThreadPool(3)};
  std::mt19937 rng(13);
  const GptqShape shapes[] = {{4, 384, 1000, 128, false}, {3, 352, 700, 64, true}, {8, 1000, 300, 128, true},
                              {2, 512, 2048, 32, false}};
  for (const GptqShape& shape : shapes) {
    const GptqLayer layer = random_gptq_layer(shape, rng);
    const cpu::PackedGptq packed(layer.source());
    for (int64_t M : {1, 3, 20, 130}) {
      const std::vector<float> x = random_floats(M * shape.K, rng), bias = random_floats(shape.N, rng);
      std::vector<float> first;
      for (ThreadPool& pool : pools) {
        std::vector<float> y(M * shape.N);
        cpu::matmul_gptq(GetParam(), pool, x.data(), shape.K, M, packed, bias.data(), y.data(), shape.N);
        if (first.empty()) {
          first = y;
        } else {
          EXPECT_EQ(std::memcmp(y.data(), first.data(), y.size() * 4), 0)
              << pool.size() << " threads differ from 1 for " << shape << " M=" << M;
        }
      }
    }
  }
}

TEST_P(KernelsGptqMatmul, NoRowsWritesNothing) {
  GPTQ_REQUIRE_ISA(GetParam());
  ThreadPool pool(2);
  std::mt19937 rng(14);
  const GptqLayer layer = random_gptq_layer({4, 64, 10, 32, true}, rng);
  const cpu::PackedGptq packed(layer.source());
  std::vector<float> y(16, kSentinel);
  cpu::matmul_gptq(GetParam(), pool, nullptr, 64, 0, packed, nullptr, y.data(), 10);
  for (float v : y) EXPECT_EQ(v, kSentinel);
}

INSTANTIATE_TEST_SUITE_P(Kernels, KernelsGptqMatmul, testing::ValuesIn(kAllIsas), isa_param_name);

}  // namespace
}  // namespace gptq::test
