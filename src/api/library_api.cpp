// Version, errors, logging and capabilities.
#include <string>
#include <string_view>
#include <vector>

#include "api/guard.h"
#include "backend/device.h"
#include "core/log.h"
#include "core/thread_pool.h"

namespace gptq::api {
namespace {
thread_local std::string t_last_error;
}

void set_last_error(const std::string& message) { t_last_error = message; }
void clear_last_error() { t_last_error.clear(); }

}  // namespace gptq::api

using namespace gptq;

namespace {

// The GPU queries ask a driver; nothing they throw may cross the C boundary.
template <typename T, typename Query>
T or_fallback(Query&& query, T fallback) noexcept {
  try {
    return query();
  } catch (...) {
    return fallback;
  }
}

// Built once: the strings must stay valid for the caller forever.
const std::vector<std::string>& device_descriptions() {
  static const std::vector<std::string> descriptions = or_fallback(
      [] {
        std::vector<std::string> all;
        for (int i = 0; i < gpu::device_count(); ++i) all.push_back(gpu::device_description(i));
        return all;
      },
      std::vector<std::string>());
  return descriptions;
}

std::string gpu_summary() {
  const std::string_view runtime = gpu::runtime_name();
  std::string out = runtime.empty() ? "cuda=no" : str_cat(runtime, "=yes");
  const std::vector<std::string>& gpus = device_descriptions();
  if (gpus.empty()) return str_cat(out, " gpu=none (", gpu::unavailable_reason(), ")");
  out += " gpus=[";
  for (size_t i = 0; i < gpus.size(); ++i) out += str_cat(i > 0 ? "; " : "", i, ": ", gpus[i]);
  return out + "]";
}

}  // namespace

extern "C" {

uint32_t gptq_version(void) { return GPTQ_VERSION_NUMBER; }

const char* gptq_version_string(void) { return GPTQ_VERSION_STRING; }

const char* gptq_last_error(void) { return api::t_last_error.c_str(); }

const char* gptq_status_name(gptq_status status) {
  switch (status) {
    case GPTQ_OK: return "GPTQ_OK";
    case GPTQ_ERR_INVALID_ARGUMENT: return "GPTQ_ERR_INVALID_ARGUMENT";
    case GPTQ_ERR_NOT_FOUND: return "GPTQ_ERR_NOT_FOUND";
    case GPTQ_ERR_IO: return "GPTQ_ERR_IO";
    case GPTQ_ERR_FORMAT: return "GPTQ_ERR_FORMAT";
    case GPTQ_ERR_UNSUPPORTED: return "GPTQ_ERR_UNSUPPORTED";
    case GPTQ_ERR_OUT_OF_MEMORY: return "GPTQ_ERR_OUT_OF_MEMORY";
    case GPTQ_ERR_BUFFER_TOO_SMALL: return "GPTQ_ERR_BUFFER_TOO_SMALL";
    case GPTQ_ERR_CANCELLED: return "GPTQ_ERR_CANCELLED";
    case GPTQ_ERR_CONTEXT_FULL: return "GPTQ_ERR_CONTEXT_FULL";
    case GPTQ_ERR_DEVICE: return "GPTQ_ERR_DEVICE";
    case GPTQ_ERR_INTERNAL: return "GPTQ_ERR_INTERNAL";
  }
  return "GPTQ_ERR_UNKNOWN";
}

void gptq_log_set(gptq_log_fn callback, void* user_data, int32_t min_level) {
  set_log_callback(callback, user_data, min_level);
}

uint32_t gptq_features(void) {
  uint32_t features = 0;
  const CpuKernels cpu = cpu_kernels();
  if (cpu.avx2) features |= GPTQ_FEATURE_AVX2;
  if (cpu.avx512) features |= GPTQ_FEATURE_AVX512;
  const std::string_view runtime = gpu::runtime_name();
  if (runtime == "cuda") features |= GPTQ_FEATURE_CUDA;
  if (runtime == "hip") features |= GPTQ_FEATURE_HIP;
  return features;
}

const char* gptq_system_info(void) {
  static const std::string info = or_fallback(
      [] {
        return str_cat("libgptq ", GPTQ_VERSION_STRING, " cpu=", cpu_kernels().isa,
                       " threads=", default_thread_count(), " ", gpu_summary());
      },
      std::string("libgptq " GPTQ_VERSION_STRING));
  return info.c_str();
}

int32_t gptq_device_count(void) { return static_cast<int32_t>(device_descriptions().size()); }

const char* gptq_device_name(int32_t index) {
  const std::vector<std::string>& gpus = device_descriptions();
  if (index < 0 || static_cast<size_t>(index) >= gpus.size()) return nullptr;
  return gpus[static_cast<size_t>(index)].c_str();
}

}  // extern "C"
