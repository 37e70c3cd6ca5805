// The GPU GPTQ kernels against the CPU reference (dequantize, then
// multiply) on random layers: every bit width, act-order, asymmetric zero
// points, group sizes that do not divide K or are not multiples of 16, odd
// N, M from 1 to 300, each kernel and compute type.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/gpu_weights.h"
#include "gpu/gpu_test_util.h"
#include "kernels/cpu/gptq_kernels.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/gptq_decode.h"
#include "kernels/cuda/gptq_gemm.h"
#include "kernels/cuda/gptq_repack.h"
#include "kernels/cuda/gptq_wgmma.h"
#include "kernels_gptq_test_util.h"
#include "model/layer.h"

namespace gptq::test {
namespace {

using gpu::GptqKernel;

std::shared_ptr<const QuantizedLinear> quantized_of(const GptqLayer& layer) {
  auto q = std::make_shared<QuantizedLinear>();
  q->bits = layer.shape.bits;
  q->group_size = layer.shape.group_size;
  q->in_features = layer.shape.K;
  q->out_features = layer.shape.N;
  q->n_groups = layer.n_groups;
  q->qweight = layer.qweight.data();  // the layer outlives the test's linears
  q->zeros = layer.zeros;
  q->scales = layer.scales;
  q->g_idx = layer.g_idx;
  return q;
}

struct PreparedLayer {
  std::shared_ptr<const PreparedWeights> owner;
  const cuda::GpuLinear& gpu() const { return static_cast<const cuda::GpuLinear&>(*owner); }
};

PreparedLayer prepare(const GptqLayer& layer, FloatType type, const std::vector<float>& bias) {
  Linear linear = Linear::quantized("test", quantized_of(layer));
  if (!bias.empty()) linear.set_bias(bias);
  std::unique_ptr<WeightPreparer> preparer = cuda::make_cuda_preparer(kGpu0, type);
  PreparedLayer out{preparer->linear(linear)};
  preparer->finish();
  return out;
}

int sm_count() { return cuda::multiprocessor_count(kGpu0); }

// x in the layout's row order on the device, as the backend hands it over.
cuda::DeviceBuffer device_input(const std::vector<float>& x, int32_t m, const gpu::GptqTiles& tiles, FloatType type) {
  cuda::DeviceBuffer raw = upload(x, type);
  cuda::DeviceBuffer ordered(kGpu0, static_cast<size_t>(m) * tiles.k_padded * float_type_size(type) + 16, "x");
  cuda::check(gpu::launch_gather_columns(type, raw.get(), tiles.k, m, tiles.row_source, tiles.k, tiles.k_padded,
                                         ordered.get(), tiles.k_padded, nullptr),
              "gather");
  return ordered;
}

struct Scratch {
  cuda::DeviceBuffer workspace, counters;
  explicit Scratch(const gpu::GptqGemmArgs& args)
      : workspace(kGpu0, std::max<int64_t>(1, gpu::gptq_workspace_floats(args)) * 4, "workspace"),
        counters(kGpu0, std::max<int64_t>(1, gpu::gptq_counters(args)) * 4, "counters", true) {}
  void expect_clean(const gpu::GptqGemmArgs& args) const {
    std::vector<int32_t> left(static_cast<size_t>(gpu::gptq_counters(args)));
    cuda::check(cudaMemcpy(left.data(), counters.get(), left.size() * 4, cudaMemcpyDeviceToHost), "cudaMemcpy");
    for (int32_t c : left) ASSERT_EQ(c, 0) << "a split-K counter was left set";
  }
};

std::vector<GptqKernel> kernels_for(FloatType type, int32_t m) {
  if (type == FloatType::F32) return {GptqKernel::Simt};
  std::vector<GptqKernel> kernels = {GptqKernel::Stream, GptqKernel::Tiled, GptqKernel::Simt};
  if (m <= gpu::kDecodeMaxRows) kernels.push_back(GptqKernel::Decode);
  // Every M on the warpgroup kernel, though Auto gives it large M only.
  if (gpu::gptq_wgmma_runs()) kernels.push_back(GptqKernel::Wgmma);
  return kernels;
}

const char* kernel_name(GptqKernel k) {
  switch (k) {
    case GptqKernel::Decode: return "decode";
    case GptqKernel::Stream: return "stream";
    case GptqKernel::Tiled: return "tiled";
    case GptqKernel::Wgmma: return "wgmma";
    case GptqKernel::Simt: return "simt";
    case GptqKernel::Auto: return "auto";
  }
  return "?";
}

void check_layer(const GptqShape& shape, std::mt19937& rng, bool with_bias) {
  const GptqLayer layer = random_gptq_layer(shape, rng);
  const GptqSource source = layer.source();
  const int64_t K = shape.K, N = shape.N;
  std::vector<float> bias;
  if (with_bias) bias = random_values(static_cast<size_t>(N), rng, 0.5f);
  for (FloatType type : {FloatType::F16, FloatType::BF16, FloatType::F32}) {
    const PreparedLayer prepared = prepare(layer, type, rounded(bias, type));
    const gpu::GptqTiles& tiles = prepared.gpu().tiles;
    const std::vector<float> bias_t = rounded(bias, type);
    for (int32_t m : {1, 3, 8, 11, 16, 17, 40, 300}) {
      const std::vector<float> x = rounded(random_values(static_cast<size_t>(m * K), rng), type);
      std::vector<float> want(static_cast<size_t>(m * N));
      cpu::reference::matmul_gptq(x.data(), K, m, source, with_bias ? bias_t.data() : nullptr, want.data(), N);
      const cuda::DeviceBuffer input = device_input(x, m, tiles, type);
      for (GptqKernel kernel : kernels_for(type, m)) {
        SCOPED_TRACE(testing::Message() << shape << " " << type_name(type) << " M=" << m << " " << kernel_name(kernel)
                                        << (with_bias ? " bias" : ""));
        const int64_t ld_y = N + 5;
        cuda::DeviceBuffer y = poisoned(static_cast<size_t>(m * ld_y) * float_type_size(type));
        gpu::GptqGemmArgs args;
        args.x = input.get();
        args.ld_x = tiles.k_padded;
        args.m = m;
        args.sm_count = sm_count();
        args.n_outputs = 1;
        args.outputs[0].w = tiles;
        args.outputs[0].y = y.get();
        args.outputs[0].ld_y = ld_y;
        args.outputs[0].bias = with_bias ? prepared.gpu().bias.get() : nullptr;
        Scratch scratch(args);
        args.workspace = scratch.workspace.as<float>();
        args.workspace_floats = gpu::gptq_workspace_floats(args);
        args.counters = scratch.counters.as<int32_t>();
        ASSERT_EQ(gpu::launch_gptq_gemm(type, args, kernel, nullptr), cudaSuccess);
        const std::vector<float> all = download(y.get(), static_cast<size_t>(m * ld_y), type);
        std::vector<float> got(static_cast<size_t>(m * N));
        for (int32_t r = 0; r < m; ++r) {
          for (int64_t n = 0; n < N; ++n) {
            got[r * N + n] = all[r * ld_y + n];
            ASSERT_FALSE(std::isnan(got[r * N + n])) << "y[" << r << "][" << n << "] was not written";
          }
        }
        EXPECT_LT(relative_l2(got, want), tolerance_for(type));
        scratch.expect_clean(args);
      }
    }
  }
}

TEST(GpuGptqGemm, MatchesTheReferenceOverBitsGroupsAndShapes) {
  GPTQ_REQUIRE_GPU();
  std::mt19937 rng(11);
  const GptqShape shapes[] = {
      {4, 128, 64, 128, false}, {4, 256, 200, 64, false}, {4, 352, 96, 128, false}, {4, 192, 72, 32, true},
      {8, 128, 64, -1, true},   {8, 160, 70, 32, false},  {2, 128, 130, 64, false}, {2, 256, 64, 16, true},
      {3, 128, 64, 128, false}, {3, 96, 100, 32, true},   {4, 320, 64, 100, false}, {4, 1024, 320, 128, false},
      {3, 1024, 96, 64, true},  {8, 768, 136, 128, false},
  };
  for (size_t i = 0; i < std::size(shapes); ++i) check_layer(shapes[i], rng, i % 3 == 1);
}

// The warpgroup kernel must not be skipped silently where it should run.
TEST(GpuGptqGemm, TheWarpgroupKernelRunsOnComputeCapability90) {
  GPTQ_REQUIRE_GPU();
  int major = 0, minor = 0;
  ASSERT_EQ(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0), cudaSuccess);
  ASSERT_EQ(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, 0), cudaSuccess);
  if (major != 9 || minor != 0) GTEST_SKIP() << "the warpgroup kernel is for compute capability 9.0, this GPU is " << major << "." << minor;
  EXPECT_TRUE(gpu::gptq_wgmma_runs()) << "a 9.0 GPU, but the library has no sm_90a code";
}

TEST(GpuGptqGemm, SeveralOutputsOfOneInputInOneLaunch) {
  GPTQ_REQUIRE_GPU();
  std::mt19937 rng(5);
  const int64_t K = 512;
  std::vector<GptqLayer> layers;
  for (int64_t n : {256, 72, 72}) layers.push_back(random_gptq_layer({4, K, n, 128, false}, rng));
  for (FloatType type : {FloatType::F16, FloatType::BF16, FloatType::F32}) {
    std::vector<PreparedLayer> prepared;
    for (const GptqLayer& layer : layers) prepared.push_back(prepare(layer, type, {}));
    for (int32_t m : {1, 5, 16, 70, 300}) {
      SCOPED_TRACE(testing::Message() << type_name(type) << " M=" << m);
      const std::vector<float> x = rounded(random_values(static_cast<size_t>(m * K), rng), type);
      const cuda::DeviceBuffer input = device_input(x, m, prepared[0].gpu().tiles, type);
      gpu::GptqGemmArgs args;
      args.x = input.get();
      args.ld_x = prepared[0].gpu().tiles.k_padded;
      args.m = m;
      args.sm_count = sm_count();
      std::vector<cuda::DeviceBuffer> ys;
      for (size_t o = 0; o < layers.size(); ++o) {
        ys.push_back(poisoned(static_cast<size_t>(m * layers[o].shape.N) * float_type_size(type)));
        args.outputs[o].w = prepared[o].gpu().tiles;
        args.outputs[o].y = ys.back().get();
        args.outputs[o].ld_y = layers[o].shape.N;
      }
      args.n_outputs = static_cast<int32_t>(layers.size());
      Scratch scratch(args);
      args.workspace = scratch.workspace.as<float>();
      args.workspace_floats = gpu::gptq_workspace_floats(args);
      args.counters = scratch.counters.as<int32_t>();
      ASSERT_EQ(gpu::launch_gptq_gemm(type, args, GptqKernel::Auto, nullptr), cudaSuccess);
      for (size_t o = 0; o < layers.size(); ++o) {
        const int64_t N = layers[o].shape.N;
        std::vector<float> want(static_cast<size_t>(m * N));
        cpu::reference::matmul_gptq(x.data(), K, m, layers[o].source(), nullptr, want.data(), N);
        EXPECT_LT(relative_l2(download(ys[o].get(), static_cast<size_t>(m * N), type), want), tolerance_for(type))
            << "output " << o;
      }
      scratch.expect_clean(args);
    }
  }
}

// The weights the dequantization kernel writes (for cuBLAS at large M) are
// (q - z) * s rounded once to the compute type, with s in that type.
TEST(GpuGptqGemm, DequantizedWeightsAreTheReferenceRoundedOnce) {
  GPTQ_REQUIRE_GPU();
  std::mt19937 rng(9);
  for (const GptqShape& shape : {GptqShape{4, 256, 136, 64, true}, GptqShape{3, 128, 64, 32, false},
                                 GptqShape{8, 192, 64, 128, false}, GptqShape{2, 128, 72, -1, false}}) {
    const GptqLayer layer = random_gptq_layer(shape, rng);
    for (FloatType type : {FloatType::F16, FloatType::BF16, FloatType::F32}) {
      SCOPED_TRACE(testing::Message() << shape << " " << type_name(type));
      const PreparedLayer prepared = prepare(layer, type, {});
      const gpu::GptqTiles& t = prepared.gpu().tiles;
      cuda::DeviceBuffer out = poisoned(static_cast<size_t>(t.k_padded) * t.n_padded * float_type_size(type));
      ASSERT_EQ(gpu::launch_gptq_dequantize(type, t, 0, t.n_tiles(), out.get(), t.n_padded, nullptr), cudaSuccess);
      const std::vector<float> got = download(out.get(), static_cast<size_t>(t.k_padded) * t.n_padded, type);
      const gpu::GptqTilesHost host = gpu::repack_gptq_tiles(layer.source());
      const std::vector<uint8_t> codes = unpack_gptq_codes(layer.source());
      int64_t wrong = 0;
      for (int64_t row = 0; row < t.k_padded; ++row) {
        const int32_t src = host.row_source.empty() ? static_cast<int32_t>(row) : host.row_source[row];
        for (int64_t n = 0; n < shape.N; ++n) {
          float want = 0.0f;
          if (src >= 0) {
            const int64_t g = layer.g_idx[src], N = shape.N;
            const float scale = round_to(fp16_to_float(layer.scales[g * N + n]), type);
            want = round_to(scale * static_cast<float>(codes[src * N + n] - layer.zeros[g * N + n]), type);
          }
          wrong += got[row * t.n_padded + n] != want;
        }
      }
      EXPECT_EQ(wrong, 0);
    }
  }
}

}  // namespace
}  // namespace gptq::test
