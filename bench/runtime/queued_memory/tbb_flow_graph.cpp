// Queued-task memory on a oneTBB flow graph: n continue_nodes, each with an
// edge from one gate node, constructed and connected but not yet started.
// The edge is what holds each node back, so its cost (the gate's successor
// list) is part of the measure, as the dependency state is for the others.
#include <oneapi/tbb/flow_graph.h>

#include <deque>

#include "driver/harness.h"
#include "driver/tbb_env.h"
#include "queued_memory/queued_memory.h"

namespace peng_bench::queued_memory {

void TbbFlowGraph(PerTaskMemory& memory, uint32_t n) {
  using Node = tbb::flow::continue_node<tbb::flow::continue_msg>;
  TbbScope tbb;
  g_executed.store(0);
  tbb.arena().execute([&] {
    memory.Baseline();
    tbb::flow::graph graph;
    Node gate(graph, [](const tbb::flow::continue_msg&) { return tbb::flow::continue_msg(); });
    std::deque<Node> nodes;
    for (uint32_t i = 0; i < n; ++i) {
      nodes.emplace_back(graph, [](const tbb::flow::continue_msg&) {
        CountTask();
        return tbb::flow::continue_msg();
      });
      tbb::flow::make_edge(gate, nodes.back());
    }
    memory.Sample();
    gate.try_put(tbb::flow::continue_msg());
    graph.wait_for_all();
  });
  if (g_executed.load() != n) throw BenchError("not every queued node ran");
}

}  // namespace peng_bench::queued_memory
