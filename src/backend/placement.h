// Where each part of a model lives: the embeddings, every decoder layer
// (with its KV cache) and the head (final norm + lm_head), and the type the
// GPU parts compute in. Two ways to decide it:
//  - one device and a count of layers to offload (llama.cpp's n_gpu_layers):
//    the offloaded layers are the last ones, the embedding lookup stays on
//    the CPU with the first, and the head goes with the last layer;
//  - a list of devices with memory budgets (accelerate's device_map="auto"
//    with max_memory): the embedding and head on the first GPU, then whole
//    layers, each with its KV cache, filling the GPUs in order, the rest on
//    the CPU.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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

// What each part costs on a device, in bytes.
struct PartCosts {
  int64_t embedding = 0;            // token (and position) tables
  int64_t head = 0;                 // final norm and lm_head (0 when it shares the embedding's table)
  std::vector<int64_t> layers;      // each layer's weights
  int64_t kv_per_layer = 0;         // each layer's KV cache on a GPU, for the context size planned for
  int64_t kv_per_layer_cpu = 0;     // the same on the CPU (fp32)
};

// How much of each device the model may use. `limited` false: as much as
// it needs (the CPU without a cap).
struct DeviceBudget {
  DeviceId device;
  int64_t bytes = 0;
  bool limited = true;
};

// The devices named by a device list ("cuda:0,cuda:1", "cuda", "auto",
// each as resolve_device takes it; "cpu" may end the list) and budgets in
// accelerate's spelling ("cuda:0=30GiB,cuda:1=46GiB,cpu=30GiB"; units B,
// KB/KiB, MB/MiB, GB/GiB, TB/TiB, case-insensitive). A GPU without a
// budget gets `default_gpu_bytes(device)`; the CPU is unlimited without
// one. Fails with GPTQ_ERR_INVALID_ARGUMENT naming what it cannot read.
std::vector<DeviceBudget> device_budgets(std::string_view devices, std::string_view max_memory,
                                         int64_t (*default_gpu_bytes)(DeviceId));

// The memory plan: embedding and head on the first GPU, then layers in
// order on the first device with room for their weights and KV cache.
// Fails with GPTQ_ERR_OUT_OF_MEMORY naming the bytes needed and the budget
// of each device when the model does not fit.
Placement plan_by_memory(const PartCosts& costs, const std::vector<DeviceBudget>& budgets, FloatType gpu_compute);

}  // namespace gptq
