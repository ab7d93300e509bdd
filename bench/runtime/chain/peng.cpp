// A dependent chain on Peng: one graph, explicit edges i-1 -> i.
#include "chain/chain.h"
#include "driver/harness.h"
#include "driver/peng_env.h"

namespace peng_bench::chain {
namespace {

void OneIteration(peng_kernel_t kernel, uint32_t n, PerTaskTimer* timer) {
  peng_graph_t graph;
  PengCheck(peng_graph_create(PengRuntime(), &graph), "peng_graph_create");
  peng_task_t previous = 0;
  for (uint32_t i = 0; i < n; ++i) {
    peng_task_t task;
    PengCheck(peng_graph_add_task(graph, kernel, nullptr, 0, nullptr, 0, nullptr, &task),
              "peng_graph_add_task");
    if (i > 0) PengCheck(peng_graph_add_edge(graph, previous, task), "peng_graph_add_edge");
    previous = task;
  }
  if (timer) timer->Mark("build");
  peng_event_t done;
  PengCheck(peng_graph_submit(graph, nullptr, 0, &done), "peng_graph_submit");
  peng_status_t status = peng_event_wait(done, PENG_WAIT_FOREVER);
  if (timer) timer->Mark("run");
  peng_event_release(done);
  peng_graph_release(graph);
  PengCheck(status, "the graph");
}

}  // namespace

void Peng(benchmark::State& state) {
  RunGuarded(state, [&] {
    const uint32_t n = TaskCount();
    VerifyCount(n, [&] { OneIteration(PengCountKernel(), n, nullptr); });
    peng_kernel_t noop = PengNoopKernel();
    PerTaskTimer timer(state, n);
    for (auto _ : state) {
      timer.Start();
      OneIteration(noop, n, &timer);
      timer.Stop();
    }
  });
}

}  // namespace peng_bench::chain
