// Raw oneTBB as the benchmarks use it: kThreads threads, enforced twice over,
// by a global_control (max_allowed_parallelism) held while a TBB benchmark
// runs and by a task_arena of kThreads slots (one for the calling thread, the
// rest for workers) that every TBB benchmark runs inside.
//
//   TbbScope tbb;                  // at the top of the benchmark function
//   tbb.arena().execute([&] { tbb::task_group g; ...; g.wait(); });
//
// The scope is held only during TBB benchmarks: Peng's CPU device sizes the
// same process-wide TBB worker pool for its own arena, and a lower limit left
// in place would starve it.
#pragma once

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>

namespace peng_bench {

class TbbScope {
 public:
  TbbScope();
  tbb::task_arena& arena();

 private:
  tbb::global_control limit_;
};

// Terminates the shared arena (at the end of main).
void ShutdownTbb();

}  // namespace peng_bench
