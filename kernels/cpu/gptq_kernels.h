// GPTQ-quantized linear layers on the CPU: a one-time repack of the
// checkpoint's tensors into a layout of our own (kernels/cpu/gptq_layout.h
// describes it and why), and y = x . W^T + bias on it.
//
// Decode (few rows of x) streams the packed weights once, unpacking them in
// registers (gptq_gemv_impl.h); prefill dequantizes blocks of them into the
// dense GEMM's fp32 panels (gptq_gemm_impl.h). Both are fp32 math, match
// reference::matmul_gptq (dequantize, then multiply) to rounding, and give
// the same bits for any thread count. Several products of one x, dense or
// quantized, fuse into one parallel step through matmul_multi
// (MatmulOutput::gptq).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/gptq_layout.h"
#include "kernels/gptq_source.h"

namespace gptq::cpu {

// The repacked weights; immutable, shareable between threads.
class PackedGptq {
 public:
  // Throws gptq::Error (GPTQ_ERR_INVALID_ARGUMENT) on an inconsistent
  // source (validate_gptq_source).
  explicit PackedGptq(const GptqSource& source);
  PackedGptq(const PackedGptq&) = delete;
  PackedGptq& operator=(const PackedGptq&) = delete;

  int bits() const { return layout_.bits; }
  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return layout_.n_cols; }
  // Whether each call gathers x into the packed order (act-order, or groups
  // not aligned to whole words).
  bool gathers_input() const { return layout_.row_source != nullptr; }
  // Memory held, for accounting.
  int64_t bytes() const;
  // For the kernels.
  const GptqLayout& layout() const { return layout_; }

 private:
  struct FreeDeleter {
    void operator()(uint8_t* p) const;
  };
  int64_t in_features_ = 0;
  std::vector<int32_t> segment_units_, segment_first_unit_, row_source_;
  std::unique_ptr<uint8_t[], FreeDeleter> data_;
  GptqLayout layout_;
};

std::shared_ptr<const PackedGptq> pack_gptq(const GptqSource& source);

// y[m, n] = bias[n] + sum_k x[m, k] * W[n, k] for m < M, n < N, W the
// dequantized weights. x has K = w.in_features() columns; bias may be null;
// x and y must not overlap.
void matmul_gptq(ThreadPool& pool, const float* x, int64_t ldx, int64_t M, const PackedGptq& w, const float* bias,
                 float* y, int64_t ldy);

// The kernels of one given ISA (tests, benchmarks); throws gptq::Error
// (GPTQ_ERR_UNSUPPORTED) when !isa_supported(isa).
void matmul_gptq(Isa isa, ThreadPool& pool, const float* x, int64_t ldx, int64_t M, const PackedGptq& w,
                 const float* bias, float* y, int64_t ldy);

namespace reference {
// Dequantize-and-multiply on the checkpoint format itself, single-threaded.
void matmul_gptq(const float* x, int64_t ldx, int64_t M, const GptqSource& w, const float* bias, float* y,
                 int64_t ldy);
// Weight (n, k) of the source: scale * (q - zero).
float gptq_weight(const GptqSource& w, int64_t n, int64_t k);
}  // namespace reference

}  // namespace gptq::cpu
