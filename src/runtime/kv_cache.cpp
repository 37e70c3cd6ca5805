#include "runtime/kv_cache.h"

#include <new>

#include "core/error.h"

namespace gptq {

KvCache::KvCache(const ModelConfig& config, int32_t n_ctx, int32_t n_seq, int64_t n_layers)
    : n_ctx_(n_ctx), n_layers_(n_layers < 0 ? config.n_layers : n_layers), lengths_(n_seq, 0) {
  head_stride_ = int64_t{n_ctx} * config.head_dim;
  seq_stride_ = head_stride_ * config.n_kv_heads;
  layer_stride_ = seq_stride_ * n_seq;
  const int64_t total = layer_stride_ * n_layers_;
  keys_.reset(new (std::nothrow) float[total]);
  values_.reset(new (std::nothrow) float[total]);
  if (!keys_ || !values_) {
    fail(GPTQ_ERR_OUT_OF_MEMORY, "cannot allocate a KV cache of ", 2 * total * 4 / (1 << 20), " MiB (n_ctx ", n_ctx,
         ", n_seq_max ", n_seq, ")");
  }
}

}  // namespace gptq
