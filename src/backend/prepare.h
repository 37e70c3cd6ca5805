// Making the device forms of a model's weights (backend.h's
// PreparedWeights) from their host sources, once, when a model is placed.
#pragma once

#include <memory>

#include "backend/backend.h"
#include "core/dense_matrix.h"

namespace gptq {

class WeightPreparer {
 public:
  virtual ~WeightPreparer() = default;
  virtual std::shared_ptr<const PreparedWeights> linear(const Linear& linear) = 0;
  // Null where the device reads the host vectors (the CPU).
  virtual std::shared_ptr<const PreparedWeights> norm(const Norm& norm) = 0;
  // An embedding table (token or position rows); null on the CPU.
  virtual std::shared_ptr<const PreparedWeights> table(const DenseMatrix& table) = 0;
  // Waits for the uploads still in flight; errors surface here.
  virtual void finish() {}
  // Drops the references it keeps so that parts reading the same host data
  // share one device copy (a tied embedding); what it made stays with the
  // parts. A preparer that outlives what it prepared (the quantizer's, one
  // layer after another) calls it between them.
  virtual void forget_shared() {}
};

// The preparer of `device`'s kind; GPU parts compute in `gpu_compute`.
std::unique_ptr<WeightPreparer> make_preparer(DeviceId device, FloatType gpu_compute);

}  // namespace gptq
