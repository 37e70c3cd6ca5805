// Keys and values of every sequence a context holds, in fp32 (the math is
// fp32 end to end). Layout per layer: [sequence][kv_head][position][head_dim],
// so one head's history is contiguous for the attention kernel. Memory comes
// from an uninitialised allocation: positions never written are never touched,
// so a large n_ctx costs address space, not resident memory.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "model/config.h"

namespace gptq {

class KvCache {
 public:
  // n_layers < 0: every layer of the model (a calibration run needs one).
  KvCache(const ModelConfig& config, int32_t n_ctx, int32_t n_seq, int64_t n_layers = -1);

  int32_t n_ctx() const { return n_ctx_; }
  int32_t n_seq() const { return static_cast<int32_t>(lengths_.size()); }
  int32_t length(int32_t seq) const { return lengths_[seq]; }
  void set_length(int32_t seq, int32_t length) { lengths_[seq] = length; }

  float* keys(int64_t layer) { return keys_.get() + layer * layer_stride_; }
  float* values(int64_t layer) { return values_.get() + layer * layer_stride_; }
  int64_t seq_stride() const { return seq_stride_; }
  int64_t head_stride() const { return head_stride_; }
  int64_t bytes() const { return 2 * layer_stride_ * n_layers_ * static_cast<int64_t>(sizeof(float)); }

 private:
  int32_t n_ctx_;
  int64_t n_layers_;
  int64_t head_stride_, seq_stride_, layer_stride_;
  std::unique_ptr<float[]> keys_, values_;
  std::vector<int32_t> lengths_;
};

}  // namespace gptq
