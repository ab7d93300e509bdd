// Queued-task memory on a oneTBB task_group: every task first waits for a
// gate. The arena's worker takes one and blocks in it; the calling thread
// keeps spawning, so the other tasks queue up in its task deque.
#include <oneapi/tbb/task_group.h>

#include <atomic>

#include "driver/harness.h"
#include "driver/tbb_env.h"
#include "queued_memory/queued_memory.h"

namespace peng_bench::queued_memory {
namespace {

std::atomic<bool> g_open{true};

void Open() {
  g_open.store(true);
  g_open.notify_all();
}

}  // namespace

void TbbTaskGroup(PerTaskMemory& memory, uint32_t n) {
  TbbScope tbb;
  g_executed.store(0);
  tbb.arena().execute([&] {
    memory.Baseline();
    g_open.store(false);
    tbb::task_group group;
    for (uint32_t i = 0; i < n; ++i) {
      group.run([] {
        g_open.wait(false);
        CountTask();
      });
    }
    memory.Sample();
    Open();
    group.wait();
  });
  if (g_executed.load() != n) throw BenchError("not every queued task ran");
}

}  // namespace peng_bench::queued_memory
