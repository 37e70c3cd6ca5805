// Weights in GPU memory, as the CUDA backend's ops read them, and the
// preparer that makes them at load: dense matrices converted to the compute
// type, GPTQ layers repacked into the tensor-core layout
// (kernels/cuda/gptq_layout.h), norms in fp32. Uploads go through a ring of
// pinned buffers on their own stream, so the host's reading and repacking
// of the next tensor overlaps the copy of the last.
#pragma once

#include <memory>

#include "backend/cuda/gpu_runtime.h"
#include "backend/prepare.h"
#include "kernels/cuda/gptq_layout.h"

namespace gptq::cuda {

class GpuLinear final : public PreparedWeights {
 public:
  int64_t device_bytes() const override;
  bool quantized() const { return tiles.weights != nullptr; }

  int64_t in_features = 0, out_features = 0;
  // Dense: [out][in] in the compute type (shared with a tied embedding).
  std::shared_ptr<const DeviceBuffer> dense;
  // GPTQ: the layout, pointing into the buffers below.
  gpu::GptqTiles tiles;
  DeviceBuffer weights, scales, zero_bias, block_group;
  std::shared_ptr<const DeviceBuffer> row_source;  // shared by layers with the same order
  DeviceBuffer bias;                               // compute type; empty without one
};

class GpuNorm final : public PreparedWeights {
 public:
  int64_t device_bytes() const override { return static_cast<int64_t>(weight.bytes() + bias.bytes()); }
  DeviceBuffer weight, bias;  // fp32
};

class GpuTable final : public PreparedWeights {
 public:
  int64_t device_bytes() const override { return static_cast<int64_t>(matrix->bytes()); }
  std::shared_ptr<const DeviceBuffer> matrix;  // [rows][cols] in the compute type
};

std::unique_ptr<WeightPreparer> make_gpu_preparer(DeviceId device, FloatType compute);

}  // namespace gptq::cuda
