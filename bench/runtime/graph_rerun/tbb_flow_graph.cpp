// Graph re-run on a oneTBB flow graph: the continue_nodes and edges are made
// once; each run puts a message into the 8 sources and waits for the graph.
// A continue_node fires once it has heard from all its predecessors and then
// resets its count, so the same graph runs again.
#include <oneapi/tbb/flow_graph.h>

#include <deque>

#include "driver/harness.h"
#include "driver/tbb_env.h"
#include "graph_rerun/graph_rerun.h"

namespace peng_bench::graph_rerun {
namespace {

using Node = tbb::flow::continue_node<tbb::flow::continue_msg>;

class Dag {
 public:
  // body(node) runs as the node's task.
  template <typename Body>
  explicit Dag(Body body) {
    for (int node = 0; node < kNodes; ++node) {
      nodes_.emplace_back(graph_, [body, node](const tbb::flow::continue_msg&) {
        body(node);
        return tbb::flow::continue_msg();
      });
    }
    for (auto [before, after] : Edges()) tbb::flow::make_edge(nodes_[before], nodes_[after]);
  }
  void Run() {
    for (int node = 0; node < kNodes; ++node) {
      if (IsSource(node)) nodes_[node].try_put(tbb::flow::continue_msg());
    }
    graph_.wait_for_all();
  }

 private:
  tbb::flow::graph graph_;
  std::deque<Node> nodes_;
};

}  // namespace

void TbbFlowGraph(benchmark::State& state) {
  RunGuarded(state, [&] {
    TbbScope tbb;
    tbb::task_arena& arena = tbb.arena();
    arena.execute([&] {
      Dag check([](int node) { OrderCheck::Get().Visit(node); });
      VerifyOrder(3, [&] { check.Run(); });
    });
    // Built inside the arena: a flow graph runs its tasks in the arena it was made in.
    arena.execute([&] {
      Dag dag([](int) {});
      dag.Run();
      PerTaskTimer timer(state, kNodes, "ns_per_run");
      for (auto _ : state) {
        timer.Start();
        dag.Run();
        timer.Stop();
      }
    });
  });
}

}  // namespace peng_bench::graph_rerun
