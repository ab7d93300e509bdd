// Empty tasks on StarPU: n tasks of a codelet with no buffers, submitted one
// by one (StarPU has no graph object: submitting is building), then one
// starpu_task_wait_for_all. Tasks are freed by StarPU when they finish.
#include "driver/harness.h"
#include "driver/starpu_env.h"
#include "empty_tasks/empty_tasks.h"

namespace peng_bench::empty_tasks {
namespace {

void OneIteration(struct starpu_codelet* codelet, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i) {
    struct starpu_task* task = starpu_task_create();
    task->cl = codelet;
    StarpuCheck(starpu_task_submit(task), "starpu_task_submit");
  }
  StarpuCheck(starpu_task_wait_for_all(), "starpu_task_wait_for_all");
}

}  // namespace

void Starpu(benchmark::State& state) {
  RunGuarded(state, [&] {
    StarpuScope starpu;
    state.SetLabel(StarpuPolicyLabel());
    const uint32_t n = TaskCount();
    VerifyCount(n, [&] { OneIteration(StarpuCountCodelet(), n); });
    struct starpu_codelet* noop = StarpuNoopCodelet();
    PerTaskTimer timer(state, n);
    for (auto _ : state) {
      timer.Start();
      OneIteration(noop, n);
      timer.Stop();
    }
  });
}

}  // namespace peng_bench::empty_tasks
