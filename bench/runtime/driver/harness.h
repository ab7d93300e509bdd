// The shared harness of peng-bench-runtime: problem sizes, the per-iteration
// clock, per-task counters, memory probes and the task bodies every
// implementation runs. Each family's implementations use it the same way:
//
//   void MyFamily::Impl(benchmark::State& state) {
//     RunGuarded(state, [&] {
//       const uint32_t n = TaskCount();
//       VerifyCount(n, [&] { /* one pass whose tasks call CountTask() */ });
//       PerTaskTimer timer(state, n);
//       for (auto _ : state) {
//         timer.Start();
//         /* build, submit, wait: n tasks */
//         timer.Stop();
//       }
//     });
//   }
//
// Benchmarks run with manual timing (UseManualTime): the timer measures wall
// time around the region each benchmark names, and reports ns_per_task.
#pragma once

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/guard.h"

namespace peng_bench {

// Every runtime runs its tasks on this many threads.
constexpr int kThreads = 2;

// Tasks per iteration of the 200k-task families: PENG_BENCH_TASKS, default 200000.
uint32_t TaskCount();
// Minimum time per benchmark (seconds) from PENG_BENCH_MIN_TIME; <= 0 if unset.
double MinTimeSeconds();

// A failed setup or a wrong task count: BenchError inside RunGuarded
// (bench/common/guard.h) reports it and stops the benchmark.

// ------------------------------------------------------------- task bodies

// The verification body: counts executed tasks. The timed runs use empty
// bodies; a verification pass before them proves the same code runs every task.
inline std::atomic<uint64_t> g_executed{0};
inline void CountTask() { g_executed.fetch_add(1, std::memory_order_relaxed); }
// Resets the counter, runs one pass, and throws unless `expected` tasks ran.
template <typename F>
void VerifyCount(uint64_t expected, F&& one_pass) {
  g_executed.store(0);
  one_pass();
  uint64_t got = g_executed.load();
  if (got != expected) {
    throw BenchError("verification: " + std::to_string(got) + " tasks ran, expected " +
                     std::to_string(expected));
  }
}

// ------------------------------------------------------------------ timing

class Stopwatch {
 public:
  Stopwatch() : start_(Clock::now()) {}
  void Reset() { start_ = Clock::now(); }
  // Nanoseconds since construction or the last Reset.
  double ElapsedNs() const {
    return std::chrono::duration<double, std::nano>(Clock::now() - start_).count();
  }

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point start_;
};

// Times one region per iteration and, when destroyed, reports
//   ns_per_task = total time / (iterations * tasks_per_iteration)
// and items_per_second. Mark("build") inside the region ends a phase and
// adds build_ns_per_task (time since Start or the previous Mark). With
// per_iteration_counter set, it also reports that counter as ns per iteration.
class PerTaskTimer {
 public:
  PerTaskTimer(benchmark::State& state, uint64_t tasks_per_iteration,
               const char* per_iteration_counter = nullptr)
      : state_(state), tasks_(tasks_per_iteration), per_iteration_(per_iteration_counter) {}
  ~PerTaskTimer();
  PerTaskTimer(const PerTaskTimer&) = delete;
  PerTaskTimer& operator=(const PerTaskTimer&) = delete;

  void Start() {
    last_mark_ns_ = 0;
    watch_.Reset();
  }
  void Mark(const char* phase);
  void Stop();

 private:
  benchmark::State& state_;
  uint64_t tasks_;
  const char* per_iteration_;
  Stopwatch watch_;
  double total_ns_ = 0;
  uint64_t iterations_ = 0;
  double last_mark_ns_ = 0;
  std::vector<std::pair<std::string, double>> phases_;
};

// ------------------------------------------------------------------ memory

// Heap in use by malloc (glibc mallinfo2: uordblks + hblkhd) and the
// process's resident set. mallinfo2 counts the main arena and mmapped
// blocks, which covers allocations made by the main (submitting) thread; it
// does not see oneTBB's own allocator (tbbmalloc), which task_group uses for
// its tasks. The resident-set delta sees everything that touched new pages.
struct MemorySample {
  int64_t heap_bytes = 0;
  int64_t rss_bytes = 0;
};
MemorySample SampleMemory();
// Hands cached free memory back to the system (malloc_trim, tbbmalloc's
// buffers), so that a following resident-set delta means new memory.
void TrimMemory();

// Per-task memory growth since Baseline(): Sample() records bytes_per_task
// (heap) and rss_bytes_per_task; Sample("graph") records graph_bytes_per_task
// and graph_rss_bytes_per_task. A measurement function fills one of these;
// the driver runs it in a fresh process (see driver/fresh_process.h) and
// turns results() into counters.
class PerTaskMemory {
 public:
  explicit PerTaskMemory(uint64_t tasks) : tasks_(tasks) {}

  void Baseline();
  void Sample(const std::string& prefix = "");
  // A label for the benchmark (the StarPU policy, for instance).
  void SetLabel(std::string label) { label_ = std::move(label); }

  const std::vector<std::pair<std::string, double>>& results() const { return results_; }
  const std::string& label() const { return label_; }

 private:
  uint64_t tasks_;
  MemorySample base_;
  std::vector<std::pair<std::string, double>> results_;
  std::string label_;
};

// One memory measurement of n tasks; throws BenchError on failure.
using MemoryMeasurement = void (*)(PerTaskMemory& memory, uint32_t n);

}  // namespace peng_bench
