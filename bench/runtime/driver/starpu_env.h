// StarPU as the benchmarks use it: one starpu_init for the process, made on
// first use, with kThreads CPU workers and no CUDA, OpenCL, MIC or MPI
// workers. StarPU's idle workers poll for work, so between StarPU benchmarks
// the workers are paused (starpu_pause), or they would take both cores from
// the other runtimes' benchmarks.
//
//   StarpuScope starpu;            // at the top of the benchmark function
//   state.SetLabel(StarpuPolicyLabel());
//   struct starpu_task* t = starpu_task_create();
//   t->cl = StarpuNoopCodelet();
//   StarpuCheck(starpu_task_submit(t), "starpu_task_submit");
//   starpu_task_wait_for_all();
//
// Environment (set before starpu_init when unset, so a user can override):
// STARPU_SILENT=1, STARPU_WORKERS_NOBIND=1, STARPU_CALIBRATE=0 and
// STARPU_HOME=$TMPDIR/peng-bench-starpu-<uid> (where StarPU keeps its bus samples).
// STARPU_SCHED is left alone: StarPU's default policy (lws in 1.3) is what
// users get; each benchmark is labelled with the policy that ran it.
#pragma once

#include <starpu.h>

#include <string>

namespace peng_bench {

// Resumes StarPU's workers for one benchmark and pauses them again after.
class StarpuScope {
 public:
  StarpuScope();
  ~StarpuScope();
  StarpuScope(const StarpuScope&) = delete;
  StarpuScope& operator=(const StarpuScope&) = delete;
};

// Shuts StarPU down (at the end of main), then runs the AtStarpuShutdown
// hooks: tasks that StarPU may still touch until shutdown are freed there.
void ShutdownStarpu();
void AtStarpuShutdown(void (*fn)());

// "sched=<policy>": the scheduling policy StarPU runs with.
std::string StarpuPolicyLabel();

// No buffers, does nothing / calls CountTask().
struct starpu_codelet* StarpuNoopCodelet();
struct starpu_codelet* StarpuCountCodelet();

// Throws BenchError unless ret == 0.
void StarpuCheck(int ret, const char* what);

}  // namespace peng_bench
