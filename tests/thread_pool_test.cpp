// ThreadPool: every thread runs, exceptions come back to the caller, nested
// and concurrent use neither deadlocks nor loses work, and a long run of
// tiny jobs (the decode pattern) finishes.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/thread_pool.h"

namespace gptq {
namespace {

TEST(ThreadPool, RunCallsEveryThreadOnce) {
  for (int n : {1, 2, 3, 5}) {
    ThreadPool pool(n);
    EXPECT_EQ(pool.size(), n);
    std::vector<std::atomic<int>> calls(n);
    pool.run([&](int thread) { calls.at(thread).fetch_add(1); });
    for (int t = 0; t < n; ++t) EXPECT_EQ(calls[t].load(), 1) << "thread " << t << " of " << n;
  }
}

TEST(ThreadPool, SlotZeroRunsOnTheCaller) {
  ThreadPool pool(3);
  for (int job = 0; job < 1000; ++job) {
    std::thread::id slot0;
    pool.run([&](int slot) {
      if (slot == 0) slot0 = std::this_thread::get_id();
    });
    ASSERT_EQ(slot0, std::this_thread::get_id());
  }
}

TEST(ThreadPool, ParallelForCoversEveryIndexOnce) {
  ThreadPool pool(3);
  for (int64_t n : {0, 1, 2, 7, 100, 1001}) {
    for (int64_t grain : {1, 3, 64, 5000}) {
      std::vector<std::atomic<int>> hits(n);
      pool.parallel_for(n, grain, [&](int64_t begin, int64_t end, int thread) {
        EXPECT_LE(0, begin);
        EXPECT_LT(begin, end);
        EXPECT_LE(end, n);
        EXPECT_LT(thread, pool.size());
        for (int64_t i = begin; i < end; ++i) hits[i].fetch_add(1);
      });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "n=" << n << " grain=" << grain << " i=" << i;
    }
  }
}

TEST(ThreadPool, ExceptionFromAWorkerReachesTheCaller) {
  ThreadPool pool(3);
  EXPECT_THROW(pool.run([](int thread) {
    if (thread == 2) throw std::runtime_error("worker");
  }),
               std::runtime_error);
  // The pool is still usable afterwards.
  std::atomic<int> count{0};
  pool.run([&](int) { count.fetch_add(1); });
  EXPECT_EQ(count.load(), 3);
}

TEST(ThreadPool, ExceptionFromTheCallerThreadWaitsForWorkers) {
  ThreadPool pool(2);
  std::atomic<bool> worker_done{false};
  EXPECT_THROW(pool.run([&](int thread) {
    if (thread == 0) throw std::logic_error("caller");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    worker_done.store(true);
  }),
               std::logic_error);
  // run() must not return while a worker still uses the job's state.
  EXPECT_TRUE(worker_done.load());
}

TEST(ThreadPool, ExceptionsFromEveryThreadRethrowOne) {
  ThreadPool pool(4);
  for (int i = 0; i < 50; ++i) {
    EXPECT_THROW(pool.parallel_for(100, 1, [](int64_t, int64_t, int) { throw std::runtime_error("all"); }),
                 std::runtime_error);
  }
}

TEST(ThreadPool, NestedUseRunsInlineWithoutDeadlock) {
  ThreadPool pool(2);
  std::atomic<int> inner{0};
  pool.run([&](int) {
    pool.run([&](int) { inner.fetch_add(1); });
    pool.parallel_for(10, 1, [&](int64_t b, int64_t e, int) { inner.fetch_add(static_cast<int>(e - b)); });
  });
  EXPECT_EQ(inner.load(), 2 * (2 + 10));
}

TEST(ThreadPool, ConcurrentCallersAreSerialized) {
  ThreadPool pool(2);
  std::atomic<int64_t> total{0};
  auto caller = [&] {
    for (int i = 0; i < 2000; ++i) pool.parallel_for(8, 1, [&](int64_t b, int64_t e, int) { total.fetch_add(e - b); });
  };
  std::thread a(caller), b(caller);
  a.join();
  b.join();
  EXPECT_EQ(total.load(), 2 * 2000 * 8);
}

TEST(ThreadPool, ManyTinyJobsFinish) {
  ThreadPool pool(3);
  int64_t sum = 0;
  std::vector<int64_t> partial(3);
  for (int job = 0; job < 200000; ++job) {
    pool.run([&](int thread) { partial[thread] = thread + job; });
    sum += partial[0] + partial[1] + partial[2];
  }
  int64_t expected = 0;
  for (int64_t job = 0; job < 200000; ++job) expected += 3 * job + 3;
  EXPECT_EQ(sum, expected);
}

TEST(ThreadPool, JobsAfterWorkersFellAsleepStillRun) {
  ThreadPool pool(2);
  std::atomic<int> count{0};
  for (int i = 0; i < 3; ++i) {
    // Long enough for the workers to stop spinning and wait on the futex.
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    pool.run([&](int) { count.fetch_add(1); });
  }
  EXPECT_EQ(count.load(), 6);
}

TEST(ThreadPool, DestroyWhileIdleAndRightAfterAJob) {
  for (int i = 0; i < 100; ++i) {
    ThreadPool pool(3);
    if (i % 2 == 0) pool.run([](int) {});
  }
}

}  // namespace
}  // namespace gptq
