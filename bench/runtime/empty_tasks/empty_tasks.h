// Family: empty-task overhead.
//
// TaskCount() (200k) independent tasks whose body does nothing, built,
// submitted and waited for, every iteration from scratch; teardown (graph or
// node destruction) is inside the timed region too. ns_per_task is the whole
// iteration's wall time divided by the task count: what a runtime costs per
// task when the tasks themselves cost nothing.
//
//   peng            one graph of n tasks of a native no-op kernel, one submit, one wait
//   tbb_flow_graph  n continue_nodes, constructed, try_put each, wait_for_all
//   tbb_task_group  n task_group::run, one wait
//   starpu          n starpu_task_submit of a no-buffer codelet, starpu_task_wait_for_all
#pragma once

#include <benchmark/benchmark.h>

namespace peng_bench::empty_tasks {

void Peng(benchmark::State& state);
void TbbFlowGraph(benchmark::State& state);
void TbbTaskGroup(benchmark::State& state);
void Starpu(benchmark::State& state);

}  // namespace peng_bench::empty_tasks
