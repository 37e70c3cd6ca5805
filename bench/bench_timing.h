// Timing helpers for the benchmarks: best-of-many call times and per-step
// best times of a repeated pass, for a machine shared with other work.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace bench {

inline double g_min_seconds = 0.3;

// Best time of one call of fn, over batches filling g_min_seconds.
inline double time_call(const std::function<void()>& fn) {
  fn();  // warm up (page faults, scratch allocation)
  double best = 1e30, total = 0.0;
  while (total < g_min_seconds) {
    int reps = 1;
    double seconds = 0.0;
    for (;;) {
      const auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < reps; ++i) fn();
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (seconds > 5e-4) break;
      reps *= 2;
    }
    best = std::min(best, seconds / reps);
    total += seconds;
  }
  return best;
}

// Per-step best times over repeated runs of one pass. On a shared machine a
// 60 ms pass rarely runs whole without another process taking a core, but
// each of its steps does at some point: the sum of the steps' best times is
// the pass's time on a quiet machine. (The whole pass's best is shown too.)
class StepTimes {
 public:
  template <typename Step>
  void operator()(Step&& step) {
    const auto start = std::chrono::steady_clock::now();
    step();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (next_ == best_.size()) best_.push_back(s);
    best_[next_] = std::min(best_[next_], s);
    ++next_;
  }
  void new_pass() { next_ = 0; }
  double total() const {
    double sum = 0;
    for (double s : best_) sum += s;
    return sum;
  }

 private:
  std::vector<double> best_;
  size_t next_ = 0;
};

}  // namespace bench
