// pack_gptq: what it refuses (with an error, never an abort), what it
// accepts at the edges of the format, when x must be gathered, and the
// memory it reports.
#include <gtest/gtest.h>

#include <functional>
#include <limits>

#include "core/error.h"
#include "kernels/cpu/gptq_kernels.h"
#include "kernels_gptq_test_util.h"

namespace gptq::test {
namespace {

// Packing `layer` after `spoil` changes it must fail with INVALID_ARGUMENT
// and a message naming `what`.
void expect_rejected(const GptqLayer& valid, const std::function<void(GptqLayer&, GptqSource&)>& spoil,
                     const char* what) {
  GptqLayer layer = valid;
  GptqSource source = layer.source();
  spoil(layer, source);
  try {
    cpu::pack_gptq(source);
    ADD_FAILURE() << "accepted a layer with a bad " << what;
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), GPTQ_ERR_INVALID_ARGUMENT) << what;
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

TEST(KernelsGptqPack, RejectsInconsistentSources) {
  std::mt19937 rng(21);
  const GptqLayer valid = random_gptq_layer({4, 40, 10, 32, true}, rng);  // 2 groups
  using L = GptqLayer&;
  using S = GptqSource&;
  expect_rejected(valid, [](L, S s) { s.bits = 5; }, "bits");
  expect_rejected(valid, [](L, S s) { s.bits = 3; }, "K * bits");  // 40 * 3 is not a multiple of 32
  expect_rejected(valid, [](L, S s) { s.in_features = 0; }, "in_features");
  expect_rejected(valid, [](L, S s) { s.out_features = -1; }, "out_features");
  expect_rejected(valid, [](L, S s) { s.n_groups = 0; }, "n_groups");
  expect_rejected(valid, [](L, S s) { s.n_groups = 41; }, "groups for");
  expect_rejected(valid, [](L, S s) { s.g_idx = nullptr; }, "required");
  expect_rejected(valid, [](L l, S) { l.g_idx[5] = 2; }, "g_idx");
  expect_rejected(valid, [](L l, S) { l.g_idx[39] = -1; }, "g_idx");
  expect_rejected(valid, [](L l, S) { l.zeros[7] = 17; }, "zero point");
  expect_rejected(valid, [](L l, S) { l.zeros[0] = -1; }, "zero point");
  expect_rejected(valid, [](L l, S) { l.scales[3] = 0x7c00; }, "scale");  // +inf
  expect_rejected(valid, [](L l, S) { l.scales[4] = 0xfe00; }, "scale");  // NaN
}

TEST(KernelsGptqPack, AcceptsTheFormatsEdges) {
  std::mt19937 rng(22);
  GptqLayer layer = random_gptq_layer({8, 4, 3, -1, false}, rng);  // the smallest 8-bit K
  for (int32_t& z : layer.zeros) z = 256;                          // v1's 2^bits
  layer.scales[0] = 0x0001;                                        // a subnormal scale
  EXPECT_NO_THROW(cpu::pack_gptq(layer.source()));
  GptqLayer wide = random_gptq_layer({2, 16, 5, 1, false}, rng);  // a group per column
  EXPECT_NO_THROW(cpu::pack_gptq(wide.source()));
}

TEST(KernelsGptqPack, GathersOnlyWhenTheOrderOrTheGroupsNeedIt) {
  std::mt19937 rng(23);
  struct Expectation {
    GptqShape shape;
    bool gathers;
  };
  const Expectation cases[] = {
      {{4, 384, 40, 128, false}, false}, {{4, 352, 40, 128, false}, false},  // partial last group
      {{4, 1000, 40, -1, false}, false}, {{3, 96, 40, 32, false}, false},    {{2, 96, 40, 16, false}, false},
      {{4, 384, 40, 128, true}, true},   {{4, 352, 40, 100, false}, true},   // 100 values: not whole units
      {{3, 96, 40, 16, false}, true},    {{8, 100, 40, 10, false}, true},
  };
  for (const Expectation& c : cases) {
    const GptqLayer layer = random_gptq_layer(c.shape, rng);
    EXPECT_EQ(cpu::pack_gptq(layer.source())->gathers_input(), c.gathers) << c.shape;
  }
}

TEST(KernelsGptqPack, ReportsItsMemoryCloseToThePackedSize) {
  std::mt19937 rng(24);
  for (int bits : {2, 3, 4, 8}) {
    const GptqLayer layer = random_gptq_layer({bits, 1024, 512, 128, true}, rng);
    const auto packed = cpu::pack_gptq(layer.source());
    const int64_t weights = 1024 * 512 * bits / 8;
    // + 4 bytes of header per group and column, + the 4-byte row order.
    const int64_t expected = weights + 8 * 512 * 4 + 1024 * 4;
    EXPECT_GE(packed->bytes(), expected) << bits;
    EXPECT_LE(packed->bytes(), expected + 4096) << bits;
    EXPECT_EQ(packed->bits(), bits);
    EXPECT_EQ(packed->in_features(), 1024);
    EXPECT_EQ(packed->out_features(), 512);
  }
}

}  // namespace
}  // namespace gptq::test
