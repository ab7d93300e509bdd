// Graph re-run on StarPU. StarPU has no graph object; the idiomatic re-run
// (StarPU's own tests/main/subgraph_repeat.c) keeps the task structures
// (starpu_task_init, destroy = 0) and their declared dependencies, and
// re-submits every task each run. Dependencies declared once stay valid for
// every later submission. The tasks live until starpu_shutdown.
#include <cstdint>
#include <vector>

#include "driver/harness.h"
#include "driver/starpu_env.h"
#include "graph_rerun/graph_rerun.h"

namespace peng_bench::graph_rerun {
namespace {

void VisitCodelet(void**, void* arg) { OrderCheck::Get().Visit(int(intptr_t(arg))); }

struct Dag {
  struct starpu_task tasks[kNodes];
  struct starpu_codelet visit;

  Dag() {
    starpu_codelet_init(&visit);
    visit.where = STARPU_CPU;
    visit.cpu_funcs[0] = VisitCodelet;
    visit.nbuffers = 0;
    visit.model = nullptr;
    for (int node = 0; node < kNodes; ++node) {
      starpu_task_init(&tasks[node]);
      tasks[node].cl = StarpuNoopCodelet();
      tasks[node].cl_arg = reinterpret_cast<void*>(intptr_t(node));
      tasks[node].destroy = 0;
    }
    std::vector<std::vector<struct starpu_task*>> preds(kNodes);
    for (auto [before, after] : Edges()) preds[after].push_back(&tasks[before]);
    for (int node = 0; node < kNodes; ++node) {
      if (!preds[node].empty()) {
        starpu_task_declare_deps_array(&tasks[node], unsigned(preds[node].size()),
                                       preds[node].data());
      }
    }
  }
  void Run(struct starpu_codelet* codelet) {
    for (auto& task : tasks) {
      task.cl = codelet;
      StarpuCheck(starpu_task_submit(&task), "starpu_task_submit");
    }
    StarpuCheck(starpu_task_wait_for_all(), "starpu_task_wait_for_all");
  }
};

Dag* g_dag = nullptr;

Dag& TheDag() {
  if (!g_dag) {
    g_dag = new Dag();
    AtStarpuShutdown([] {
      for (auto& task : g_dag->tasks) starpu_task_clean(&task);
      delete g_dag;
      g_dag = nullptr;
    });
  }
  return *g_dag;
}

}  // namespace

void Starpu(benchmark::State& state) {
  RunGuarded(state, [&] {
    StarpuScope starpu;
    state.SetLabel(StarpuPolicyLabel());
    Dag& dag = TheDag();
    VerifyOrder(3, [&] { dag.Run(&dag.visit); });
    struct starpu_codelet* noop = StarpuNoopCodelet();
    dag.Run(noop);
    PerTaskTimer timer(state, kNodes, "ns_per_run");
    for (auto _ : state) {
      timer.Start();
      dag.Run(noop);
      timer.Stop();
    }
  });
}

}  // namespace peng_bench::graph_rerun
