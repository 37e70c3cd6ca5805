// Keys and values of every sequence a context holds: one KvLayer per
// decoder layer, each in the memory of the device that runs the layer (and
// in its type: fp32 on the CPU, the KV type on a GPU), laid out
// [sequence][kv_head][position][head_dim] so one head's history is
// contiguous for the attention kernels. The backends own the memory; this
// keeps the layers and how many positions each sequence holds.
#pragma once

#include <cstdint>
#include <vector>

#include "backend/backend.h"

namespace gptq {

class KvCache {
 public:
  KvCache(std::vector<KvLayer> layers, int32_t n_ctx, int32_t n_seq);

  int32_t n_ctx() const { return n_ctx_; }
  int32_t n_seq() const { return static_cast<int32_t>(lengths_.size()); }
  int32_t length(int32_t seq) const { return lengths_[seq]; }
  void set_length(int32_t seq, int32_t length) { lengths_[seq] = length; }

  KvLayer& layer(int64_t index) { return layers_[static_cast<size_t>(index)]; }
  int64_t n_layers() const { return static_cast<int64_t>(layers_.size()); }
  int64_t bytes() const { return bytes_; }

 private:
  std::vector<KvLayer> layers_;
  int32_t n_ctx_;
  std::vector<int32_t> lengths_;
  int64_t bytes_ = 0;
};

// Allocates `n_layers` layers of cache for `config`, layer l on
// backend_of(l).
template <typename BackendOf>
KvCache make_kv_cache(const ModelConfig& config, int64_t n_layers, int32_t n_ctx, int32_t n_seq,
                      BackendOf&& backend_of) {
  std::vector<KvLayer> layers;
  for (int64_t l = 0; l < n_layers; ++l) {
    layers.push_back(backend_of(l).allocate_kv_layer(config.n_kv_heads, config.head_dim, n_ctx, n_seq));
  }
  return KvCache(std::move(layers), n_ctx, n_seq);
}

}  // namespace gptq
