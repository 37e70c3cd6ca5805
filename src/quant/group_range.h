// The arithmetic of one quantization group's row, shared by the CPU
// quantizer and the GPU kernels (kernels/cuda/gptq_solve.cu) so that both
// round the same way: AutoGPTQ's Quantizer.find_params(weight=True) and
// quantize(). Products that feed a difference go through exact_mul, so that
// no compiler fuses them into an FMA on one side only (nvcc contracts by
// default; the CPU build targets x86-64 without FMA).
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__) || defined(__HIPCC__)
#define GPTQ_HOST_DEVICE __host__ __device__
#else
#define GPTQ_HOST_DEVICE
#endif

namespace gptq {

GPTQ_HOST_DEVICE inline float exact_mul(float a, float b) {
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}

// Round half to even, as torch.round.
GPTQ_HOST_DEVICE inline float round_even(float x) {
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
  return rintf(x);
#else
  return std::nearbyint(x);
#endif
}

GPTQ_HOST_DEVICE inline float pow_2_4(float x) {
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
  return powf(x, 2.4f);
#else
  return std::pow(x, 2.4f);
#endif
}

// torch.clamp(torch.round(x / scale) + zero, 0, maxq), in fp32 like torch.
GPTQ_HOST_DEVICE inline float quantize_code(float x, float scale, float zero, float maxq) {
  const float q = round_even(x / scale) + zero;
  return q < 0.0f ? 0.0f : (q > maxq ? maxq : q);
}

// The value a code stands for.
GPTQ_HOST_DEVICE inline float dequantize_code(float code, float scale, float zero) {
  return exact_mul(scale, code - zero);
}

// GPTQ's step on one weight of the column being quantized: its code (to
// *code), its share of the loss (added to *loss), and the error
// (w - q) / d that the later columns absorb, d being the column's diagonal
// entry of the inverse Hessian's upper factor.
GPTQ_HOST_DEVICE inline float gptq_weight_step(float w, float scale, float zero, float maxq, float d, float* code,
                                               double* loss) {
  *code = quantize_code(w, scale, zero, maxq);
  const float q = dequantize_code(*code, scale, zero);
  *loss += static_cast<double>(w - q) * (w - q) / (static_cast<double>(d) * d) / 2.0;
  return (w - q) / d;
}

// Scale and zero point of one row of a group: values first[c * stride] for
// c in [0, count).
GPTQ_HOST_DEVICE inline void find_row_params(const float* first, int64_t stride, int64_t count, int bits, bool sym,
                                             bool mse, float* scale_out, float* zero_out) {
  const float maxq = static_cast<float>((1 << bits) - 1);
  float xmin = 0.0f, xmax = 0.0f;  // the range always includes zero
  for (int64_t c = 0; c < count; ++c) {
    const float x = first[c * stride];
    xmin = x < xmin ? x : xmin;
    xmax = x > xmax ? x : xmax;
  }
  if (sym) {
    const float magnitude = std::fabs(xmin);
    xmax = magnitude > xmax ? magnitude : xmax;
    if (xmin < 0) xmin = -xmax;
  }
  if (xmin == 0.0f && xmax == 0.0f) {
    xmin = -1.0f;
    xmax = 1.0f;
  }
  float scale = (xmax - xmin) / maxq;
  float zero = sym ? (maxq + 1.0f) / 2.0f : round_even(-xmin / scale);
  if (mse) {
    // Shrink the range while the |error|^2.4 over the group drops.
    float best = INFINITY;
    const float sym_zero = zero;
    for (int i = 0; i < 80; ++i) {
      const float p = 1.0f - static_cast<float>(i) / 100.0f;
      const float xmin1 = exact_mul(p, xmin), xmax1 = exact_mul(p, xmax);
      const float scale1 = (xmax1 - xmin1) / maxq;
      const float zero1 = sym ? sym_zero : round_even(-xmin1 / scale1);
      float err = 0.0f;
      for (int64_t c = 0; c < count; ++c) {
        const float x = first[c * stride];
        err += pow_2_4(std::fabs(dequantize_code(quantize_code(x, scale1, zero1, maxq), scale1, zero1) - x));
      }
      if (err < best) {
        best = err;
        scale = scale1;
        zero = zero1;
      }
    }
  }
  *scale_out = scale;
  *zero_out = zero;
}

}  // namespace gptq
