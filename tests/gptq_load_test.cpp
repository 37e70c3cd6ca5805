// Checkpoints written by AutoGPTQ's own packing code load and give its
// logits; the packing helpers round-trip.
#include <random>

#include "io/safetensors.h"
#include "model/model.h"
#include "quant/pack.h"
#include "runtime/context.h"
#include "test_util.h"

namespace gptq {
namespace {

class GptqFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(GptqFixture, LogitsMatchAutoGptq) {
  const std::string dir = test::shared_path(std::string("fixtures/gptq/") + GetParam());
  GPTQ_REQUIRE_PATH(dir + "/config.json");
  auto model = Model::load(dir, {});
  ASSERT_TRUE(model->quant_config().has_value());
  auto reference = SafetensorsFile::open(dir + "/reference.safetensors", true);
  const std::vector<int64_t> ids = tensor_to_int64(*reference->find("input_ids"));
  const std::vector<float> expected = tensor_to_float(*reference->find("logits"));
  const int64_t vocab = model->config().vocab_size, T = reference->find("input_ids")->dim(1);
  ContextOptions options;
  options.n_ctx = 64;
  Context context(*model, resolve_context_options(*model, options));
  for (int64_t row = 0; row < 2; ++row) {
    const std::vector<int32_t> tokens(ids.begin() + row * T, ids.begin() + (row + 1) * T);
    std::vector<float> logits(T * vocab);
    context.clear(0);
    context.eval(0, tokens, LogitsMode::All, logits.data());
    const double error =
        test::relative_l2(logits, std::span<const float>(expected).subspan(row * T * vocab, T * vocab));
    std::printf("[ %s ] row %ld relative L2 error %.3g\n", GetParam(), static_cast<long>(row), error);
    EXPECT_LT(error, 1e-3);
  }
}

INSTANTIATE_TEST_SUITE_P(Llama, GptqFixture,
                         ::testing::Values("llama-w4-g128", "llama-w4-g32-act", "llama-w4-g64-act-static",
                                           "llama-w3-g128", "llama-w8-gnone-act", "llama-w2-g64-asym",
                                           "llama-w4-g128-asym-act"));
INSTANTIATE_TEST_SUITE_P(Gpt, GptqFixture,
                         ::testing::Values("gpt2-w4-g128", "opt-w4-g128", "gpt_neox-w4-g64-act"));

TEST(GptqPacking, RoundTripsEveryWidth) {
  std::mt19937 rng(3);
  for (int bits : {2, 3, 4, 8}) {
    for (auto [K, N] : {std::pair<int64_t, int64_t>{32, 32}, {64, 96}, {352, 128}}) {
      std::vector<uint8_t> q(K * N);
      for (auto& v : q) v = static_cast<uint8_t>(rng() & ((1u << bits) - 1));
      EXPECT_EQ(unpack_qweight(pack_qweight(q, K, N, bits).data(), K, N, bits), q) << bits;
      const int64_t G = 3;
      std::vector<int32_t> zeros(G * N);
      for (auto& z : zeros) z = static_cast<int32_t>(rng() % (1u << bits)) + 1;  // v1 stores 1..2^bits
      EXPECT_EQ(unpack_qzeros(pack_qzeros(zeros, G, N, bits, CheckpointFormat::Gptq).data(), G, N, bits,
                              CheckpointFormat::Gptq),
                zeros);
      for (auto& z : zeros) z -= 1;  // v2 stores 0..2^bits-1 as they are
      EXPECT_EQ(unpack_qzeros(pack_qzeros(zeros, G, N, bits, CheckpointFormat::GptqV2).data(), G, N, bits,
                              CheckpointFormat::GptqV2),
                zeros);
    }
  }
}

TEST(GptqPacking, ThreeBitValuesStraddleWords) {
  // 32 values of 3 bits fill three words; values 10 and 21 cross word edges.
  std::vector<uint8_t> q(32);
  q[10] = 0b111;
  q[21] = 0b101;
  const std::vector<int32_t> packed = pack_qweight(q, 32, 1, 3);
  ASSERT_EQ(packed.size(), 3u);
  EXPECT_EQ(static_cast<uint32_t>(packed[0]), 0b11u << 30);
  EXPECT_EQ(static_cast<uint32_t>(packed[1]), (0b1u) | (0b1u << 31));
  EXPECT_EQ(static_cast<uint32_t>(packed[2]), 0b10u);
}

}  // namespace
}  // namespace gptq
