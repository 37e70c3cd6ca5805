// Version, errors, logging and capabilities.
#include <string>

#include "api/guard.h"
#include "core/log.h"
#include "core/thread_pool.h"
#include "kernels/cpu/cpu_kernels.h"

namespace gptq::api {
namespace {
thread_local std::string t_last_error;
}

void set_last_error(const std::string& message) { t_last_error = message; }
void clear_last_error() { t_last_error.clear(); }

}  // namespace gptq::api

using namespace gptq;

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
  const cpu::Isa isa = cpu::active_isa();
  if (isa >= cpu::Isa::Avx2) features |= GPTQ_FEATURE_AVX2;
  if (isa >= cpu::Isa::Avx512) features |= GPTQ_FEATURE_AVX512;
  return features;
}

const char* gptq_system_info(void) {
  static const std::string info = str_cat("libgptq ", GPTQ_VERSION_STRING, " cpu=", cpu::isa_name(cpu::active_isa()),
                                          " threads=", default_thread_count(), " cuda=no");
  return info.c_str();
}

}  // extern "C"
