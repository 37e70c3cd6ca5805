// Causal softmax attention over the device KV cache.
//
// Layout: q and out are [tokens][n_heads * head_dim] in the compute type;
// the cache is [sequence][kv_head][position][head_dim] in its own type, the
// tokens' own keys and values already stored; query head h reads kv head
// h / (n_heads / n_kv_heads). Token t attends to positions
// [max(0, pos[t] - window + 1), pos[t]] of sequence seq[t] (window 0: all).
//
// Kernels:
//  - split-KV (any types, head_dim <= 256): one block per (token, kv head,
//    split) serves the kv head's query heads together; the key range of a
//    token is cut into `splits` equal parts computed on the device from
//    pos[t], so the grid depends on the batch shape only (a decode step is
//    replayable as a graph whatever the context length), and a second
//    kernel merges the parts' softmax partials.
//  - tiled prefill (fp16/bf16 with the cache in the same type, head_dim 64
//    or 128, sm_80+): flash attention on the tensor cores over tiles of up
//    to 64 consecutive tokens of one sequence (built on the host).
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "kernels/cuda/portability.h"

namespace gptq::gpu {

constexpr int kAttentionTileRows = 64;
constexpr int kMaxAttentionSplits = 64;

// Consecutive tokens first_row .. first_row + count - 1 of the batch at
// positions first_pos .. first_pos + count - 1 of sequence seq.
struct AttentionTile {
  int32_t first_row, count, seq, first_pos;
};

// Cuts a batch into tiles: runs of consecutive positions of one sequence,
// at most kAttentionTileRows tokens each. Writes up to n tiles; returns how many.
inline int32_t build_attention_tiles(const int32_t* seq, const int32_t* pos, int32_t n, AttentionTile* tiles) {
  int32_t count = 0;
  for (int32_t i = 0; i < n;) {
    int32_t j = i + 1;
    while (j < n && j - i < kAttentionTileRows && seq[j] == seq[i] && pos[j] == pos[i] + (j - i)) ++j;
    tiles[count++] = {i, j - i, seq[i], pos[i]};
    i = j;
  }
  return count;
}

struct AttentionArgs {
  const void* q = nullptr;
  int64_t ld_q = 0;
  void* out = nullptr;
  int64_t ld_out = 0;
  const void* k_cache = nullptr;
  const void* v_cache = nullptr;
  FloatType kv_type = FloatType::F16;
  int64_t seq_stride = 0, head_stride = 0;
  int32_t n_ctx = 0;
  const int32_t* seq = nullptr;
  const int32_t* pos = nullptr;
  int32_t n_tokens = 0;
  int32_t n_heads = 0, n_kv_heads = 0, head_dim = 0;
  int32_t window = 0;
  float scale = 1.0f;
  // Per query head, or null: scores += slope * (key position - query position) (ALiBi).
  const float* alibi_slopes = nullptr;
  // Split-KV: parts per token and their scratch (attention_partial_floats).
  int32_t splits = 1;
  float* partial = nullptr;
  // Tiled prefill: the tiles, on the device.
  const AttentionTile* tiles = nullptr;
  int32_t n_tiles = 0;
};

// How many parts the split-KV kernel cuts each of n_tokens tokens' keys
// into: enough (token, head, split) blocks for about one wave on the
// current device, each part at least GPTQ_GPU_ATTENTION_SPLIT_KEYS
// positions of the context (default 64). It depends on the context size,
// not the keys held, so a recorded decode step replays at any length.
int32_t attention_splits(int32_t n_tokens, int32_t n_heads, int32_t n_ctx);

// Floats of scratch the split-KV kernel needs for up to max_tokens tokens, any context size.
int64_t attention_partial_floats(int32_t max_tokens, int32_t n_heads, int32_t head_dim);

// Whether the tiled prefill kernel serves these types and head_dim.
bool attention_tiled_supported(FloatType type, FloatType kv_type, int32_t head_dim);

cudaError_t launch_attention_split(FloatType type, const AttentionArgs& args, cudaStream_t stream);
cudaError_t launch_attention_tiled(FloatType type, const AttentionArgs& args, cudaStream_t stream);

}  // namespace gptq::gpu
