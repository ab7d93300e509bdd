// Family: a dependent chain.
//
// TaskCount() (200k) empty tasks where task i may start only after task i-1
// finished, built, submitted and waited for every iteration. Nothing can run
// in parallel, so ns_per_task is the runtime's critical-path cost per
// dependency: release the successor, schedule it, start it.
//
//   peng            one graph, explicit edges i-1 -> i (peng_graph_add_edge)
//   tbb_flow_graph  n continue_nodes joined by make_edge; try_put on the first
//   tbb_task_group  each task run()s the next from its body (continuation style)
//   starpu          n tasks with STARPU_RW on one data handle: StarPU's own
//                   sequential consistency orders them
#pragma once

#include <benchmark/benchmark.h>

namespace peng_bench::chain {

void Peng(benchmark::State& state);
void TbbFlowGraph(benchmark::State& state);
void TbbTaskGroup(benchmark::State& state);
void Starpu(benchmark::State& state);

}  // namespace peng_bench::chain
