// A dependent chain on a oneTBB task_group: each task's body run()s the next
// one, the continuation style that is idiomatic for a chain in TBB (a loop
// of run() + wait() would add a full wait per task). The spawned task lands
// in the running thread's own deque and usually runs next on that thread.
#include <oneapi/tbb/task_group.h>

#include "chain/chain.h"
#include "driver/harness.h"
#include "driver/tbb_env.h"

namespace peng_bench::chain {
namespace {

template <typename Body>
struct Step {
  tbb::task_group* group;
  uint32_t index;
  uint32_t count;
  Body body;
  void operator()() const {
    body();
    if (index + 1 < count) group->run(Step{group, index + 1, count, body});
  }
};

template <typename Body>
void OneIteration(uint32_t n, Body body) {
  tbb::task_group group;
  if (n > 0) group.run(Step<Body>{&group, 0, n, body});
  group.wait();
}

}  // namespace

void TbbTaskGroup(benchmark::State& state) {
  RunGuarded(state, [&] {
    TbbScope tbb;
    const uint32_t n = TaskCount();
    VerifyCount(n, [&] { tbb.arena().execute([&] { OneIteration(n, CountTask); }); });
    PerTaskTimer timer(state, n);
    for (auto _ : state) {
      timer.Start();
      tbb.arena().execute([&] { OneIteration(n, [] {}); });
      timer.Stop();
    }
  });
}

}  // namespace peng_bench::chain
