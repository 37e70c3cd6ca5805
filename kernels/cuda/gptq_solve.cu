#include "kernels/cuda/gptq_solve.h"

#include "kernels/cuda/device_common.cuh"
#include "quant/group_range.h"

namespace gptq::gpu {
namespace {

constexpr int kTile = 32;

template <typename T>
__global__ void load_weights_kernel(const T* w, int64_t ld, int32_t n, int32_t k, const uint8_t* dead, float* wt) {
  __shared__ float tile[kTile][kTile + 1];
  const int64_t k0 = int64_t{blockIdx.x} * kTile, n0 = int64_t{blockIdx.y} * kTile;
  for (int r = threadIdx.y; r < kTile; r += blockDim.y) {
    const int64_t row = n0 + r, col = k0 + threadIdx.x;
    tile[r][threadIdx.x] = row < n && col < k ? to_float(w[row * ld + col]) : 0.0f;
  }
  __syncthreads();
  for (int r = threadIdx.y; r < kTile; r += blockDim.y) {
    const int64_t col = k0 + r, row = n0 + threadIdx.x;
    if (row < n && col < k) wt[col * n + row] = dead != nullptr && dead[col] ? 0.0f : tile[threadIdx.x][r];
  }
}

__global__ void gather_rows_kernel(const float* in, const int32_t* rows, int32_t n_rows, int32_t width, float* out) {
  const int64_t total = int64_t{n_rows} * width;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t p = i / width, c = i % width;
    out[i] = in[int64_t{rows[p]} * width + c];
  }
}

__global__ void group_params_kernel(const float* wt, int32_t n_rows, int64_t col_begin, int64_t count, int bits,
                                    bool sym, bool mse, float* scale, float* zero) {
  const int64_t n = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (n >= n_rows) return;
  find_row_params(wt + col_begin * n_rows + n, n_rows, count, bits, sym, mse, &scale[n], &zero[n]);
}

__global__ void hessian_diagonal_kernel(const float* h, int32_t k, float scale, float* diag) {
  const int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (i < k) diag[i] = h[i * k + i] * scale;
}

__global__ void hessian_damped_reversed_kernel(const float* h, int32_t k, float scale, const int32_t* positions,
                                               const uint8_t* dead, double damp, double* a) {
  const int64_t total = int64_t{k} * k;
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < total; e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t i = e / k, j = e % k;
    const int64_t row = positions[k - 1 - i], col = positions[k - 1 - j];
    float v = h[row * k + col] * scale;
    if (i == j && dead[row]) v = 1.0f;
    a[e] = static_cast<double>(v) + (i == j ? damp : 0.0);
  }
}

__global__ void inverse_upper_kernel(const double* a, int32_t k, float* u) {
  const int64_t total = int64_t{k} * k;
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < total; e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t i = e / k, j = e % k;
    u[e] = j >= i ? static_cast<float>(a[(k - 1 - i) * k + (k - 1 - j)]) : 0.0f;
  }
}

// Four lanes per row: lane r owns the block's columns j = r (mod 4) in
// shared memory, so a column's update touches no other lane's data; the
// column's owner quantizes it and hands its error to the other three by a
// shuffle. Rows of a warp and columns of a lane are interleaved in shared
// memory so that the 32 lanes hit 32 banks.
constexpr int kSolveRows = 32, kSolveLanes = 4, kSolveThreads = kSolveRows * kSolveLanes;

__global__ void __launch_bounds__(kSolveThreads) gptq_block_kernel(GptqBlockArgs a) {
  __shared__ float w1[kGptqMaxBlock * kSolveRows];
  const int lane = threadIdx.x % kSolveLanes, local_row = threadIdx.x / kSolveLanes;
  const int row_lane0 = (threadIdx.x % GPTQ_WARP) - lane;
  const int64_t n = int64_t{blockIdx.x} * kSolveRows + local_row;
  const bool live = n < a.n;
  const int64_t N = a.n;
  auto at = [&](int j) -> float& { return w1[(j / kSolveLanes) * (kSolveRows * kSolveLanes) + local_row * kSolveLanes + j % kSolveLanes]; };
  for (int j = lane; j < a.count; j += kSolveLanes) at(j) = live ? a.wt[(a.i1 + j) * N + n] : 0.0f;

  const float maxq = static_cast<float>((1 << a.bits) - 1);
  double loss = 0;
  float scale = 1.0f, zero = 0.0f;
  bool have_group = false;
  for (int i = 0; i < a.count; ++i) {
    const int64_t col = a.i1 + i;
    const int64_t g = a.column_group[col];
    if (a.find_groups && col % a.group_size == 0) {
      const int64_t end = col + a.group_size < a.k ? col + a.group_size : a.k;
      if (live) find_row_params(a.wt + col * N + n, N, end - col, a.bits, a.sym, a.mse, &scale, &zero);
      if (live && lane == 0) {
        a.scales[g * N + n] = scale;
        a.zeros[g * N + n] = zero;
      }
      have_group = true;
    } else if ((!a.find_groups || !have_group) && live) {
      // Fixed statistics, or a group an earlier block began.
      scale = a.scales[g * N + n];
      zero = a.zeros[g * N + n];
      have_group = true;
    }
    const float d = a.u[col * a.k + col];
    const int owner = i % kSolveLanes;
    float e = 0.0f;
    if (lane == owner) {
      float code = 0.0f;
      e = gptq_weight_step(at(i), scale, zero, maxq, d, &code, &loss);
      if (live) {
        a.codes[col * N + n] = static_cast<uint8_t>(code);
        a.err[int64_t{i} * N + n] = e;
      }
    }
    e = __shfl_sync(0xffffffffu, e, row_lane0 + owner, GPTQ_WARP);
    const float* hinv = a.u + col * a.k + a.i1;
    for (int j = i + 1 + ((lane - (i + 1)) % kSolveLanes + kSolveLanes) % kSolveLanes; j < a.count; j += kSolveLanes) {
      at(j) = at(j) - exact_mul(e, hinv[j]);
    }
  }
  for (int offset = 1; offset < kSolveLanes; offset <<= 1) loss += __shfl_xor_sync(0xffffffffu, loss, offset, GPTQ_WARP);
  if (live && lane == 0) a.row_loss[n] += loss;
}

template <typename T>
__global__ void dequantize_kernel(const uint8_t* codes, const int32_t* columns, const int32_t* column_group,
                                  const float* scales, const float* zeros, int32_t n, int32_t k, T* w) {
  const int64_t total = int64_t{k} * n;
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < total; e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t p = e / n, row = e % n;
    const int64_t g = column_group[p];
    // The checkpoint stores the scale in fp16; the zero point is an integer.
    const float scale = __half2float(__float2half_rn(scales[g * n + row]));
    const int32_t zero = static_cast<int32_t>(zeros[g * n + row]);
    const float v = scale * static_cast<float>(static_cast<int32_t>(codes[e]) - zero);
    w[row * k + columns[p]] = from_float<T>(v);
  }
}

__global__ void pack_kernel(const uint8_t* codes, const int32_t* position, int32_t n, int32_t k, int bits,
                            int32_t* qweight) {
  const int64_t words = int64_t{k} * bits / 32;
  const int64_t total = words * n;
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < total; e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t word = e / n, row = e % n;
    const int64_t first_bit = word * 32;
    uint32_t packed = 0;
    // Values whose bits overlap [first_bit, first_bit + 32).
    for (int64_t v = first_bit / bits; v * bits < first_bit + 32 && v < k; ++v) {
      const uint32_t code = codes[int64_t{position[v]} * n + row];
      const int64_t shift = v * bits - first_bit;
      packed |= shift >= 0 ? code << shift : code >> -shift;
    }
    qweight[e] = static_cast<int32_t>(packed);
  }
}

int grid_for(int64_t total, int threads) {
  const int64_t blocks = (total + threads - 1) / threads;
  return static_cast<int>(blocks < 65536 ? (blocks > 0 ? blocks : 1) : 65536);
}

}  // namespace

cudaError_t launch_gptq_load_weights(FloatType type, const void* w, int64_t ld, int32_t n, int32_t k,
                                     const uint8_t* dead, float* wt, cudaStream_t stream) {
  const dim3 grid((k + kTile - 1) / kTile, (n + kTile - 1) / kTile), block(kTile, 8);
  with_float_type(type, [&]<typename T>() {
    load_weights_kernel<T><<<grid, block, 0, stream>>>(static_cast<const T*>(w), ld, n, k, dead, wt);
  });
  return cudaGetLastError();
}

cudaError_t launch_gptq_gather_rows(const float* in, const int32_t* rows, int32_t n_rows, int32_t width, float* out,
                                    cudaStream_t stream) {
  gather_rows_kernel<<<grid_for(int64_t{n_rows} * width, 256), 256, 0, stream>>>(in, rows, n_rows, width, out);
  return cudaGetLastError();
}

cudaError_t launch_gptq_group_params(const float* wt, int32_t n_rows, int64_t col_begin, int64_t count, int bits,
                                     bool sym, bool mse, float* scale, float* zero, cudaStream_t stream) {
  group_params_kernel<<<blocks_for(n_rows, 128), 128, 0, stream>>>(wt, n_rows, col_begin, count, bits, sym, mse,
                                                                   scale, zero);
  return cudaGetLastError();
}

cudaError_t launch_hessian_diagonal(const float* h, int32_t k, float scale, float* diag, cudaStream_t stream) {
  hessian_diagonal_kernel<<<blocks_for(k, 256), 256, 0, stream>>>(h, k, scale, diag);
  return cudaGetLastError();
}

cudaError_t launch_hessian_damped_reversed(const float* h, int32_t k, float scale, const int32_t* positions,
                                           const uint8_t* dead, double damp, double* a, cudaStream_t stream) {
  hessian_damped_reversed_kernel<<<grid_for(int64_t{k} * k, 256), 256, 0, stream>>>(h, k, scale, positions, dead,
                                                                                    damp, a);
  return cudaGetLastError();
}

cudaError_t launch_inverse_upper_from_reversed(const double* a, int32_t k, float* u, cudaStream_t stream) {
  inverse_upper_kernel<<<grid_for(int64_t{k} * k, 256), 256, 0, stream>>>(a, k, u);
  return cudaGetLastError();
}

cudaError_t launch_gptq_block(const GptqBlockArgs& args, cudaStream_t stream) {
  if (args.count <= 0 || args.count > kGptqMaxBlock) return cudaErrorInvalidValue;
  gptq_block_kernel<<<blocks_for(args.n, kSolveRows), kSolveThreads, 0, stream>>>(args);
  return cudaGetLastError();
}

cudaError_t launch_gptq_dequantize(FloatType type, const uint8_t* codes, const int32_t* columns,
                                   const int32_t* column_group, const float* scales, const float* zeros, int32_t n,
                                   int32_t k, void* w, cudaStream_t stream) {
  with_float_type(type, [&]<typename T>() {
    dequantize_kernel<T><<<grid_for(int64_t{k} * n, 256), 256, 0, stream>>>(codes, columns, column_group, scales,
                                                                            zeros, n, k, static_cast<T*>(w));
  });
  return cudaGetLastError();
}

cudaError_t launch_gptq_pack(const uint8_t* codes, const int32_t* position, int32_t n, int32_t k, int bits,
                             int32_t* qweight, cudaStream_t stream) {
  pack_kernel<<<grid_for(int64_t{k} * bits / 32 * n, 256), 256, 0, stream>>>(codes, position, n, k, bits, qweight);
  return cudaGetLastError();
}

}  // namespace gptq::gpu
