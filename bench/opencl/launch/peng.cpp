// Launch overhead through Peng: tasks of the empty kernel placed on opencl:0.
#include "driver/harness.h"
#include "driver/peng_env.h"
#include "launch/launch.h"

namespace peng_bench_ocl::launch {
namespace {

// n marks through a graph built once and run twice (the timed paths run a
// graph again and again): every launch must have reached the device.
void Verify(uint32_t n) {
  peng_buffer_t out;
  PengCheck(peng_buffer_create(PengRuntime(), n * sizeof(int32_t), &out), "peng_buffer_create");
  peng_graph_t g = nullptr;
  try {
    std::vector<int32_t> zeros(n, 0);
    PengCheck(peng_buffer_write(out, 0, n * sizeof(int32_t), zeros.data()), "peng_buffer_write");
    g = PengMarkGraph(n, out);
    for (int run = 0; run < 2; ++run) {
      PengRun(g);
      CheckMarks(PengRead(out, n), n, "peng");
      PengCheck(peng_buffer_write(out, 0, n * sizeof(int32_t), zeros.data()), "peng_buffer_write");
    }
  } catch (...) {
    if (g) peng_graph_release(g);
    peng_buffer_release(out);
    throw;
  }
  peng_graph_release(g);
  peng_buffer_release(out);
}

void BuiltOnce(benchmark::State& state, uint32_t n, uint64_t timeout_ns) {
  RunGuarded(state, [&] {
    Verify(n);
    peng_graph_t g = PengEmptyGraph(n);
    PengRun(g);  // warm: the first submission finalizes the graph and moves x
    {
      LaunchTimer timer(state, n);
      for (auto _ : state) {
        timer.Start();
        PengRun(g, timeout_ns);
        timer.Stop();
      }
    }
    peng_graph_release(g);
  });
}

}  // namespace

void Peng(benchmark::State& state, uint32_t n) { BuiltOnce(state, n, PENG_WAIT_FOREVER); }

void PengTimedWait(benchmark::State& state, uint32_t n) { BuiltOnce(state, n, 10'000'000'000ull); }

void PengFreshGraph(benchmark::State& state, uint32_t n) {
  RunGuarded(state, [&] {
    Verify(n);
    peng_graph_release(PengEmptyGraph(n));  // warm
    LaunchTimer timer(state, n);
    for (auto _ : state) {
      timer.Start();
      peng_graph_t g = PengEmptyGraph(n);
      timer.Mark();
      PengRun(g);
      peng_graph_release(g);
      timer.Stop();
    }
  });
}

}  // namespace peng_bench_ocl::launch
