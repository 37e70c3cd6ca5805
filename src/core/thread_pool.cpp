#include "core/thread_pool.h"

#include <sched.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <string>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define GPTQ_CPU_RELAX() _mm_pause()
#else
#define GPTQ_CPU_RELAX() std::this_thread::yield()
#endif

namespace gptq {
namespace {

// Set on pool threads so that a nested run() executes inline instead of
// waiting on itself.
thread_local bool t_inside_pool_job = false;

// Spin iterations before a worker sleeps: long enough to bridge the gap
// between the steps of one decoded token, short enough not to burn a core.
constexpr int kSpinIterations = 1 << 16;

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)) {
  workers_.reserve(n_threads_ - 1);
  for (int t = 1; t < n_threads_; ++t) workers_.emplace_back([this, t] { worker_loop(t); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::run_task(int thread) {
  t_inside_pool_job = true;
  try {
    task_fn_(task_ctx_, thread);
  } catch (...) {
    std::lock_guard<std::mutex> lock(error_mutex_);
    if (!error_) error_ = std::current_exception();
  }
  t_inside_pool_job = false;
}

void ThreadPool::worker_loop(int thread) {
  uint32_t seen = 0;
  for (;;) {
    uint32_t current = generation_.load(std::memory_order_acquire);
    for (int spin = 0; current == seen && spin < kSpinIterations; ++spin) {
      GPTQ_CPU_RELAX();
      current = generation_.load(std::memory_order_acquire);
    }
    if (current == seen) {
      generation_.wait(seen, std::memory_order_acquire);
      continue;
    }
    seen = current;
    if (stop_.load()) return;
    run_task(thread);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::dispatch(TaskFn fn, void* ctx) {
  if (n_threads_ == 1 || t_inside_pool_job) {
    for (int t = 0; t < n_threads_; ++t) fn(ctx, t);
    return;
  }
  std::lock_guard<std::mutex> lock(dispatch_mutex_);
  task_fn_ = fn;
  task_ctx_ = ctx;
  error_ = nullptr;
  pending_.store(n_threads_ - 1, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  run_task(0);
  while (pending_.load(std::memory_order_acquire) != 0) GPTQ_CPU_RELAX();
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

int default_thread_count() {
  cpu_set_t set;
  int allowed = 0;
  if (sched_getaffinity(0, sizeof set, &set) == 0) allowed = CPU_COUNT(&set);
  if (allowed <= 0) allowed = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // Count distinct physical cores; SMT siblings share one core's FMA units.
  std::set<std::string> cores;
  for (int cpu = 0; cpu < CPU_SETSIZE && static_cast<int>(cores.size()) < 4096; ++cpu) {
    if (!CPU_ISSET(cpu, &set)) continue;
    std::ifstream siblings("/sys/devices/system/cpu/cpu" + std::to_string(cpu) +
                           "/topology/thread_siblings_list");
    std::string list;
    if (!(siblings >> list)) return allowed;
    cores.insert(list);
  }
  return cores.empty() ? allowed : std::min<int>(allowed, static_cast<int>(cores.size()));
}

}  // namespace gptq
