#include "runtime/kv_cache.h"

namespace gptq {

KvCache::KvCache(std::vector<KvLayer> layers, int32_t n_ctx, int32_t n_seq)
    : layers_(std::move(layers)), n_ctx_(n_ctx), lengths_(static_cast<size_t>(n_seq), 0) {
  for (const KvLayer& layer : layers_) {
    bytes_ += 2 * layer.seq_stride * n_seq * static_cast<int64_t>(float_type_size(layer.type));
  }
}

}  // namespace gptq
