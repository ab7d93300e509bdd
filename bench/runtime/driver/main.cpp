// peng-bench-runtime: the driver. Registers every family's implementations
// in a fixed order (so runs compare like with like), records the setup in the
// JSON context, and shuts the runtimes down after the run.
//
//   peng-bench-runtime --benchmark_format=json --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true --benchmark_out=runtime.json
//   python3 bench/runtime/compare.py runtime.json
//
// Environment: PENG_BENCH_TASKS (tasks per iteration, default 200000),
// PENG_BENCH_MIN_TIME (seconds per benchmark, overrides Google Benchmark's)
// and PENG_BENCH_MEMORY_IN_PROCESS=1 (memory measurements without a child).
#include <benchmark/benchmark.h>
#include <oneapi/tbb/version.h>

#include <string>
#include <vector>

#include "chain/chain.h"
#include "driver/fresh_process.h"
#include "driver/harness.h"
#include "driver/peng_env.h"
#include "driver/tbb_env.h"
#include "empty_tasks/empty_tasks.h"
#include "graph_rerun/graph_rerun.h"
#include "queued_memory/queued_memory.h"

#if defined(PENG_BENCH_WITH_STARPU)
#include "driver/starpu_env.h"
#endif

namespace peng_bench {
namespace {

using Fn = void (*)(benchmark::State&);

enum class Kind {
  kPerTask,  // TaskCount() tasks per iteration, milliseconds
  kRerun,    // one small graph per iteration, microseconds
};

void Register(const char* name, Fn fn, Kind kind) {
  benchmark::internal::Benchmark* b = benchmark::RegisterBenchmark(name, fn);
  b->UseManualTime()->Unit(kind == Kind::kPerTask ? benchmark::kMillisecond
                                                  : benchmark::kMicrosecond);
  if (MinTimeSeconds() > 0) b->MinTime(MinTimeSeconds());
}

// The queued_memory family: one measurement per iteration, each in a fresh
// process (see driver/fresh_process.h). main() also dispatches on this table
// when it is such a child.
const std::vector<NamedMeasurement>& MemoryMeasurements() {
  static const std::vector<NamedMeasurement> table = {
      {"queued_memory/peng_pending", queued_memory::PengPending},
      {"queued_memory/peng_ready", queued_memory::PengReady},
      {"queued_memory/tbb_flow_graph", queued_memory::TbbFlowGraph},
      {"queued_memory/tbb_task_group", queued_memory::TbbTaskGroup},
#if defined(PENG_BENCH_WITH_STARPU)
      {"queued_memory/starpu_pending", queued_memory::StarpuPending},
      {"queued_memory/starpu_ready", queued_memory::StarpuReady},
#endif
  };
  return table;
}

void RegisterAll() {
  Register("empty_tasks/peng", empty_tasks::Peng, Kind::kPerTask);
  Register("empty_tasks/tbb_flow_graph", empty_tasks::TbbFlowGraph, Kind::kPerTask);
  Register("empty_tasks/tbb_task_group", empty_tasks::TbbTaskGroup, Kind::kPerTask);
#if defined(PENG_BENCH_WITH_STARPU)
  Register("empty_tasks/starpu", empty_tasks::Starpu, Kind::kPerTask);
#endif

  Register("chain/peng", chain::Peng, Kind::kPerTask);
  Register("chain/tbb_flow_graph", chain::TbbFlowGraph, Kind::kPerTask);
  Register("chain/tbb_task_group", chain::TbbTaskGroup, Kind::kPerTask);
#if defined(PENG_BENCH_WITH_STARPU)
  Register("chain/starpu", chain::Starpu, Kind::kPerTask);
#endif

  Register("graph_rerun/peng", graph_rerun::Peng, Kind::kRerun);
  Register("graph_rerun/tbb_flow_graph", graph_rerun::TbbFlowGraph, Kind::kRerun);
  Register("graph_rerun/tbb_task_group", graph_rerun::TbbTaskGroup, Kind::kRerun);
#if defined(PENG_BENCH_WITH_STARPU)
  Register("graph_rerun/starpu", graph_rerun::Starpu, Kind::kRerun);
#endif

  for (const NamedMeasurement& m : MemoryMeasurements()) {
    benchmark::RegisterBenchmark(m.name,
                                 [m](benchmark::State& state) { MemoryBenchmark(state, m); })
        ->UseRealTime()
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond);
  }
}

void Shutdown() {
#if defined(PENG_BENCH_WITH_STARPU)
  ShutdownStarpu();
#endif
  ShutdownPeng();
  ShutdownTbb();
}

void AddContext() {
  benchmark::AddCustomContext("peng_bench_tasks", std::to_string(TaskCount()));
  benchmark::AddCustomContext("peng_bench_threads", std::to_string(kThreads));
  benchmark::AddCustomContext("peng_policy", "EAGER");
  benchmark::AddCustomContext("tbb_version", TBB_VERSION_STRING);
#if defined(PENG_BENCH_WITH_STARPU)
  benchmark::AddCustomContext("starpu_version", std::to_string(STARPU_MAJOR_VERSION) + "." +
                                                    std::to_string(STARPU_MINOR_VERSION) + "." +
                                                    std::to_string(STARPU_RELEASE_VERSION));
#else
  benchmark::AddCustomContext("starpu_version", "not built");
#endif
}

}  // namespace
}  // namespace peng_bench

int main(int argc, char** argv) {
  int exit_code = 0;
  if (peng_bench::RunIfMemoryChild(peng_bench::MemoryMeasurements(), &exit_code)) {
    peng_bench::Shutdown();
    return exit_code;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  peng_bench::RegisterAll();
  peng_bench::AddContext();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  peng_bench::Shutdown();
  return 0;
}
