#include "core/log.h"

#include <atomic>
#include <mutex>

namespace gptq {
namespace {

struct LogSink {
  std::mutex mutex;
  gptq_log_fn callback = nullptr;
  void* user_data = nullptr;
  std::atomic<int> min_level{GPTQ_LOG_NONE};
};

LogSink& sink() {
  static LogSink instance;
  return instance;
}

}  // namespace

bool log_enabled(gptq_log_level level) {
  return static_cast<int>(level) >= sink().min_level.load(std::memory_order_relaxed);
}

void log_message(gptq_log_level level, const std::string& message) {
  LogSink& s = sink();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.callback != nullptr && static_cast<int>(level) >= s.min_level.load()) {
    s.callback(level, message.c_str(), s.user_data);
  }
}

void set_log_callback(gptq_log_fn callback, void* user_data, int min_level) {
  LogSink& s = sink();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.callback = callback;
  s.user_data = user_data;
  s.min_level.store(callback == nullptr ? GPTQ_LOG_NONE : min_level);
}

}  // namespace gptq
