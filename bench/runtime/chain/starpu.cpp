// A dependent chain on StarPU: every task accesses one small registered
// variable in STARPU_RW mode, so StarPU's implicit (sequentially consistent)
// data dependencies order task i after task i-1. This is how StarPU
// expresses a chain; explicit starpu_task_declare_deps would need every task
// kept alive (destroy = 0) until the chain ends.
#include "chain/chain.h"
#include "driver/harness.h"
#include "driver/starpu_env.h"

namespace peng_bench::chain {
namespace {

void Noop(void**, void*) {}
void Count(void**, void*) { CountTask(); }

struct starpu_codelet MakeRwCodelet(starpu_cpu_func_t fn) {
  struct starpu_codelet cl;
  starpu_codelet_init(&cl);
  cl.where = STARPU_CPU;
  cl.cpu_funcs[0] = fn;
  cl.nbuffers = 1;
  cl.modes[0] = STARPU_RW;
  cl.model = nullptr;
  return cl;
}

void OneIteration(struct starpu_codelet* codelet, starpu_data_handle_t handle, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i) {
    struct starpu_task* task = starpu_task_create();
    task->cl = codelet;
    task->handles[0] = handle;
    StarpuCheck(starpu_task_submit(task), "starpu_task_submit");
  }
  StarpuCheck(starpu_task_wait_for_all(), "starpu_task_wait_for_all");
}

}  // namespace

void Starpu(benchmark::State& state) {
  RunGuarded(state, [&] {
    StarpuScope starpu;
    state.SetLabel(StarpuPolicyLabel());
    static struct starpu_codelet noop = MakeRwCodelet(Noop);
    static struct starpu_codelet count = MakeRwCodelet(Count);
    static uint64_t value = 0;
    starpu_data_handle_t handle;
    starpu_variable_data_register(&handle, STARPU_MAIN_RAM, uintptr_t(&value), sizeof(value));
    struct Unregister {
      starpu_data_handle_t h;
      ~Unregister() { starpu_data_unregister(h); }
    } unregister{handle};

    const uint32_t n = TaskCount();
    VerifyCount(n, [&] { OneIteration(&count, handle, n); });
    PerTaskTimer timer(state, n);
    for (auto _ : state) {
      timer.Start();
      OneIteration(&noop, handle, n);
      timer.Stop();
    }
  });
}

}  // namespace peng_bench::chain
