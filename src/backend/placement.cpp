#include "backend/placement.h"

#include <algorithm>

namespace gptq {

int32_t Placement::n_gpu_layers() const {
  return static_cast<int32_t>(std::count_if(layers.begin(), layers.end(), [](DeviceId d) { return d.is_gpu(); }));
}

std::optional<DeviceId> Placement::gpu() const {
  if (embedding.is_gpu()) return embedding;
  for (DeviceId d : layers) {
    if (d.is_gpu()) return d;
  }
  if (head.is_gpu()) return head;
  return std::nullopt;
}

std::string Placement::summary() const {
  const std::optional<DeviceId> g = gpu();
  if (!g) return "cpu";
  const bool all_gpu = embedding.is_gpu() && head.is_gpu() && n_gpu_layers() == static_cast<int32_t>(layers.size());
  return all_gpu ? device_name(*g) : device_name(*g) + "+cpu";
}

std::string Placement::describe() const {
  std::string out = "embedding=" + device_name(embedding);
  for (size_t first = 0; first < layers.size();) {
    size_t last = first;
    while (last + 1 < layers.size() && layers[last + 1] == layers[first]) ++last;
    out += " layers[" + std::to_string(first) + (last > first ? "-" + std::to_string(last) : "") +
           "]=" + device_name(layers[first]);
    first = last + 1;
  }
  return out + " head=" + device_name(head);
}

Placement plan_placement(int64_t n_layers, DeviceId device, int32_t n_gpu_layers, FloatType gpu_compute) {
  Placement p;
  p.gpu_compute = gpu_compute;
  p.layers.assign(static_cast<size_t>(n_layers), kCpu);
  if (!device.is_gpu()) return p;
  const int64_t on_gpu = n_gpu_layers < 0 ? n_layers : std::min<int64_t>(n_gpu_layers, n_layers);
  for (int64_t l = n_layers - on_gpu; l < n_layers; ++l) p.layers[static_cast<size_t>(l)] = device;
  p.embedding = on_gpu == n_layers ? device : kCpu;
  p.head = on_gpu > 0 ? device : kCpu;
  return p;
}

}  // namespace gptq
