// The shared harness of peng-bench-opencl: sizes, errors, the per-launch
// clock and the OpenCL C that both Peng and raw OpenCL run. Every benchmark
// has the same shape:
//
//   void Impl(benchmark::State& state) {
//     RunGuarded(state, [&] {
//       /* one verification pass of the marker kernel through the same path */
//       LaunchTimer timer(state, launches_per_iteration);
//       for (auto _ : state) {
//         timer.Start();
//         /* launch the empty kernel, wait for it */
//         timer.Stop();
//       }
//     });
//   }
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/guard.h"

namespace peng_bench_ocl {

// Launches per iteration of the launch_10k family: PENG_BENCH_TASKS, default 10000.
uint32_t ManyCount();
// Minimum time per benchmark (seconds) from PENG_BENCH_MIN_TIME; <= 0 if unset.
double MinTimeSeconds();

// A failed setup or a wrong result: bench/common/guard.h (main() exits 1
// when one benchmark failed, so the ctest smoke test fails on it).
using peng_bench::AnyFailed;
using peng_bench::BenchError;
using peng_bench::MarkFailed;
using peng_bench::RunGuarded;

// The kernels, in the runtime's argument convention (docs/architecture.md,
// "The OpenCL backend"): buffers, then constants, then each buffer's
// dimensions, all constants and dimensions `long`. Raw OpenCL builds the same
// source and passes the same arguments, so both launch the same kernel.
//   empty(x, x_n): does nothing; the timed kernel.
//   mark(out, index, out_n): out[index] = index + 1; the verification pass.
extern const char* const kKernelSource;

// What the verification pass must find: out[i] == i + 1 for i < n.
void CheckMarks(const std::vector<int32_t>& out, uint32_t n, const char* who);

// Times one region per iteration (manual time) and, when destroyed, reports
// ns_per_launch = total time / (iterations * launches_per_iteration). With
// Mark("build") inside the region, build_ns_per_launch splits off the time
// since Start, and the rest is run_ns_per_launch.
class LaunchTimer {
 public:
  LaunchTimer(benchmark::State& state, uint64_t launches_per_iteration)
      : state_(state), launches_(launches_per_iteration) {}
  ~LaunchTimer();
  LaunchTimer(const LaunchTimer&) = delete;
  LaunchTimer& operator=(const LaunchTimer&) = delete;

  void Start() { start_ = Clock::now(); }
  void Mark() { build_ns_ += Since(start_); }
  void Stop() {
    double ns = Since(start_);
    total_ns_ += ns;
    ++iterations_;
    state_.SetIterationTime(ns * 1e-9);
  }

 private:
  using Clock = std::chrono::steady_clock;
  static double Since(Clock::time_point t) {
    return std::chrono::duration<double, std::nano>(Clock::now() - t).count();
  }
  benchmark::State& state_;
  uint64_t launches_;
  Clock::time_point start_;
  double total_ns_ = 0;
  double build_ns_ = 0;
  uint64_t iterations_ = 0;
};

}  // namespace peng_bench_ocl
