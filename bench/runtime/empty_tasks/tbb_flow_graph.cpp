// Empty tasks on a oneTBB flow graph: n continue_nodes with no edges, each
// triggered by a try_put. Node construction is part of the cost, as building
// the graph is for Peng.
#include <oneapi/tbb/flow_graph.h>

#include <deque>

#include "driver/harness.h"
#include "driver/tbb_env.h"
#include "empty_tasks/empty_tasks.h"

namespace peng_bench::empty_tasks {
namespace {

using Node = tbb::flow::continue_node<tbb::flow::continue_msg>;

template <typename Body>
void OneIteration(uint32_t n, Body body, PerTaskTimer* timer) {
  tbb::flow::graph graph;
  std::deque<Node> nodes;  // a deque never moves its nodes
  for (uint32_t i = 0; i < n; ++i) {
    nodes.emplace_back(graph, [body](const tbb::flow::continue_msg&) {
      body();
      return tbb::flow::continue_msg();
    });
  }
  if (timer) timer->Mark("build");
  for (Node& node : nodes) node.try_put(tbb::flow::continue_msg());
  graph.wait_for_all();
  if (timer) timer->Mark("run");
}

}  // namespace

void TbbFlowGraph(benchmark::State& state) {
  RunGuarded(state, [&] {
    TbbScope tbb;
    const uint32_t n = TaskCount();
    VerifyCount(n, [&] { tbb.arena().execute([&] { OneIteration(n, CountTask, nullptr); }); });
    PerTaskTimer timer(state, n);
    for (auto _ : state) {
      timer.Start();
      tbb.arena().execute([&] { OneIteration(n, [] {}, &timer); });
      timer.Stop();
    }
  });
}

}  // namespace peng_bench::empty_tasks
