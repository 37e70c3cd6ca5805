#include "core/thread_pool.h"

#include <sched.h>
#include <unistd.h>

#include <chrono>
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

// Between jobs a worker spins (pause) for a while, then also yields the
// core to anything else runnable, then sleeps on the futex. The spin
// bridges the gaps between the steps of one decoded token; yielding keeps a
// busy or oversubscribed machine moving.
constexpr auto kSpinFor = std::chrono::microseconds(50);
constexpr auto kYieldFor = std::chrono::microseconds(2000);

constexpr uint64_t kField = 0xffff;
constexpr uint32_t job_generation(uint64_t job) { return static_cast<uint32_t>(job >> 32); }
constexpr uint64_t job_claimed(uint64_t job) { return (job >> 16) & kField; }
constexpr uint64_t job_finished(uint64_t job) { return job & kField; }

// Waits until done() holds: spin first, then yield the core between checks.
template <typename Done>
void wait_until(Done&& done, std::chrono::microseconds spin_for, std::chrono::microseconds yield_for,
                bool* timed_out) {
  const auto start = std::chrono::steady_clock::now();
  for (uint32_t i = 1;; ++i) {
    if (done()) return;
    if ((i & 63) != 0) {
      GPTQ_CPU_RELAX();
      continue;
    }
    const auto waited = std::chrono::steady_clock::now() - start;
    if (waited >= yield_for) {
      *timed_out = true;
      return;
    }
    if (waited >= spin_for) {
      sched_yield();
    } else {
      GPTQ_CPU_RELAX();
    }
  }
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::clamp(n_threads, 1, static_cast<int>(kField))) {
  workers_.reserve(n_threads_ - 1);
  for (int t = 1; t < n_threads_; ++t) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  wake_.fetch_add(1);
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::run_slot(int slot) {
  t_inside_pool_job = true;
  try {
    task_fn_(task_ctx_, slot);
  } catch (...) {
    std::lock_guard<std::mutex> lock(error_mutex_);
    if (!error_) error_ = std::current_exception();
  }
  t_inside_pool_job = false;
}

void ThreadPool::participate(uint32_t generation) {
  uint64_t job = job_.load(std::memory_order_acquire);
  for (;;) {
    if (job_generation(job) != generation || job_claimed(job) >= static_cast<uint64_t>(n_threads_)) return;
    // Claiming (acquire) orders the reads of task_fn_/task_ctx_ after the
    // caller published them; the caller cannot return, and so cannot
    // publish the next job, until this slot is counted finished.
    if (!job_.compare_exchange_weak(job, job + (uint64_t{1} << 16), std::memory_order_acquire,
                                    std::memory_order_acquire)) {
      continue;
    }
    run_slot(static_cast<int>(job_claimed(job)));
    job = job_.fetch_add(1, std::memory_order_acq_rel) + 1;
  }
}

void ThreadPool::worker_loop() {
  uint32_t seen = 0;
  for (;;) {
    uint32_t current = wake_.load(std::memory_order_acquire);
    if (current == seen) {
      bool idle = false;
      wait_until([&] { return (current = wake_.load(std::memory_order_acquire)) != seen; }, kSpinFor, kYieldFor,
                 &idle);
      if (idle) {
        // Announce the sleep before the last look at wake_: dispatch()
        // publishes wake_ before it reads sleepers_ (both seq_cst), so one
        // of the two sees the other and no wake-up is lost.
        sleepers_.fetch_add(1);
        if (wake_.load() == seen) wake_.wait(seen);
        sleepers_.fetch_sub(1);
        continue;
      }
    }
    seen = current;
    if (stop_.load()) return;
    participate(current);
  }
}

void ThreadPool::dispatch(TaskFn fn, void* ctx) {
  if (n_threads_ == 1 || t_inside_pool_job) {
    std::exception_ptr first_error;
    for (int t = 0; t < n_threads_; ++t) {
      try {
        fn(ctx, t);
      } catch (...) {
        if (!first_error) first_error = std::current_exception();
      }
    }
    if (first_error) std::rethrow_exception(first_error);
    return;
  }
  std::lock_guard<std::mutex> lock(dispatch_mutex_);
  task_fn_ = fn;
  task_ctx_ = ctx;
  error_ = nullptr;
  // Slot 0 is the caller's (claimed up front); it then helps with the rest.
  const uint32_t generation = job_generation(job_.load(std::memory_order_relaxed)) + 1;
  job_.store(uint64_t{generation} << 32 | uint64_t{1} << 16, std::memory_order_release);
  wake_.store(generation);
  if (sleepers_.load() > 0) wake_.notify_all();
  run_slot(0);
  job_.fetch_add(1, std::memory_order_acq_rel);
  participate(generation);
  // Every slot is claimed now; wait for the ones workers are still running.
  const uint64_t all = static_cast<uint64_t>(n_threads_);
  for (;;) {
    bool slow = false;
    wait_until([&] { return job_finished(job_.load(std::memory_order_acquire)) == all; }, kSpinFor, kYieldFor,
               &slow);
    if (!slow) break;
  }
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
