// Graph re-run on Peng: one peng_graph_t built once and submitted again for
// every run.
#include "driver/harness.h"
#include "driver/peng_env.h"
#include "graph_rerun/graph_rerun.h"

namespace peng_bench::graph_rerun {
namespace {

int VisitKernel(const peng_dispatch_state_t* d, const peng_workgroup_state_t*) {
  OrderCheck::Get().Visit(int(d->constants[0]));
  return 0;
}

class Dag {
 public:
  // with_node_id: each task gets its node id as its one constant (the
  // verification kernel takes it; the no-op kernel takes none).
  Dag(peng_kernel_t kernel, bool with_node_id) {
    PengCheck(peng_graph_create(PengRuntime(), &graph_), "peng_graph_create");
    for (int64_t node = 0; node < kNodes; ++node) {
      PengCheck(peng_graph_add_task(graph_, kernel, nullptr, 0, with_node_id ? &node : nullptr,
                                    with_node_id ? 1 : 0, nullptr, nullptr),
                "peng_graph_add_task");
    }
    for (auto [before, after] : Edges()) {
      PengCheck(peng_graph_add_edge(graph_, peng_task_t(before), peng_task_t(after)),
                "peng_graph_add_edge");
    }
  }
  ~Dag() { peng_graph_release(graph_); }
  Dag(const Dag&) = delete;
  Dag& operator=(const Dag&) = delete;

  void Run() {
    peng_event_t done;
    PengCheck(peng_graph_submit(graph_, nullptr, 0, &done), "peng_graph_submit");
    peng_status_t status = peng_event_wait(done, PENG_WAIT_FOREVER);
    peng_event_release(done);
    PengCheck(status, "the graph");
  }

 private:
  peng_graph_t graph_ = nullptr;
};

}  // namespace

void Peng(benchmark::State& state) {
  RunGuarded(state, [&] {
    peng_kernel_t visit = PengKernel({"visit", "host", VisitKernel, 0, nullptr, 1, {}, nullptr});
    {
      Dag check(visit, /*with_node_id=*/true);
      VerifyOrder(3, [&] { check.Run(); });
    }
    Dag dag(PengNoopKernel(), /*with_node_id=*/false);
    dag.Run();  // warm: the first submission finalizes the graph
    PerTaskTimer timer(state, kNodes, "ns_per_run");
    for (auto _ : state) {
      timer.Start();
      dag.Run();
      timer.Stop();
    }
  });
}

}  // namespace peng_bench::graph_rerun
