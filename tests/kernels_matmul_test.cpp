// matmul: every ISA variant against the scalar reference, over odd shapes,
// the three weight types, bias or none, padded rows and misaligned data.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <vector>

#include "core/half.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels_test_util.h"

namespace gptq::test {
namespace {

using cpu::Isa;

constexpr float kSentinel = -12345.0f;

struct Shape {
  int64_t M, N, K;
};

// Odd sizes around every blocking boundary: the vector widths (8, 16), the
// register tiles (4, 6, 12 rows; 4, 16, 32 columns), the GEMV/GEMM switch
// (M = 4, 16, 32 for scalar, AVX2, AVX-512), the k block (512), the column
// block (256), the row block (240).
const Shape kShapes[] = {
    {1, 1, 1},     {1, 3, 17},    {2, 17, 33},    {3, 33, 127},   {4, 127, 384},  {5, 1000, 33},
    {7, 33, 1000}, {8, 64, 384},  {9, 17, 127},   {13, 127, 3},   {17, 100, 127}, {33, 33, 513},
    {64, 96, 256}, {100, 129, 257}, {130, 67, 520}, {250, 40, 200}, {1, 1000, 1000}, {3, 1, 1},
    {6, 31, 15},   {12, 32, 16},  {25, 5, 9},      {16, 70, 200},  {32, 45, 130},  {40, 300, 64},
};

size_t element_bytes(FloatType type) { return type == FloatType::F32 ? 4 : 2; }

// A weight matrix in its own guarded buffer: NaN in the row padding, and
// either ending right at an unreadable page or starting at an odd address.
class Weights {
 public:
  Weights(const std::vector<float>& values, int64_t N, int64_t K, FloatType type, bool padded, bool odd_start)
      : stride_(padded ? K + 5 : K),
        bytes_(static_cast<size_t>(std::max<int64_t>((N - 1) * stride_ + K, 0)) * element_bytes(type)),
        buffer_(bytes_ + (odd_start ? 1 : 0)) {
    uint8_t* data = buffer_.data();
    const size_t es = element_bytes(type);
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t k = 0; k < stride_ && n * stride_ + k < (N - 1) * stride_ + K; ++k) {
        const float f = k < K ? values[n * K + k] : std::numeric_limits<float>::quiet_NaN();
        uint8_t* p = data + (n * stride_ + k) * es;
        if (type == FloatType::F32) {
          std::memcpy(p, &f, 4);
        } else {
          const uint16_t h = type == FloatType::F16 ? float_to_fp16(f) : float_to_bf16(f);
          std::memcpy(p, &h, 2);
        }
      }
    }
    w_ = DenseMatrix{data, type, N, K, stride_};
  }
  const DenseMatrix& get() const { return w_; }

 private:
  int64_t stride_;
  size_t bytes_;
  GuardedBuffer buffer_;
  DenseMatrix w_;
};

struct Case {
  Shape shape;
  FloatType type;
  bool bias, padded, odd_start;
};

// Runs one case on `isa` and checks every output element against the
// reference within 1e-5 of the sum of the magnitudes of its terms, and that
// nothing outside the output was written.
void check_case(Isa isa, ThreadPool& pool, const Case& c, std::mt19937& rng) {
  const auto [M, N, K] = c.shape;
  SCOPED_TRACE(testing::Message() << "M=" << M << " N=" << N << " K=" << K << " type=" << int(c.type)
                                  << " bias=" << c.bias << " padded=" << c.padded << " odd=" << c.odd_start);
  const int64_t ldx = c.padded ? K + 3 : K, ldy = c.padded ? N + 7 : N;
  const Weights weights(random_floats(N * K, rng), N, K, c.type, c.padded, c.odd_start);
  const DenseMatrix& w = weights.get();
  GuardedBuffer x_buffer(static_cast<size_t>(std::max<int64_t>((M - 1) * ldx + K, 0)) * 4);
  float* x = reinterpret_cast<float*>(x_buffer.data());
  const std::vector<float> x_values = random_floats(M * ldx, rng);
  if (M > 0) std::memcpy(x, x_values.data(), ((M - 1) * ldx + K) * 4);
  const std::vector<float> bias = random_floats(N, rng);
  const float* b = c.bias ? bias.data() : nullptr;

  std::vector<float> y(M * ldy + 16, kSentinel), expected(M * ldy + 16, kSentinel);
  cpu::matmul(isa, pool, x, ldx, M, w, b, y.data(), ldy);
  cpu::reference::matmul(x, ldx, M, w, b, expected.data(), ldy);

  std::vector<float> row(K);
  std::vector<double> magnitude(N);
  for (int64_t n = 0; n < N; ++n) {
    cpu::reference::dense_row_to_float(w, n, row.data());
    for (int64_t m = 0; m < M; ++m) {
      double sum = b != nullptr ? std::fabs(b[n]) : 0.0;
      for (int64_t k = 0; k < K; ++k) sum += std::fabs(double(x[m * ldx + k]) * row[k]);
      const size_t i = m * ldy + n;
      ASSERT_NEAR(y[i], expected[i], 1e-5 * sum + 1e-30) << "at m=" << m << " n=" << n;
    }
  }
  for (size_t i = 0; i < y.size(); ++i) {
    const bool output = int64_t(i) < M * ldy && int64_t(i) % ldy < N;
    if (!output) {
      ASSERT_EQ(y[i], kSentinel) << "wrote outside the output at " << i;
    }
  }
}

class KernelsMatmul : public testing::TestWithParam<Isa> {};

TEST_P(KernelsMatmul, MatchesReferenceOnOddShapes) {
  GPTQ_REQUIRE_ISA(GetParam());
  ThreadPool pool(2);
  std::mt19937 rng(42);
  for (const Shape& shape : kShapes) {
    for (FloatType type : {FloatType::F32, FloatType::F16, FloatType::BF16}) {
      // Alternate the layout variants so every shape meets each of them
      // with some type.
      const int variant = int(type) + int(&shape - kShapes);
      check_case(GetParam(), pool, {shape, type, variant % 2 == 0, variant % 3 != 0, variant % 4 == 1}, rng);
      check_case(GetParam(), pool, {shape, type, variant % 2 == 1, variant % 3 == 0, variant % 4 != 1}, rng);
    }
  }
}

// Conversion is exact, so every ISA must give the reference's bits: all
// 65536 half-precision patterns (NaNs only need to stay NaN: the hardware
// quiets signalling ones), in a row that ends at an unreadable page.
TEST_P(KernelsMatmul, RowToFloatConvertsEveryBitPatternExactly) {
  GPTQ_REQUIRE_ISA(GetParam());
  for (FloatType type : {FloatType::F16, FloatType::BF16, FloatType::F32}) {
    const int64_t n = 65536 + 7;  // + a partial vector
    GuardedBuffer buffer(n * element_bytes(type));
    for (int64_t i = 0; i < n; ++i) {
      const uint32_t bits = type == FloatType::F32 ? static_cast<uint32_t>(i * 65537u) : static_cast<uint32_t>(i);
      std::memcpy(buffer.data() + i * element_bytes(type), &bits, element_bytes(type));
    }
    const DenseMatrix w{buffer.data(), type, 1, n, n};
    std::vector<float> got(n), want(n);
    cpu::dense_row_to_float(GetParam(), w, 0, got.data());
    cpu::reference::dense_row_to_float(w, 0, want.data());
    for (int64_t i = 0; i < n; ++i) {
      if (std::isnan(want[i])) {
        ASSERT_TRUE(std::isnan(got[i])) << "type " << int(type) << " pattern " << i;
      } else {
        ASSERT_EQ(std::memcmp(&got[i], &want[i], 4), 0) << "type " << int(type) << " pattern " << i << ": " << got[i]
                                                        << " vs " << want[i];
      }
    }
  }
}

TEST_P(KernelsMatmul, EmptyProblemsWriteNothingOrBias) {
  GPTQ_REQUIRE_ISA(GetParam());
  ThreadPool pool(2);
  std::mt19937 rng(7);
  for (const Shape& shape : {Shape{0, 5, 5}, Shape{5, 0, 5}, Shape{5, 5, 0}, Shape{0, 0, 0}}) {
    for (bool bias : {false, true}) check_case(GetParam(), pool, {shape, FloatType::F16, bias, true, false}, rng);
  }
}

TEST_P(KernelsMatmul, ResultDoesNotDependOnThreadCount) {
  GPTQ_REQUIRE_ISA(GetParam());
  ThreadPool pools[] = {ThreadPool(1), ThreadPool(2), ThreadPool(3)};
  std::mt19937 rng(3);
  for (const Shape& shape : {Shape{1, 1000, 384}, Shape{3, 8192, 64}, Shape{130, 1000, 300}, Shape{512, 128, 384},
                             Shape{7, 5, 513}, Shape{64, 40, 1000}}) {
    const auto [M, N, K] = shape;
    const std::vector<float> x = random_floats(M * K, rng), bias = random_floats(N, rng);
    const Weights weights(random_floats(N * K, rng), N, K, FloatType::BF16, false, false);
    std::vector<float> first(M * N);
    for (ThreadPool& pool : pools) {
      std::vector<float> y(M * N);
      cpu::matmul(GetParam(), pool, x.data(), K, M, weights.get(), bias.data(), y.data(), N);
      if (&pool == &pools[0]) {
        first = y;
      } else {
        EXPECT_EQ(std::memcmp(y.data(), first.data(), y.size() * 4), 0)
            << pool.size() << " threads differ from 1 for M=" << M << " N=" << N << " K=" << K;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, KernelsMatmul, testing::ValuesIn(kAllIsas), isa_param_name);

TEST(KernelsMatmulDispatch, ActiveIsaIsSupportedAndDefaultEntryPointMatches) {
  const Isa active = cpu::active_isa();
  EXPECT_TRUE(cpu::isa_supported(active));
  EXPECT_TRUE(cpu::isa_supported(Isa::Scalar));
  ThreadPool pool(2);
  std::mt19937 rng(5);
  const int64_t M = 3, N = 70, K = 90;
  const std::vector<float> x = random_floats(M * K, rng);
  const Weights weights(random_floats(N * K, rng), N, K, FloatType::F16, false, false);
  std::vector<float> a(M * N), b(M * N);
  cpu::matmul(pool, x.data(), K, M, weights.get(), nullptr, a.data(), N);
  cpu::matmul(active, pool, x.data(), K, M, weights.get(), nullptr, b.data(), N);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0);
}

TEST(KernelsMatmulDispatch, MultiMatchesSeparateCallsBitForBit) {
  ThreadPool pool(3);
  std::mt19937 rng(9);
  struct Product {
    int64_t N, K;
    FloatType type;
    bool bias;
  };
  // q/k/v-like products, plus degenerate ones mixed in.
  const Product products[] = {{384, 96, FloatType::F16, false}, {128, 96, FloatType::BF16, true},
                              {0, 96, FloatType::F16, false},   {40, 0, FloatType::F32, true},
                              {77, 96, FloatType::F32, true},   {2000, 96, FloatType::F16, false}};
  for (int64_t M : {1, 3, 40, 300}) {
    SCOPED_TRACE(testing::Message() << "M=" << M);
    const int64_t ldx = 101;
    const std::vector<float> x = random_floats(M * ldx, rng);
    std::deque<Weights> weights;  // not movable: a deque never moves them
    std::vector<std::vector<float>> biases, separate, fused;
    std::vector<cpu::MatmulOutput> outputs;
    for (const Product& p : products) {
      weights.emplace_back(random_floats(p.N * p.K, rng), p.N, p.K, p.type, false, false);
      biases.push_back(random_floats(p.N, rng));
      separate.emplace_back(M * p.N + 1, kSentinel);
      fused.emplace_back(M * p.N + 1, kSentinel);
    }
    for (size_t i = 0; i < weights.size(); ++i) {
      const float* b = products[i].bias ? biases[i].data() : nullptr;
      cpu::matmul(pool, x.data(), ldx, M, weights[i].get(), b, separate[i].data(), products[i].N);
      outputs.push_back({weights[i].get(), b, fused[i].data(), products[i].N});
    }
    cpu::matmul_multi(pool, x.data(), ldx, M, outputs.data(), static_cast<int>(outputs.size()));
    for (size_t i = 0; i < weights.size(); ++i) {
      EXPECT_EQ(std::memcmp(separate[i].data(), fused[i].data(), separate[i].size() * 4), 0) << "product " << i;
    }
  }
}

TEST(KernelsMatmulDispatch, UnsupportedIsaThrowsInsteadOfCrashing) {
  for (Isa isa : kAllIsas) {
    if (cpu::isa_supported(isa)) continue;
    ThreadPool pool(1);
    float x = 1, y = 0;
    const float w = 1;
    EXPECT_ANY_THROW(cpu::matmul(isa, pool, &x, 1, 1, DenseMatrix{&w, FloatType::F32, 1, 1, 1}, nullptr, &y, 1));
  }
}

TEST(KernelsMatmulDispatch, IsaOverrideOnlyDowngrades) {
  EXPECT_EQ(cpu::resolve_isa(nullptr, Isa::Avx512), Isa::Avx512);
  EXPECT_EQ(cpu::resolve_isa("", Isa::Avx2), Isa::Avx2);
  EXPECT_EQ(cpu::resolve_isa("scalar", Isa::Avx512), Isa::Scalar);
  EXPECT_EQ(cpu::resolve_isa("avx2", Isa::Avx512), Isa::Avx2);
  EXPECT_EQ(cpu::resolve_isa("avx512", Isa::Avx2), Isa::Avx2);
  EXPECT_EQ(cpu::resolve_isa("avx512", Isa::Scalar), Isa::Scalar);
  EXPECT_EQ(cpu::resolve_isa("sse9", Isa::Avx2), Isa::Avx2);
}

}  // namespace
}  // namespace gptq::test
