// A dependent chain on a oneTBB flow graph: continue_nodes joined by
// make_edge, started by one try_put on the first.
#include <oneapi/tbb/flow_graph.h>

#include <deque>

#include "chain/chain.h"
#include "driver/harness.h"
#include "driver/tbb_env.h"

namespace peng_bench::chain {
namespace {

using Node = tbb::flow::continue_node<tbb::flow::continue_msg>;

template <typename Body>
void OneIteration(uint32_t n, Body body, PerTaskTimer* timer) {
  tbb::flow::graph graph;
  std::deque<Node> nodes;
  for (uint32_t i = 0; i < n; ++i) {
    nodes.emplace_back(graph, [body](const tbb::flow::continue_msg&) {
      body();
      return tbb::flow::continue_msg();
    });
    if (i > 0) tbb::flow::make_edge(nodes[i - 1], nodes[i]);
  }
  if (timer) timer->Mark("build");
  nodes.front().try_put(tbb::flow::continue_msg());
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

}  // namespace peng_bench::chain
