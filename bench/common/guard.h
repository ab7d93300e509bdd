// What every benchmark suite here does with a failure: a set-up that fails
// or a wrong result throws BenchError (or any exception) inside RunGuarded,
// which reports it through state.SkipWithError and marks the run failed;
// main() then exits 1 when AnyFailed(), so a ctest smoke run fails on it.
#ifndef PENG_BENCH_COMMON_GUARD_H_
#define PENG_BENCH_COMMON_GUARD_H_

#include <benchmark/benchmark.h>

#include <atomic>
#include <exception>
#include <stdexcept>

namespace peng_bench {

class BenchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
inline std::atomic<bool> g_failed{false};
}  // namespace detail

inline bool AnyFailed() { return detail::g_failed.load(); }
inline void MarkFailed() { detail::g_failed.store(true); }

// Runs body; an exception becomes state.SkipWithError and marks the run failed.
template <typename F>
void RunGuarded(benchmark::State& state, F&& body) {
  try {
    body();
  } catch (const std::exception& e) {
    MarkFailed();
    state.SkipWithError(e.what());
  }
}

}  // namespace peng_bench

#endif  // PENG_BENCH_COMMON_GUARD_H_
