// The CPU backend: fp32 activations and KV cache in host memory, the ops
// over kernels/cpu (matmuls, attention) and plain row loops (row_ops.h),
// spread over the context's thread pool.
#pragma once

#include <memory>

#include "backend/backend.h"
#include "backend/prepare.h"
#include "core/thread_pool.h"
#include "kernels/cpu/gptq_kernels.h"

namespace gptq::cpu {

// A linear as the CPU kernels compute it: the dense weights in place, or
// GPTQ weights repacked into panels (gptq_layout.h).
class CpuLinear final : public PreparedWeights {
 public:
  explicit CpuLinear(const Linear& linear);
  int64_t device_bytes() const override;
  // What matmul_multi needs for this linear's product into y.
  MatmulOutput output(const Linear& linear, float* y, int64_t ldy) const;

 private:
  DenseMatrix dense_;
  std::shared_ptr<const PackedGptq> packed_;
};

std::unique_ptr<Backend> make_cpu_backend(ThreadPool& pool);
std::unique_ptr<WeightPreparer> make_cpu_preparer();

}  // namespace gptq::cpu
