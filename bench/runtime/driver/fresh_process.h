// Memory measurements run in a fresh child process of this same binary, so
// that no allocator (glibc's arenas, tbbmalloc, a runtime's own pools) holds
// memory cached by the benchmarks that ran before it: growth measured from a
// clean start is the memory the queued tasks need.
//
//   // in the benchmark process, one iteration:
//   MemoryBenchmark(state, "queued_memory/peng_pending", queued_memory::PengPending);
//   // in main(), before anything else:
//   int code;
//   if (RunIfMemoryChild(kMemoryTable, &code)) return code;
//
// The child (PENG_BENCH_MEMORY_CHILD=<name> in its environment) runs one
// measurement and prints "key=value" lines on stdout. With
// PENG_BENCH_MEMORY_IN_PROCESS=1, or if the child cannot be started, the
// measurement runs in the benchmark process instead (numbers may then be low
// where an allocator reuses memory it already holds).
#pragma once

#include <benchmark/benchmark.h>

#include <utility>
#include <vector>

#include "driver/harness.h"

namespace peng_bench {

struct NamedMeasurement {
  const char* name;
  MemoryMeasurement fn;
};

void MemoryBenchmark(benchmark::State& state, const NamedMeasurement& measurement);

// Returns true in a child process, after running its measurement; *exit_code
// is what main should return.
bool RunIfMemoryChild(const std::vector<NamedMeasurement>& table, int* exit_code);

}  // namespace peng_bench
