// Family: peak memory per queued task.
//
// TaskCount() (200k) tasks are put into the runtime while they cannot run
// yet; the heap growth since just before building them, divided by the task
// count, is bytes_per_task. Then the gate opens, every task runs (and is
// counted), and everything is released. Two ways a task can be held back:
//
//   pending  it waits on something unfinished (an event, a gate task or node):
//            the runtime holds its description and dependency state
//   ready    it could run, but every worker is busy (blocked on a gate, or
//            the workers are paused): it sits in the runtime's ready queue
//
//   peng_pending    one graph submitted with wait_events = {a user event}
//   peng_ready      kThreads blocking tasks hold both workers, then one graph
//                   of n independent tasks is submitted: all go to the ready
//                   queue (the device keeps a few in flight)
//   tbb_flow_graph  n continue_nodes, each with an edge from one gate node (pending)
//   tbb_task_group  n run() while the worker is blocked inside a task (ready);
//                   its tasks come from tbbmalloc, which the heap counter does
//                   not see: read rss_bytes_per_task for it
//   starpu_pending  n tasks declared to depend on a gate task not yet submitted
//   starpu_ready    n tasks submitted while the workers are paused (starpu_pause)
//
// Counters: bytes_per_task is the heap (glibc mallinfo2: uordblks + hblkhd)
// growth at that point, rss_bytes_per_task the resident-set growth. For Peng
// graph_bytes_per_task is the growth once the graph is built, before submit.
// Each function is one measurement; the driver runs it in a fresh process
// (driver/fresh_process.h), so no allocator starts with memory cached by
// earlier benchmarks.
#pragma once

#include <cstdint>

#include "driver/harness.h"

namespace peng_bench::queued_memory {

void PengPending(PerTaskMemory& memory, uint32_t n);
void PengReady(PerTaskMemory& memory, uint32_t n);
void TbbFlowGraph(PerTaskMemory& memory, uint32_t n);
void TbbTaskGroup(PerTaskMemory& memory, uint32_t n);
void StarpuPending(PerTaskMemory& memory, uint32_t n);
void StarpuReady(PerTaskMemory& memory, uint32_t n);

}  // namespace peng_bench::queued_memory
