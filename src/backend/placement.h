// Where each part of a model lives: the embeddings, every decoder layer
// (with its KV cache) and the head (final norm + lm_head), and the type the
// GPU parts compute in. Layers offloaded to a GPU are the last ones, as in
// llama.cpp: the embedding lookup stays on the CPU with the first layers,
// and the head, the largest single matrix, goes with the last layer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backend/device.h"
#include "core/dtype.h"

namespace gptq {

struct Placement {
  DeviceId embedding = kCpu;
  std::vector<DeviceId> layers;
  DeviceId head = kCpu;
  // Activations of GPU parts (CPU parts compute in fp32 whatever this says).
  FloatType gpu_compute = FloatType::F16;

  // Decoder layers on a GPU.
  int32_t n_gpu_layers() const;
  // The GPU in use, if any part is on one.
  std::optional<DeviceId> gpu() const;
  // "cpu", "cuda:0", or "cuda:0+cpu" for a split.
  std::string summary() const;
  // Every part: "embedding=cpu layers[0-9]=cpu layers[10-31]=cuda:0 head=cuda:0".
  std::string describe() const;
};

// All on `device`, or, when it is a GPU and 0 <= n_gpu_layers < n_layers,
// only the last n_gpu_layers layers and the head there (n_gpu_layers < 0:
// all of them; 0: nothing, all on the CPU). A CPU device ignores
// n_gpu_layers.
Placement plan_placement(int64_t n_layers, DeviceId device, int32_t n_gpu_layers, FloatType gpu_compute);

}  // namespace gptq
