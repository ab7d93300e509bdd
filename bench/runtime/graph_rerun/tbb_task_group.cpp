// Graph re-run on a oneTBB task_group. TBB's only reusable task graph is
// flow_graph, so this drives the DAG by hand, the way one would on a bare
// task scheduler: per-run dependency counters, reset before each run; a
// finished node decrements its successors' counters and run()s those that
// reach zero.
#include <oneapi/tbb/task_group.h>

#include <array>
#include <atomic>
#include <vector>

#include "driver/harness.h"
#include "driver/tbb_env.h"
#include "graph_rerun/graph_rerun.h"

namespace peng_bench::graph_rerun {
namespace {

template <typename Body>
class Dag {
 public:
  explicit Dag(Body body) : body_(body) {
    for (auto [before, after] : Edges()) {
      successors_[before].push_back(after);
      ++pred_count_[after];
    }
  }
  // Call inside the arena; `group` is reused from run to run.
  void Run(tbb::task_group& group) {
    for (int node = 0; node < kNodes; ++node) pending_[node].store(pred_count_[node]);
    for (int node = 0; node < kNodes; ++node) {
      if (pred_count_[node] == 0) group.run([this, &group, node] { Fire(group, node); });
    }
    group.wait();
  }

 private:
  void Fire(tbb::task_group& group, int node) {
    body_(node);
    for (int s : successors_[node]) {
      if (pending_[s].fetch_sub(1, std::memory_order_acq_rel) == 1) {
        group.run([this, &group, s] { Fire(group, s); });
      }
    }
  }

  Body body_;
  std::array<std::vector<int>, kNodes> successors_;
  std::array<int, kNodes> pred_count_{};
  std::array<std::atomic<int>, kNodes> pending_{};
};

}  // namespace

void TbbTaskGroup(benchmark::State& state) {
  RunGuarded(state, [&] {
    TbbScope tbb;
    tbb.arena().execute([&] {
      tbb::task_group group;
      {
        Dag check([](int node) { OrderCheck::Get().Visit(node); });
        VerifyOrder(3, [&] { check.Run(group); });
      }
      Dag dag([](int) {});
      dag.Run(group);
      PerTaskTimer timer(state, kNodes, "ns_per_run");
      for (auto _ : state) {
        timer.Start();
        dag.Run(group);
        timer.Stop();
      }
    });
  });
}

}  // namespace peng_bench::graph_rerun
