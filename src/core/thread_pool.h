// A fixed set of worker threads that run one data-parallel job at a time.
//
// Decoding a token runs a few dozen short parallel steps, each only
// microseconds long, so workers spin briefly between jobs, then yield the
// core for a while, before they sleep (futex wait); a job then starts
// without a system call. The calling thread takes part as thread 0.
//
// A job is size() slots, body(slot) each. The caller runs slot 0; the
// others go to whoever claims them first (workers as they arrive, or the
// caller once done with its own), and the caller, once out of slots to
// claim, waits only for slots already being run. So a worker that the OS
// has not scheduled yet never holds a job up: with more threads than free
// cores the caller runs the missing slots itself instead of spinning until
// the scheduler gets round to the worker.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace gptq {

class ThreadPool {
 public:
  // n_threads counts the caller; 1 means no worker threads.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls body(slot) once for each slot in [0, size()), spread over the
  // threads, and returns when all have finished. Slot 0 runs on the calling
  // thread; the others are not tied to a particular thread, but no two run
  // at once under the same index, so a slot may index per-thread state. An
  // exception from any slot is rethrown here (the first one; all slots
  // still run to completion).
  template <typename Body>
  void run(Body&& body) {
    using Fn = std::remove_reference_t<Body>;
    dispatch([](void* ctx, int thread) { (*static_cast<Fn*>(ctx))(thread); }, &body);
  }

  // Splits [0, n) into chunks of at least `grain` and calls
  // body(begin, end, thread_index) for each chunk, handing chunks out
  // dynamically so uneven work still balances.
  template <typename Body>
  void parallel_for(int64_t n, int64_t grain, Body&& body) {
    if (n <= 0) return;
    grain = std::max<int64_t>(grain, 1);
    const int64_t max_chunks = (n + grain - 1) / grain;
    if (n_threads_ == 1 || max_chunks == 1) {
      body(int64_t{0}, n, 0);
      return;
    }
    // About four chunks per thread balances load without much overhead.
    const int64_t chunks = std::min<int64_t>(max_chunks, int64_t{4} * n_threads_);
    const int64_t chunk = (n + chunks - 1) / chunks;
    std::atomic<int64_t> next{0};
    run([&](int thread) {
      for (;;) {
        const int64_t begin = next.fetch_add(chunk, std::memory_order_relaxed);
        if (begin >= n) break;
        body(begin, std::min(n, begin + chunk), thread);
      }
    });
  }

  // Splits [0, n) into size() nearly equal contiguous ranges, one per thread.
  static void static_range(int64_t n, int thread, int n_threads, int64_t* begin, int64_t* end) {
    const int64_t base = n / n_threads, extra = n % n_threads;
    *begin = thread * base + std::min<int64_t>(thread, extra);
    *end = *begin + base + (thread < extra ? 1 : 0);
  }

 private:
  using TaskFn = void (*)(void* ctx, int thread);
  void dispatch(TaskFn fn, void* ctx);
  void worker_loop();
  // Claims and runs slots of job `generation` until none is left.
  void participate(uint32_t generation);
  void run_slot(int slot);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex dispatch_mutex_;  // one job at a time, even from several callers
  TaskFn task_fn_ = nullptr;
  void* task_ctx_ = nullptr;
  // The job's state in one word, so claiming a slot and finishing one are
  // single atomic steps: generation << 32 | claimed << 16 | finished.
  alignas(64) std::atomic<uint64_t> job_{0};
  // The futex word sleeping workers wait on (the generation of the latest
  // job), and how many are asleep: a job only pays for a wake-up system
  // call when someone sleeps.
  alignas(64) std::atomic<uint32_t> wake_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  std::mutex error_mutex_;
  std::exception_ptr error_;
};

// Threads worth using by default: physical cores available to this process.
int default_thread_count();

}  // namespace gptq
