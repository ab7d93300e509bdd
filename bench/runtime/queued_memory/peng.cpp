// Queued-task memory on Peng: a graph held back by a user event (pending),
// and a graph whose tasks wait in the ready queue behind blocked workers.
#include <atomic>
#include <thread>

#include "driver/harness.h"
#include "driver/peng_env.h"
#include "queued_memory/queued_memory.h"

namespace peng_bench::queued_memory {
namespace {

// ------------------------------------------------------------- gate kernel

std::atomic<bool> g_gate_open{true};
std::atomic<int> g_blocked{0};

int BlockKernel(const peng_dispatch_state_t*, const peng_workgroup_state_t*) {
  g_blocked.fetch_add(1);
  g_gate_open.wait(false);  // a futex wait: a blocked worker burns no core
  g_blocked.fetch_sub(1);
  return 0;
}

void OpenGate() {
  g_gate_open.store(true);
  g_gate_open.notify_all();
}

// Releases what it holds on every path, an exception included: a gate left
// closed would hang the runtime's shutdown.
struct Cleanup {
  peng_event_t gate = nullptr;
  peng_event_t done[2] = {nullptr, nullptr};
  peng_graph_t graphs[2] = {nullptr, nullptr};
  ~Cleanup() {
    OpenGate();
    if (gate) {
      peng_event_signal(gate, PENG_OK);
      peng_event_release(gate);
    }
    for (peng_event_t e : done) {
      if (!e) continue;
      peng_event_wait(e, PENG_WAIT_FOREVER);
      peng_event_release(e);
    }
    for (peng_graph_t g : graphs) {
      if (g) peng_graph_release(g);
    }
  }
};

peng_graph_t BuildIndependent(peng_kernel_t kernel, uint32_t n) {
  peng_graph_t graph;
  PengCheck(peng_graph_create(PengRuntime(), &graph), "peng_graph_create");
  for (uint32_t i = 0; i < n; ++i) {
    PengCheck(peng_graph_add_task(graph, kernel, nullptr, 0, nullptr, 0, nullptr, nullptr),
              "peng_graph_add_task");
  }
  return graph;
}

// One small graph through the same path first: what the runtime makes once
// (handle-table chunks, TBB's arena, the scheduler's queues) is not per task.
void WarmUp(peng_kernel_t kernel) {
  Cleanup c;
  PengCheck(peng_event_create(PengRuntime(), &c.gate), "peng_event_create");
  c.graphs[0] = BuildIndependent(kernel, 1);
  PengCheck(peng_graph_submit(c.graphs[0], &c.gate, 1, &c.done[0]), "peng_graph_submit");
}

void WaitAndCheck(peng_event_t done, uint32_t n) {
  PengCheck(peng_event_wait(done, PENG_WAIT_FOREVER), "the graph");
  if (g_executed.load() != n) throw BenchError("not every queued task ran");
}

}  // namespace

void PengPending(PerTaskMemory& memory, uint32_t n) {
  peng_kernel_t count = PengCountKernel();
  WarmUp(count);
  g_executed.store(0);
  Cleanup c;
  memory.Baseline();
  PengCheck(peng_event_create(PengRuntime(), &c.gate), "peng_event_create");
  c.graphs[0] = BuildIndependent(count, n);
  memory.Sample("graph");
  PengCheck(peng_graph_submit(c.graphs[0], &c.gate, 1, &c.done[0]), "peng_graph_submit");
  memory.Sample();
  PengCheck(peng_event_signal(c.gate, PENG_OK), "peng_event_signal");
  WaitAndCheck(c.done[0], n);
}

void PengReady(PerTaskMemory& memory, uint32_t n) {
  peng_kernel_t block = PengKernel({"block", "host", BlockKernel, 0, nullptr, 0, {}, nullptr});
  peng_kernel_t count = PengCountKernel();
  WarmUp(count);
  g_executed.store(0);
  Cleanup c;
  // Occupy every worker of the CPU device.
  g_gate_open.store(false);
  c.graphs[1] = BuildIndependent(block, uint32_t(kThreads));
  PengCheck(peng_graph_submit(c.graphs[1], nullptr, 0, &c.done[1]), "peng_graph_submit");
  Stopwatch waited;
  while (g_blocked.load() < kThreads) {
    if (waited.ElapsedNs() > 10e9) throw BenchError("the blocking tasks did not start");
    std::this_thread::yield();
  }
  memory.Baseline();
  c.graphs[0] = BuildIndependent(count, n);
  memory.Sample("graph");
  PengCheck(peng_graph_submit(c.graphs[0], nullptr, 0, &c.done[0]), "peng_graph_submit");
  memory.Sample();
  OpenGate();
  WaitAndCheck(c.done[0], n);
}

}  // namespace peng_bench::queued_memory
