// Queued-task memory on StarPU: tasks that depend on a gate task not yet
// submitted (pending), and tasks submitted while the workers are paused
// (ready: they sit in the scheduler's queues).
#include "driver/harness.h"
#include "driver/starpu_env.h"
#include "queued_memory/queued_memory.h"

namespace peng_bench::queued_memory {
namespace {

void Check(uint32_t n) {
  if (g_executed.load() != n) throw BenchError("not every queued task ran");
}

}  // namespace

void StarpuPending(PerTaskMemory& memory, uint32_t n) {
  StarpuScope starpu;
  memory.SetLabel(StarpuPolicyLabel());
  g_executed.store(0);
  memory.Baseline();
  // Kept (destroy = 0) so the others can name it; submitted last, on every
  // path, or the tasks behind it would never finish.
  struct Gate {
    struct starpu_task* task = starpu_task_create();
    bool submitted = false;
    void Submit() {
      submitted = true;
      StarpuCheck(starpu_task_submit(task), "starpu_task_submit");
    }
    ~Gate() {
      if (!submitted && starpu_task_submit(task) != 0) return;  // leak, don't hang
      starpu_task_wait_for_all();
      starpu_task_destroy(task);
    }
  } gate;
  gate.task->cl = StarpuNoopCodelet();
  gate.task->destroy = 0;
  for (uint32_t i = 0; i < n; ++i) {
    struct starpu_task* task = starpu_task_create();
    task->cl = StarpuCountCodelet();
    starpu_task_declare_deps_array(task, 1, &gate.task);
    StarpuCheck(starpu_task_submit(task), "starpu_task_submit");
  }
  memory.Sample();
  gate.Submit();
  StarpuCheck(starpu_task_wait_for_all(), "starpu_task_wait_for_all");
  Check(n);
}

void StarpuReady(PerTaskMemory& memory, uint32_t n) {
  StarpuScope starpu;
  memory.SetLabel(StarpuPolicyLabel());
  g_executed.store(0);
  starpu_pause();  // nests inside the scope's resume
  struct Resume {
    bool paused = true;
    void Now() {
      if (paused) starpu_resume();
      paused = false;
    }
    ~Resume() { Now(); }
  } resume;
  memory.Baseline();
  for (uint32_t i = 0; i < n; ++i) {
    struct starpu_task* task = starpu_task_create();
    task->cl = StarpuCountCodelet();
    StarpuCheck(starpu_task_submit(task), "starpu_task_submit");
  }
  memory.Sample();
  resume.Now();
  StarpuCheck(starpu_task_wait_for_all(), "starpu_task_wait_for_all");
  Check(n);
}

}  // namespace peng_bench::queued_memory
