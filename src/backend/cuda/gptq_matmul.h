// GPTQ products on the GPU as the backend runs them: x gathered into the
// layout's row order where it must be, then the tensor-core kernels for
// small and medium M and, on Hopper, the warpgroup kernel for large M.
// Elsewhere large M hands dequantized weight strips to cuBLAS from
// `dequant_rows` rows on (GPTQ_GPU_DEQUANT_ROWS overrides the default),
// the dequantization of the next strips overlapping the GEMM of the last.
// Also what bench/ times, so the numbers are the library's own path.
#pragma once

#include <cstdint>
#include <span>

#include "backend/cuda/gpu_blas.h"
#include "backend/cuda/gpu_weights.h"
#include "kernels/cuda/gptq_gemm.h"

namespace gptq::cuda {

struct GptqProduct {
  const GpuLinear* linear = nullptr;
  void* y = nullptr;
  int64_t ld_y = 0;
};

class GptqMatmul {
 public:
  // Scratch for up to max_rows rows of inputs of up to max_k_padded columns,
  // and the split-K sums of launches of up to max_strips column strips.
  GptqMatmul(DeviceId device, cudaStream_t stream, FloatType type, DenseGemm& blas, int32_t max_rows,
             int64_t max_k_padded, int32_t max_strips);
  ~GptqMatmul();
  GptqMatmul(const GptqMatmul&) = delete;
  GptqMatmul& operator=(const GptqMatmul&) = delete;

  // The products of one x [m][K] (ld_x) for linears with the same input
  // order (at most gpu::kMaxGemmOutputs), enqueued on the stream.
  void run(const void* x, int64_t ld_x, int32_t m, std::span<const GptqProduct> products);

  static bool same_input_order(const GpuLinear& a, const GpuLinear& b);
  static int32_t default_dequant_rows();

 private:
  // Whether m rows go through dequantized strips and cuBLAS (kernel: the
  // one Auto chose, or Auto when sizing the buffers for any call).
  bool uses_dequantized_weights(int32_t m, gpu::GptqKernel kernel) const;
  void dequantized_product(const void* x, int64_t ld_x, int32_t m, const GptqProduct& product);

  DeviceId device_;
  cudaStream_t stream_;
  FloatType type_;
  DenseGemm& blas_;
  int sm_count_;
  int32_t dequant_rows_;
  DeviceBuffer gather_, workspace_, counters_;
  // Large M: strips dequantized on a side stream into one of two buffers
  // while cuBLAS multiplies the other.
  cudaStream_t side_ = nullptr;
  cudaEvent_t ready_[2] = {}, free_[2] = {};
  DeviceBuffer dequantized_[2];
};

}  // namespace gptq::cuda
