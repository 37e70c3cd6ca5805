// Logging goes through the callback the host installed with gptq_log_set;
// the library never writes to stderr on its own.
#pragma once

#include <string>

#include "core/error.h"

namespace gptq {

void log_message(gptq_log_level level, const std::string& message);
bool log_enabled(gptq_log_level level);

template <typename... Parts>
void log_debug(const Parts&... parts) {
  if (log_enabled(GPTQ_LOG_DEBUG)) log_message(GPTQ_LOG_DEBUG, str_cat(parts...));
}
template <typename... Parts>
void log_info(const Parts&... parts) {
  if (log_enabled(GPTQ_LOG_INFO)) log_message(GPTQ_LOG_INFO, str_cat(parts...));
}
template <typename... Parts>
void log_warn(const Parts&... parts) {
  if (log_enabled(GPTQ_LOG_WARN)) log_message(GPTQ_LOG_WARN, str_cat(parts...));
}

}  // namespace gptq

namespace gptq {
// Installs the process-wide sink (gptq_log_set).
void set_log_callback(gptq_log_fn callback, void* user_data, int min_level);
}  // namespace gptq
