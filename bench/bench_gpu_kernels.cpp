// GPTQ GEMM on the GPU through the library's own path (backend/cuda/
// gptq_matmul.h: the tensor-core kernels, or dequantized strips into cuBLAS
// at large M) against cuBLAS fp16 on the same shapes, timed with CUDA
// events in the same run, plus the device-to-device copy bandwidth the
// weight-bytes-per-second figures are measured against.
//
// Speed does not depend on the values, so the weights are random words
// written straight into the GPU layout (no host repack of 470M values);
// every timed call rotates through enough copies of them that the working
// set misses the 60 MB L2.
//
//   bench_gpu_kernels [--quick] [--shape K,N]... [--m M,M...] [--config NAME] [--out FILE.json]
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backend/cuda/gpu_blas.h"
#include "backend/cuda/gptq_matmul.h"
#include "core/half.h"
#include "kernels/cuda/gptq_gemm.h"
#include "kernels/cuda/gptq_layout.h"
#include "kernels/cuda/gptq_repack.h"

using namespace gptq;
using namespace gptq::cuda;

namespace {

constexpr DeviceId kGpu{DeviceKind::Gpu, 0};
constexpr size_t kWorkingSetBytes = size_t{512} << 20;

struct Config {
  const char* name;
  int bits;
  int group_size;
  bool act_order;
};

uint64_t g_state = 0x9e3779b97f4a7c15ull;
uint32_t next_random() {
  g_state ^= g_state << 13;
  g_state ^= g_state >> 7;
  g_state ^= g_state << 17;
  return static_cast<uint32_t>(g_state);
}

// Random words; `halves` keeps each 16-bit half a finite fp16 in [2^-4, 2).
DeviceBuffer random_device_words(size_t words, bool halves = false) {
  std::vector<uint32_t> host(words);
  for (uint32_t& w : host) w = halves ? (next_random() & 0x83FF83FFu) | 0x2C002C00u : next_random();
  DeviceBuffer buffer(kGpu, words * 4, "bench data");
  check(cudaMemcpy(buffer.get(), host.data(), words * 4, cudaMemcpyHostToDevice), "cudaMemcpy");
  return buffer;
}

DeviceBuffer upload_halves(const std::vector<float>& values) {
  std::vector<uint16_t> h(values.size());
  encode_floats(values.data(), values.size(), FloatType::F16, h.data());
  DeviceBuffer buffer(kGpu, h.size() * 2, "bench data");
  check(cudaMemcpy(buffer.get(), h.data(), h.size() * 2, cudaMemcpyHostToDevice), "cudaMemcpy");
  return buffer;
}

// A layer in the GPU layout with random codes, small random scales,
// zero points at mid-range, identity or random (act-order) input order.
struct BenchLayer {
  std::vector<std::unique_ptr<GpuLinear>> copies;
  int64_t weight_bytes = 0;  // as a checkpoint stores the layer

  BenchLayer(const Config& c, int32_t K, int32_t N) {
    gpu::GptqTiles t;
    t.bits = c.bits;
    t.k = t.k_padded = K;
    t.n = t.n_padded = N;
    t.n_groups = K / c.group_size;
    t.tiles_per_group = c.group_size / gpu::kTileK;  // what the repack finds for such groups
    auto base = std::make_unique<GpuLinear>();
    base->in_features = K;
    base->out_features = N;
    const size_t words = static_cast<size_t>(t.n_tiles()) * t.k_tiles() * 32 * gpu::lane_words(c.bits);
    std::vector<float> scales(static_cast<size_t>(t.n_groups) * N), zeros(scales.size());
    std::uniform_real_distribution<float> scale(0.001f, 0.01f);
    std::mt19937 rng(static_cast<uint32_t>(K * 31 + N));
    for (float& s : scales) s = scale(rng);
    for (float& z : zeros) z = static_cast<float>(1 << (c.bits - 1)) + gpu::zero_magic(FloatType::F16, c.bits);
    base->scales = upload_halves(scales);
    base->zero_bias = upload_halves(zeros);
    std::vector<int32_t> groups(static_cast<size_t>(K / gpu::kStepK));
    for (size_t b = 0; b < groups.size(); ++b) groups[b] = static_cast<int32_t>(b * gpu::kStepK / c.group_size);
    base->block_group = DeviceBuffer(kGpu, groups.size() * 4, "bench data");
    check(cudaMemcpy(base->block_group.get(), groups.data(), groups.size() * 4, cudaMemcpyHostToDevice), "cudaMemcpy");
    if (c.act_order) {
      std::vector<int32_t> order(static_cast<size_t>(K));
      std::iota(order.begin(), order.end(), 0);
      std::shuffle(order.begin(), order.end(), rng);
      auto buffer = std::make_shared<DeviceBuffer>(kGpu, order.size() * 4, "bench data");
      check(cudaMemcpy(buffer->get(), order.data(), order.size() * 4, cudaMemcpyHostToDevice), "cudaMemcpy");
      base->row_source = buffer;
    }
    t.scales = base->scales.get();
    t.zero_bias = base->zero_bias.get();
    t.block_group = base->block_group.as<int32_t>();
    t.row_source = base->row_source ? base->row_source->as<int32_t>() : nullptr;
    weight_bytes = int64_t{K} * N * c.bits / 8 + int64_t{t.n_groups} * N * (2 + c.bits / 8.0) + (c.act_order ? 4 * K : 0);
    const size_t n_copies = std::clamp<size_t>(kWorkingSetBytes / (words * 4) + 1, 2, 16);
    for (size_t i = 0; i < n_copies; ++i) {
      auto copy = std::make_unique<GpuLinear>();
      copy->in_features = K;
      copy->out_features = N;
      copy->weights = random_device_words(words);
      copy->tiles = t;
      copy->tiles.weights = copy->weights.get();
      copies.push_back(std::move(copy));
    }
    keep_ = std::move(base);
  }

 private:
  std::unique_ptr<GpuLinear> keep_;  // the scales, zero points and orders the copies point to
};

// Median-of-groups time of one call: each group rotates through all inputs.
template <typename Call>
double time_us(cudaStream_t stream, int n_inputs, Call&& call) {
  for (int i = 0; i < 3; ++i) call(i % n_inputs);
  cudaEvent_t start, stop;
  check(cudaEventCreate(&start), "cudaEventCreate");
  check(cudaEventCreate(&stop), "cudaEventCreate");
  auto run = [&](int reps) {
    check(cudaEventRecord(start, stream), "cudaEventRecord");
    for (int i = 0; i < reps; ++i) call(i % n_inputs);
    check(cudaEventRecord(stop, stream), "cudaEventRecord");
    check(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
    return 1000.0 * ms / reps;
  };
  const double estimate = run(n_inputs);
  const int reps = std::clamp(static_cast<int>(4000.0 / std::max(estimate, 0.5)), n_inputs, 2000);
  std::vector<double> samples;
  for (int g = 0; g < 5; ++g) samples.push_back(run(reps));
  std::sort(samples.begin(), samples.end());
  (void)cudaEventDestroy(start);
  (void)cudaEventDestroy(stop);
  return samples[samples.size() / 2];
}

double copy_bandwidth(cudaStream_t stream) {
  const size_t bytes = size_t{1} << 30;
  DeviceBuffer a(kGpu, bytes, "bench data"), b(kGpu, bytes, "bench data");
  check(cudaMemset(a.get(), 1, bytes), "cudaMemset");
  const double us = time_us(stream, 1, [&](int) {
    check(cudaMemcpyAsync(b.get(), a.get(), bytes, cudaMemcpyDeviceToDevice, stream), "cudaMemcpyAsync");
  });
  return 2.0 * bytes / (us * 1e-6);  // read + write
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::string out_path, only_config;
  std::vector<std::pair<int32_t, int32_t>> only_shapes;
  std::vector<int32_t> only_ms;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    else if (std::strcmp(argv[i], "--out") == 0 && i + 1 < argc) out_path = argv[++i];
    else if (std::strcmp(argv[i], "--shape") == 0 && i + 1 < argc) {
      int32_t k = 0, n = 0;
      if (std::sscanf(argv[++i], "%d,%d", &k, &n) == 2 && k > 0 && n > 0) only_shapes.emplace_back(k, n);
    } else if (std::strcmp(argv[i], "--m") == 0 && i + 1 < argc) {
      for (char* item = std::strtok(argv[++i], ","); item != nullptr; item = std::strtok(nullptr, ","))
        if (std::atoi(item) > 0) only_ms.push_back(std::atoi(item));
    }
    else if (std::strcmp(argv[i], "--config") == 0 && i + 1 < argc) only_config = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--quick] [--shape K,N]... [--m M,M...] [--config NAME] [--out FILE.json]\n", argv[0]);
      return 2;
    }
  }
  try {
    DeviceScope scope(kGpu);
    cudaStream_t stream;
    check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
    const double copy = copy_bandwidth(stream);
    std::printf("device-to-device copy: %.2f TB/s (read + write)\n", copy / 1e12);

    std::vector<std::pair<int32_t, int32_t>> shapes = {
        {4096, 12288}, {4096, 4096},  {4096, 22016}, {11008, 4096}, {4096, 28672},
        {14336, 4096}, {8192, 10240}, {8192, 8192},  {8192, 57344}, {28672, 8192}};
    std::vector<int32_t> ms = {1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096};
    std::vector<Config> configs = {{"int4_g128", 4, 128, false},
                                   {"int4_g128_act", 4, 128, true},
                                   {"int3_g128", 3, 128, false},
                                   {"int8_g128", 8, 128, false}};
    if (quick) {
      shapes = {{4096, 12288}, {4096, 4096}, {11008, 4096}, {8192, 57344}};
      ms = {1, 4, 16, 64, 256, 1024, 4096};
    }
    if (!only_shapes.empty()) shapes = only_shapes;
    if (!only_ms.empty()) ms = only_ms;
    if (!only_config.empty()) {
      std::erase_if(configs, [&](const Config& c) { return only_config != c.name; });
    }
    nlohmann::json rows = nlohmann::json::array();
    rows.push_back({{"kernel", "copy"}, {"bytes_per_s", copy}});
    DenseGemm blas(kGpu, stream, FloatType::F16);
    const int32_t max_m = *std::max_element(ms.begin(), ms.end());
    std::printf("%-14s %6s %6s %5s %10s %10s %8s %8s %7s\n", "kernel", "K", "N", "M", "ours_us", "cublas_us", "x_fp16",
                "TB/s", "%copy");
    for (auto [K, N] : shapes) {
      // cuBLAS fp16 on as many weight copies.
      std::vector<DeviceBuffer> dense;
      const size_t dense_bytes = size_t{2} * K * N;
      for (size_t i = 0; i < std::clamp<size_t>(kWorkingSetBytes / dense_bytes + 1, 2, 16); ++i) {
        dense.push_back(random_device_words(dense_bytes / 4, true));
      }
      std::vector<uint16_t> x_host(static_cast<size_t>(max_m) * K);
      std::mt19937 rng(1);
      std::normal_distribution<float> normal(0.0f, 1.0f);
      for (uint16_t& v : x_host) v = float_to_fp16(normal(rng));
      DeviceBuffer x(kGpu, x_host.size() * 2, "bench x");
      check(cudaMemcpy(x.get(), x_host.data(), x_host.size() * 2, cudaMemcpyHostToDevice), "cudaMemcpy");
      DeviceBuffer y(kGpu, static_cast<size_t>(max_m) * N * 2, "bench y");
      std::vector<double> cublas_us(ms.size());
      for (size_t i = 0; i < ms.size(); ++i) {
        const int32_t m = ms[i];
        cublas_us[i] = time_us(stream, static_cast<int>(dense.size()), [&](int c) {
          blas.multiply_transposed(x.get(), K, m, dense[c].get(), K, N, K, y.get(), N, nullptr);
        });
        rows.push_back({{"kernel", "cublas_fp16"}, {"K", K}, {"N", N}, {"M", m}, {"time_us", cublas_us[i]},
                        {"weight_bytes", dense_bytes}});
      }
      dense.clear();
      for (const Config& c : configs) {
        BenchLayer layer(c, K, N);
        gpu::GptqGemmArgs sizing;
        sizing.outputs[0].w = layer.copies[0]->tiles;
        GptqMatmul matmul(kGpu, stream, FloatType::F16, blas, max_m, K, sizing.outputs[0].w.n_tiles());
        for (size_t i = 0; i < ms.size(); ++i) {
          const int32_t m = ms[i];
          const double us = time_us(stream, static_cast<int>(layer.copies.size()), [&](int copy) {
            const GptqProduct product{layer.copies[copy].get(), y.get(), N};
            matmul.run(x.get(), K, m, {&product, 1});
          });
          const double bytes_per_s = layer.weight_bytes / (us * 1e-6);
          gpu::GptqGemmArgs shape = sizing;
          shape.m = m;
          shape.n_outputs = 1;
          shape.sm_count = cuda::multiprocessor_count(kGpu);
          const gpu::GptqKernel kernel = gpu::choose_gptq_kernel(FloatType::F16, shape);
          const char* path = kernel == gpu::GptqKernel::Wgmma                ? "wgmma"
                             : m >= GptqMatmul::default_dequant_rows() ? "dequant+cublas"
                             : kernel == gpu::GptqKernel::Decode     ? "decode"
                             : kernel == gpu::GptqKernel::Tiled      ? "tiled"
                             : m <= 64                               ? "stream split-K"
                                                                     : "stream";
          std::printf("%-14s %6d %6d %5d %10.2f %10.2f %8.2f %8.2f %6.1f%%  %s\n", c.name, K, N, m, us, cublas_us[i],
                      cublas_us[i] / us, bytes_per_s / 1e12, 100.0 * bytes_per_s / copy, path);
          rows.push_back({{"kernel", c.name},
                          {"bits", c.bits},
                          {"group_size", c.group_size},
                          {"act_order", c.act_order},
                          {"K", K},
                          {"N", N},
                          {"M", m},
                          {"time_us", us},
                          {"weight_bytes", layer.weight_bytes},
                          {"path", path}});
        }
        check(cudaStreamSynchronize(stream), "the benchmark");
      }
    }
    if (!out_path.empty()) std::ofstream(out_path) << rows.dump(1) << "\n";
    (void)cudaStreamDestroy(stream);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_gpu_kernels: %s\n", e.what());
    return 1;
  }
  return 0;
}
