#include "backend/device.h"

#include <charconv>

#include "core/error.h"

namespace gptq {

std::string device_name(DeviceId device) {
  if (!device.is_gpu()) return "cpu";
  return "cuda:" + std::to_string(device.index);
}

namespace {

DeviceId require_gpu(int32_t index, std::string_view spec) {
  const int count = gpu::device_count();
  if (count == 0) {
    fail(GPTQ_ERR_UNSUPPORTED, "device '", spec, "' is not available: ", gpu::unavailable_reason());
  }
  if (index >= count) {
    fail(GPTQ_ERR_UNSUPPORTED, "device '", spec, "' is not available: this machine has ", count, " GPU",
         count == 1 ? "" : "s", " (cuda:0", count > 1 ? str_cat(" .. cuda:", count - 1) : std::string(), ")");
  }
  if (const std::string why = gpu::unsupported_reason(index); !why.empty()) {
    fail(GPTQ_ERR_UNSUPPORTED, "device '", spec, "' cannot run libgptq's kernels: ", why);
  }
  return DeviceId{DeviceKind::Gpu, index};
}

}  // namespace

DeviceId resolve_device(std::string_view spec) {
  if (spec.empty() || spec == "cpu") return kCpu;
  if (spec == "auto") {
    if (gpu::device_count() > 0 && gpu::unsupported_reason(0).empty()) return DeviceId{DeviceKind::Gpu, 0};
    return kCpu;
  }
  if (spec == "cuda" || spec == "gpu") return require_gpu(0, spec);
  for (std::string_view prefix : {"cuda:", "gpu:"}) {
    if (!spec.starts_with(prefix)) continue;
    const std::string_view digits = spec.substr(prefix.size());
    int32_t index = -1;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (ec != std::errc() || end != digits.data() + digits.size() || index < 0 || digits.empty()) break;
    return require_gpu(index, spec);
  }
  fail(GPTQ_ERR_INVALID_ARGUMENT, "unknown device '", spec, "': use \"cpu\", \"cuda\", \"cuda:N\" or \"auto\"");
}

}  // namespace gptq
