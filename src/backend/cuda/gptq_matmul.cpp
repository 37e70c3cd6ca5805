#include "backend/cuda/gptq_matmul.h"

#include <algorithm>
#include <cstdlib>

#include "core/error.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/gptq_gemm.h"
#include "kernels/cuda/gptq_wgmma.h"

namespace gptq::cuda {
namespace {

// A product's weights are dequantized in about four chunks (at least 8
// strips, at most this many bytes each): the first is exposed, the others
// overlap the GEMMs of the ones before.
constexpr int64_t kDequantChunkBytes = int64_t{128} << 20;
constexpr int32_t kDequantChunks = 4;

int32_t chunk_strips(int32_t n_tiles, int64_t k_padded, int64_t element) {
  const int64_t cap = std::max<int64_t>(1, kDequantChunkBytes / (k_padded * gpu::kTileN * element));
  const int64_t want = std::max<int64_t>(8, (n_tiles + kDequantChunks - 1) / kDequantChunks);
  return static_cast<int32_t>(std::clamp<int64_t>(std::min(want, cap), 1, n_tiles));
}

}  // namespace

int32_t GptqMatmul::default_dequant_rows() {
  static const int32_t rows = [] {
    const char* env = std::getenv("GPTQ_GPU_DEQUANT_ROWS");
    return env != nullptr ? std::atoi(env) : 256;
  }();
  return rows;
}

namespace {

// A launch of `strips` column strips, for sizing its scratch.
gpu::GptqGemmArgs sizing(int32_t strips, int sm_count) {
  gpu::GptqGemmArgs args;
  args.n_outputs = 1;
  args.outputs[0].w.n_padded = std::max(strips, 1) * gpu::kTileN;
  args.sm_count = sm_count;
  return args;
}

}  // namespace

GptqMatmul::GptqMatmul(DeviceId device, cudaStream_t stream, FloatType type, DenseGemm& blas, int32_t max_rows,
                       int64_t max_k_padded, int32_t max_strips)
    : device_(device),
      stream_(stream),
      type_(type),
      blas_(blas),
      sm_count_(multiprocessor_count(device)),
      dequant_rows_(default_dequant_rows()),
      gather_(device, static_cast<size_t>(int64_t{max_rows} * std::max<int64_t>(max_k_padded, 8)) * float_type_size(type),
              "reordered GPTQ inputs", true),
      workspace_(device, static_cast<size_t>(gpu::gptq_workspace_floats(sizing(max_strips, sm_count_))) * 4,
                 "the GPTQ split-K workspace"),
      counters_(device, static_cast<size_t>(gpu::gptq_counters(sizing(max_strips, sm_count_))) * 4,
                "the GPTQ split-K counters", true) {
  DeviceScope scope(device);
  check(cudaStreamCreateWithFlags(&side_, cudaStreamNonBlocking), "cudaStreamCreate");
  for (int i = 0; i < 2; ++i) {
    check(cudaEventCreate(&ready_[i]), "cudaEventCreate");
    check(cudaEventCreate(&free_[i]), "cudaEventCreate");
  }
  // Allocated up front: a step recorded as a graph cannot allocate.
  // (The fewest rows that take that path decide whether any call does.)
  if (max_rows >= dequant_rows_ && uses_dequantized_weights(dequant_rows_, gpu::GptqKernel::Auto) && max_strips > 0) {
    const int64_t element = static_cast<int64_t>(float_type_size(type));
    const int64_t k = std::max<int64_t>(max_k_padded, gpu::kTileK);
    const size_t bytes = static_cast<size_t>(k * chunk_strips(max_strips, k, element) * gpu::kTileN * element);
    for (DeviceBuffer& buffer : dequantized_) buffer = DeviceBuffer(device, bytes, "dequantized GPTQ weights");
  }
}

GptqMatmul::~GptqMatmul() {
  DeviceScope scope(device_);
  (void)cudaStreamSynchronize(stream_);
  (void)cudaStreamSynchronize(side_);
  for (int i = 0; i < 2; ++i) {
    (void)cudaEventDestroy(ready_[i]);
    (void)cudaEventDestroy(free_[i]);
  }
  (void)cudaStreamDestroy(side_);
}

bool GptqMatmul::uses_dequantized_weights(int32_t m, gpu::GptqKernel kernel) const {
  // Where the warpgroup kernel runs it serves large M itself (faster than
  // dequantizing for cuBLAS, which writes and reads the fp16 weights).
  if (kernel == gpu::GptqKernel::Wgmma) return false;
  if (kernel == gpu::GptqKernel::Auto && m >= gpu::wgmma_min_rows() && gpu::gptq_wgmma_runs()) return false;
  return m >= dequant_rows_ && blas_.has_vendor_blas() && type_ != FloatType::F32;
}

bool GptqMatmul::same_input_order(const GpuLinear& a, const GpuLinear& b) {
  return a.tiles.bits == b.tiles.bits && a.tiles.k_padded == b.tiles.k_padded &&
         a.tiles.row_source == b.tiles.row_source;
}

void GptqMatmul::run(const void* x, int64_t ld_x, int32_t m, std::span<const GptqProduct> products) {
  if (m == 0 || products.empty()) return;
  const gpu::GptqTiles& tiles = products.front().linear->tiles;
  // x in the layout's row order, or in place when it already is (and
  // aligned as the tensor-core kernels read it).
  const bool aligned = reinterpret_cast<uintptr_t>(x) % 16 == 0 && ld_x % 8 == 0;
  if (tiles.row_source != nullptr || !aligned) {
    check(gpu::launch_gather_columns(type_, x, ld_x, m, tiles.row_source, tiles.k, tiles.k_padded, gather_.get(),
                                     tiles.k_padded, stream_),
          "reordering GPTQ inputs");
    x = gather_.get();
    ld_x = tiles.k_padded;
  }
  gpu::GptqGemmArgs args;
  args.x = x;
  args.ld_x = ld_x;
  args.m = m;
  args.sm_count = sm_count_;
  args.workspace = workspace_.as<float>();
  args.workspace_floats = static_cast<int64_t>(workspace_.bytes() / 4);
  args.counters = counters_.as<int32_t>();
  for (const GptqProduct& p : products) {
    gpu::GptqGemmOutput& out = args.outputs[args.n_outputs++];
    out.w = p.linear->tiles;
    out.y = p.y;
    out.ld_y = p.ld_y;
    out.bias = p.linear->bias.bytes() > 0 ? p.linear->bias.get() : nullptr;
  }
  const gpu::GptqKernel kernel = gpu::choose_gptq_kernel(type_, args);
  if (uses_dequantized_weights(m, kernel)) {
    for (const GptqProduct& p : products) dequantized_product(x, ld_x, m, p);
    return;
  }
  check(gpu::launch_gptq_gemm(type_, args, kernel, stream_), "a GPTQ GEMM");
}

void GptqMatmul::dequantized_product(const void* x, int64_t ld_x, int32_t m, const GptqProduct& product) {
  const gpu::GptqTiles& tiles = product.linear->tiles;
  const int64_t element = static_cast<int64_t>(float_type_size(type_));
  const int32_t chunk_tiles = chunk_strips(tiles.n_tiles(), tiles.k_padded, element);
  const size_t bytes = static_cast<size_t>(int64_t{tiles.k_padded} * chunk_tiles * gpu::kTileN * element);
  if (dequantized_[0].bytes() < bytes) {
    check(cudaStreamSynchronize(stream_), "a GPTQ GEMM");  // the old strips may still be read
    check(cudaStreamSynchronize(side_), "a GPTQ GEMM");
    for (DeviceBuffer& buffer : dequantized_) buffer = DeviceBuffer();
    for (DeviceBuffer& buffer : dequantized_) buffer = DeviceBuffer(device_, bytes, "dequantized GPTQ weights");
  }
  // The side stream starts after what the main stream holds (the weights'
  // last readers included), and each buffer is refilled only after the GEMM
  // that read it.
  check(cudaEventRecord(ready_[0], stream_), "cudaEventRecord");
  check(cudaStreamWaitEvent(side_, ready_[0], 0), "cudaStreamWaitEvent");
  int slot = 0;
  for (int32_t first = 0; first < tiles.n_tiles(); first += chunk_tiles, slot ^= 1) {
    const int32_t count = std::min(chunk_tiles, tiles.n_tiles() - first);
    const int32_t ld = count * gpu::kTileN;
    if (first >= 2 * chunk_tiles) check(cudaStreamWaitEvent(side_, free_[slot], 0), "cudaStreamWaitEvent");
    check(gpu::launch_gptq_dequantize(type_, tiles, first, count, dequantized_[slot].get(), ld, side_),
          "dequantizing GPTQ weights");
    check(cudaEventRecord(ready_[slot], side_), "cudaEventRecord");
    check(cudaStreamWaitEvent(stream_, ready_[slot], 0), "cudaStreamWaitEvent");
    const int32_t n = std::min(ld, tiles.n - first * gpu::kTileN);
    void* y = static_cast<char*>(product.y) + int64_t{first} * gpu::kTileN * element;
    blas_.multiply(x, ld_x, m, dequantized_[slot].get(), ld, n, tiles.k_padded, y, product.ld_y);
    check(cudaEventRecord(free_[slot], stream_), "cudaEventRecord");
  }
  if (product.linear->bias.bytes() > 0) {
    check(gpu::launch_add_bias(type_, product.y, product.ld_y, m, tiles.n, product.linear->bias.get(), stream_),
          "adding a bias");
  }
}

}  // namespace gptq::cuda
