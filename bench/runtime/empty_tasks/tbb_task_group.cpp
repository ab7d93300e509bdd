// Empty tasks on a oneTBB task_group: n run() calls and one wait().
#include <oneapi/tbb/task_group.h>

#include "driver/harness.h"
#include "driver/tbb_env.h"
#include "empty_tasks/empty_tasks.h"

namespace peng_bench::empty_tasks {
namespace {

template <typename Body>
void OneIteration(uint32_t n, Body body) {
  tbb::task_group group;
  for (uint32_t i = 0; i < n; ++i) group.run(body);
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

}  // namespace peng_bench::empty_tasks
