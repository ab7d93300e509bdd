#include "driver/harness.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#if defined(PENG_BENCH_WITH_TBBMALLOC)
#include <oneapi/tbb/scalable_allocator.h>
#endif

namespace peng_bench {

uint32_t TaskCount() {
  static const uint32_t count = [] {
    const char* env = std::getenv("PENG_BENCH_TASKS");
    if (!env || !*env) return 200000u;
    long v = std::strtol(env, nullptr, 10);
    return v > 0 ? uint32_t(v) : 200000u;
  }();
  return count;
}

double MinTimeSeconds() {
  const char* env = std::getenv("PENG_BENCH_MIN_TIME");
  return env && *env ? std::strtod(env, nullptr) : 0.0;
}

// ------------------------------------------------------------------ timing

void PerTaskTimer::Mark(const char* phase) {
  double now = watch_.ElapsedNs();
  double spent = now - last_mark_ns_;
  last_mark_ns_ = now;
  for (auto& [name, ns] : phases_) {
    if (name == phase) {
      ns += spent;
      return;
    }
  }
  phases_.emplace_back(phase, spent);
}

void PerTaskTimer::Stop() {
  double ns = watch_.ElapsedNs();
  total_ns_ += ns;
  ++iterations_;
  state_.SetIterationTime(ns * 1e-9);
}

PerTaskTimer::~PerTaskTimer() {
  if (iterations_ == 0 || tasks_ == 0) return;
  double tasks = double(iterations_) * double(tasks_);
  state_.counters["ns_per_task"] = benchmark::Counter(total_ns_ / tasks);
  if (per_iteration_) {
    state_.counters[per_iteration_] = benchmark::Counter(total_ns_ / double(iterations_));
  }
  for (const auto& [name, ns] : phases_) {
    state_.counters[name + "_ns_per_task"] = benchmark::Counter(ns / tasks);
  }
  state_.SetItemsProcessed(int64_t(tasks));
}

// ------------------------------------------------------------------ memory

MemorySample SampleMemory() {
  MemorySample s;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 mi = mallinfo2();
  s.heap_bytes = int64_t(mi.uordblks + mi.hblkhd);
#endif
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    long size = 0, resident = 0;
    if (std::fscanf(f, "%ld %ld", &size, &resident) == 2) {
      s.rss_bytes = int64_t(resident) * int64_t(sysconf(_SC_PAGESIZE));
    }
    std::fclose(f);
  }
  return s;
}

void TrimMemory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
#if defined(PENG_BENCH_WITH_TBBMALLOC)
  scalable_allocation_command(TBBMALLOC_CLEAN_ALL_BUFFERS, nullptr);
#endif
}

void PerTaskMemory::Baseline() {
  TrimMemory();
  base_ = SampleMemory();
}

void PerTaskMemory::Sample(const std::string& prefix) {
  MemorySample now = SampleMemory();
  std::string p = prefix.empty() ? "" : prefix + "_";
  results_.emplace_back(p + "bytes_per_task",
                        double(now.heap_bytes - base_.heap_bytes) / double(tasks_));
  results_.emplace_back(p + "rss_bytes_per_task",
                        double(now.rss_bytes - base_.rss_bytes) / double(tasks_));
}

}  // namespace peng_bench
