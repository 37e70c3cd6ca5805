// The GPU's row-wise kernels: embedding gather, norms fused with the
// residual add, the q/k/v split, head norms + rotary embedding + KV store,
// activations, gathers, conversions and the log-likelihood of targets.
//
// Layout: activations are row-major matrices of the compute type (fp32,
// fp16 or bf16; `type` below), row r at data + r * ld elements. Norm
// weights and the rotary table are fp32. The KV cache is laid out
// [sequence][kv_head][position][head_dim] in its own type. Math is fp32.
// Every launcher enqueues on `stream` and returns the launch's status.
#pragma once

#include <cstdint>

#include "core/activation.h"
#include "core/dtype.h"
#include "kernels/cuda/portability.h"

namespace gptq::gpu {

// out[t] = tokens_table[tokens[t]] * scale (+ positions_table[positions[t] + position_offset]).
struct EmbedArgs {
  void* out = nullptr;
  int64_t ld_out = 0;
  const void* tokens_table = nullptr;     // [vocab][hidden]
  const void* positions_table = nullptr;  // [positions][hidden], or null
  const int32_t* tokens = nullptr;
  const int32_t* positions = nullptr;
  int32_t n_tokens = 0;
  int32_t hidden = 0;
  float scale = 1.0f;
  int32_t position_offset = 0;
};
cudaError_t launch_embed(FloatType type, const EmbedArgs& args, cudaStream_t stream);

// hidden += add (+ add2) when add is set; then out = norm(hidden) when
// weight is set (out may be hidden). The residual joins and norms of every
// layout, in one pass.
struct ResidualNormArgs {
  void* hidden = nullptr;
  int64_t ld_hidden = 0;
  const void* add = nullptr;
  int64_t ld_add = 0;
  const void* add2 = nullptr;
  int64_t ld_add2 = 0;
  void* out = nullptr;
  int64_t ld_out = 0;
  const float* weight = nullptr;
  const float* bias = nullptr;  // LayerNorm only
  bool layer_norm = false;
  float eps = 0;
  int32_t rows = 0;
  int32_t n = 0;
};
cudaError_t launch_residual_norm(FloatType type, const ResidualNormArgs& args, cudaStream_t stream);

// A fused projection's rows into q, k and v: [q | k | v], or per head
// [q_h | k_h | v_h] (head_interleaved, n_kv_heads == n_heads).
struct SplitQkvArgs {
  const void* qkv = nullptr;
  int64_t ld_qkv = 0;
  int32_t rows = 0;
  bool head_interleaved = false;
  int32_t n_heads = 0, n_kv_heads = 0, head_dim = 0;
  void* q = nullptr;
  int64_t ld_q = 0;
  void* k = nullptr;
  int64_t ld_k = 0;
  void* v = nullptr;
  int64_t ld_v = 0;
};
cudaError_t launch_split_qkv(FloatType type, const SplitQkvArgs& args, cudaStream_t stream);

// Per token: RMS norms of q's and k's heads (when given), rotary embedding
// of both (when rope_cos is set; the first 2 * rope_half dims of each head),
// q written back, k and v stored in the cache at (seq[t], pos[t]).
struct RotateStoreArgs {
  void* q = nullptr;
  int64_t ld_q = 0;
  const void* k = nullptr;
  int64_t ld_k = 0;
  const void* v = nullptr;
  int64_t ld_v = 0;
  int32_t rows = 0;
  int32_t n_heads = 0, n_kv_heads = 0, head_dim = 0;
  const float* q_norm = nullptr;
  const float* k_norm = nullptr;
  float norm_eps = 0;
  const float* rope_cos = nullptr;  // [position][rope_half]
  const float* rope_sin = nullptr;
  int32_t rope_half = 0;
  bool interleaved = false;  // pairs (2i, 2i+1) instead of (i, i + half)
  const int32_t* seq = nullptr;
  const int32_t* pos = nullptr;
  void* k_cache = nullptr;
  void* v_cache = nullptr;
  FloatType kv_type = FloatType::F16;
  int64_t seq_stride = 0, head_stride = 0;
};
cudaError_t launch_rotate_and_store(FloatType type, const RotateStoreArgs& args, cudaStream_t stream);

// gate = act(gate) * up (up null: act(gate)), n columns of each row.
cudaError_t launch_activate(FloatType type, void* gate, int64_t ld_gate, const void* up, int64_t ld_up, int32_t rows,
                            int32_t n, Activation activation, cudaStream_t stream);

// out[r] = x[rows[r]] (n columns).
cudaError_t launch_gather_rows(FloatType type, const void* x, int64_t ld_x, const int32_t* rows, int32_t n_rows,
                               int32_t n, void* out, int64_t ld_out, cudaStream_t stream);

// out[r][c] = x[r][source[c]], or 0 where source[c] < 0 (source null:
// out[r][c] = x[r][c] for c < n_in, 0 beyond): x in a GPTQ layout's order.
cudaError_t launch_gather_columns(FloatType type, const void* x, int64_t ld_x, int32_t rows, const int32_t* source,
                                  int32_t n_in, int32_t n_out, void* out, int64_t ld_out, cudaStream_t stream);

// Conversions: to contiguous fp32 rows, from them, and of a flat array.
cudaError_t launch_to_float(FloatType type, const void* x, int64_t ld_x, int32_t rows, int32_t n, float* out,
                            cudaStream_t stream);
cudaError_t launch_from_float(FloatType type, const float* x, int32_t rows, int32_t n, void* out, int64_t ld_out,
                              cudaStream_t stream);
cudaError_t launch_convert(FloatType from, const void* in, FloatType to, void* out, int64_t n, cudaStream_t stream);

// y[r] += bias, n columns.
cudaError_t launch_add_bias(FloatType type, void* y, int64_t ld_y, int32_t rows, int32_t n, const void* bias,
                            cudaStream_t stream);

// out[r] = -log softmax(logits[r])[targets[r]], in double.
cudaError_t launch_token_nll(FloatType type, const void* logits, int64_t ld, int32_t rows, int32_t vocab,
                             const int32_t* targets, double* out, cudaStream_t stream);

}  // namespace gptq::gpu
