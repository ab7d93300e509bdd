// Family: re-running a small fixed graph.
//
// A DAG of kNodes = 32 empty tasks (kLayers = 4 layers of kWidth = 8; node j
// of layer l+1 depends on nodes j and (j+1) % 8 of layer l) is built once,
// then each iteration submits it again and waits for it. This is the shape of
// an inference step: the same small graph, over and over, so the cost is the
// per-submission overhead (resetting, launching, waking, joining), not
// building. Reports ns_per_run (one whole graph) and ns_per_task (/ 32).
//
//   peng            one peng_graph_t, peng_graph_submit + peng_event_wait per run
//   tbb_flow_graph  one graph of continue_nodes; try_put on the 8 sources + wait_for_all
//   tbb_task_group  the DAG driven by hand: per-run dependency counters, a
//                   finished node run()s the successors it made ready (TBB has
//                   no reusable task graph outside flow_graph)
//   starpu          32 tasks made once (destroy = 0) with starpu_task_declare_deps
//                   made once; each run re-submits all 32 and waits for all
//
// Before timing, every implementation runs the graph a few times with bodies
// that check the order: a node may run only after both its predecessors ran
// in the same run.
#pragma once

#include <benchmark/benchmark.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "driver/harness.h"

namespace peng_bench::graph_rerun {

constexpr int kLayers = 4;
constexpr int kWidth = 8;
constexpr int kNodes = kLayers * kWidth;

// Node id = layer * kWidth + position. Edges (before, after), before < after.
inline std::vector<std::pair<int, int>> Edges() {
  std::vector<std::pair<int, int>> edges;
  for (int l = 0; l + 1 < kLayers; ++l) {
    for (int j = 0; j < kWidth; ++j) {
      int after = (l + 1) * kWidth + j;
      edges.emplace_back(l * kWidth + j, after);
      edges.emplace_back(l * kWidth + (j + 1) % kWidth, after);
    }
  }
  return edges;
}
inline bool IsSource(int node) { return node < kWidth; }

// The order check run by verification passes. Visit(node) records that node
// ran in the current run and flags an error if a predecessor has not.
class OrderCheck {
 public:
  static OrderCheck& Get() {
    static OrderCheck check;
    return check;
  }
  void BeginRun() {
    ++run_;
    for (auto& s : stamp_) s.store(0);
  }
  void Visit(int node) {
    for (int p : preds_[node]) {
      if (stamp_[p].load(std::memory_order_acquire) != run_) errors_.fetch_add(1);
    }
    stamp_[node].store(run_, std::memory_order_release);
    ran_.fetch_add(1);
  }
  // Throws unless every node of `runs` runs ran, each after its predecessors.
  void Expect(uint64_t runs) const {
    if (ran_.load() != runs * kNodes || errors_.load() != 0) {
      throw BenchError("order check: " + std::to_string(ran_.load()) + " of " +
                       std::to_string(runs * kNodes) + " tasks ran, " +
                       std::to_string(errors_.load()) + " before a predecessor");
    }
  }
  void Reset() {
    errors_.store(0);
    ran_.store(0);
  }

 private:
  OrderCheck() {
    for (auto [a, b] : Edges()) preds_[b].push_back(a);
  }
  std::array<std::vector<int>, kNodes> preds_;
  std::array<std::atomic<uint64_t>, kNodes> stamp_{};
  uint64_t run_ = 0;
  std::atomic<uint64_t> errors_{0};
  std::atomic<uint64_t> ran_{0};
};

// Runs `one_run` (one whole submission of the graph, waited for) `runs` times
// under the order check.
template <typename F>
void VerifyOrder(int runs, F&& one_run) {
  OrderCheck& check = OrderCheck::Get();
  check.Reset();
  for (int r = 0; r < runs; ++r) {
    check.BeginRun();
    one_run();
  }
  check.Expect(uint64_t(runs));
}

void Peng(benchmark::State& state);
void TbbFlowGraph(benchmark::State& state);
void TbbTaskGroup(benchmark::State& state);
void Starpu(benchmark::State& state);

}  // namespace peng_bench::graph_rerun
