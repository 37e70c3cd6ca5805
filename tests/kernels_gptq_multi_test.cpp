// matmul_multi with dense and GPTQ products of one x: the same bits as
// separate calls, on every ISA, in decode and prefill, including act-order
// products that share a column order (one gather) and ones that do not.
#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <vector>

#include "core/half.h"
#include "kernels/cpu/gptq_kernels.h"
#include "kernels_gptq_test_util.h"
#include "kernels_test_util.h"

namespace gptq::test {
namespace {

using cpu::Isa;

class KernelsGptqMulti : public testing::TestWithParam<Isa> {};

TEST_P(KernelsGptqMulti, MixedDenseAndGptqMatchSeparateCallsBitForBit) {
  GPTQ_REQUIRE_ISA(GetParam());
  const Isa isa = GetParam();
  ThreadPool pool(3);
  std::mt19937 rng(31);
  const int64_t K = 256, ldx = K + 9;
  // q/k/v-like: two act-order products with the same order (k and v), one
  // with its own (q), one without act-order, and dense ones between.
  GptqLayer q = random_gptq_layer({4, K, 256, 128, true}, rng);
  GptqLayer k = random_gptq_layer({4, K, 64, 128, true}, rng);
  k.g_idx = q.g_idx;  // the same column order as q ...
  GptqLayer v = random_gptq_layer({3, K, 70, 64, true}, rng);
  GptqLayer o = random_gptq_layer({8, K, 33, 32, false}, rng);
  GptqLayer shared = random_gptq_layer({2, K, 40, 128, false}, rng);
  shared.g_idx = q.g_idx;  // ... and again, in another bit width
  std::deque<cpu::PackedGptq> packed;  // not movable
  for (const GptqLayer* layer : {&q, &k, &v, &o, &shared}) packed.emplace_back(layer->source());
  std::vector<uint16_t> dense_a(100 * K), dense_b(50 * K);
  for (uint16_t& h : dense_a) h = float_to_fp16(std::uniform_real_distribution<float>(-1, 1)(rng));
  for (uint16_t& h : dense_b) h = float_to_fp16(std::uniform_real_distribution<float>(-1, 1)(rng));
  const DenseMatrix dense[] = {{dense_a.data(), FloatType::F16, 100, K, K},
                                     {dense_b.data(), FloatType::F16, 50, K, K}};
  struct Product {
    const cpu::PackedGptq* gptq;
    const DenseMatrix* dense;
    int64_t N;
  };
  const Product products[] = {{&packed[0], nullptr, 256}, {nullptr, &dense[0], 100}, {&packed[1], nullptr, 64},
                              {&packed[2], nullptr, 70},  {nullptr, &dense[1], 50},  {&packed[3], nullptr, 33},
                              {&packed[4], nullptr, 40}};
  for (int64_t M : {1, 3, 40, 200}) {
    SCOPED_TRACE(testing::Message() << "M=" << M);
    const std::vector<float> x = random_floats(M * ldx, rng);
    std::vector<std::vector<float>> biases, separate, fused;
    std::vector<cpu::MatmulOutput> outputs;
    for (const Product& p : products) {
      biases.push_back(random_floats(p.N, rng));
      separate.emplace_back(M * p.N + 1, -1.0f);
      fused.emplace_back(M * p.N + 1, -1.0f);
    }
    for (size_t i = 0; i < std::size(products); ++i) {
      const Product& p = products[i];
      const float* bias = i % 2 == 0 ? biases[i].data() : nullptr;
      if (p.gptq != nullptr) {
        cpu::matmul_gptq(isa, pool, x.data(), ldx, M, *p.gptq, bias, separate[i].data(), p.N);
        outputs.push_back({{}, bias, fused[i].data(), p.N, p.gptq});
      } else {
        cpu::matmul(isa, pool, x.data(), ldx, M, *p.dense, bias, separate[i].data(), p.N);
        outputs.push_back({*p.dense, bias, fused[i].data(), p.N});
      }
    }
    cpu::matmul_multi(isa, pool, x.data(), ldx, M, outputs.data(), static_cast<int>(outputs.size()));
    for (size_t i = 0; i < std::size(products); ++i) {
      EXPECT_EQ(std::memcmp(separate[i].data(), fused[i].data(), separate[i].size() * 4), 0) << "product " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, KernelsGptqMulti, testing::ValuesIn(kAllIsas), isa_param_name);

TEST(KernelsGptqDispatch, DefaultEntryPointsMatchTheActiveIsa) {
  ThreadPool pool(2);
  std::mt19937 rng(32);
  const GptqLayer layer = random_gptq_layer({4, 128, 70, 32, true}, rng);
  const auto packed = cpu::pack_gptq(layer.source());
  for (int64_t M : {2, 64}) {
    const std::vector<float> x = random_floats(M * 128, rng);
    std::vector<float> a(M * 70), b(M * 70), c(M * 70);
    cpu::matmul_gptq(pool, x.data(), 128, M, *packed, nullptr, a.data(), 70);
    cpu::matmul_gptq(cpu::active_isa(), pool, x.data(), 128, M, *packed, nullptr, b.data(), 70);
    const cpu::MatmulOutput out{{}, nullptr, c.data(), 70, packed.get()};
    cpu::matmul_multi(pool, x.data(), 128, M, &out, 1);
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0) << "M=" << M;
    EXPECT_EQ(std::memcmp(a.data(), c.data(), a.size() * 4), 0) << "M=" << M;
  }
}

TEST(KernelsGptqDispatch, UnsupportedIsaThrowsInsteadOfCrashing) {
  std::mt19937 rng(33);
  const GptqLayer layer = random_gptq_layer({4, 32, 4, -1, false}, rng);
  const auto packed = cpu::pack_gptq(layer.source());
  for (Isa isa : kAllIsas) {
    if (cpu::isa_supported(isa)) continue;
    ThreadPool pool(1);
    std::vector<float> x(32, 1.0f), y(4);
    EXPECT_ANY_THROW(cpu::matmul_gptq(isa, pool, x.data(), 32, 1, *packed, nullptr, y.data(), 4));
  }
}

}  // namespace
}  // namespace gptq::test
