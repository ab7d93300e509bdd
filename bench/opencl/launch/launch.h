// Launch overhead: an empty kernel on one OpenCL device, through Peng and
// through raw OpenCL, `n` launches per iteration:
//   launch_one  (n = 1): the latency of one launch, from submit to the host
//               knowing it finished;
//   launch_10k  (n = PENG_BENCH_TASKS, 10000): independent launches, enqueued
//               together and waited for once (throughput).
//
// One iteration of each implementation:
//   peng               peng_graph_submit + peng_event_wait of a graph of n
//                      tasks placed on opencl:0, built once (the target row);
//   peng_timed_wait    the same with a 10 s timeout on the wait, which blocks
//                      at once instead of spinning first (attribution only);
//   peng_fresh_graph   the graph built, submitted, waited for and released;
//   raw_opencl         n clEnqueueNDRangeKernel on an in-order queue without
//                      profiling, one clFinish (the baseline);
//   raw_opencl_events  what the Peng backend asks of the driver, without Peng:
//                      a profiling (out-of-order where allowed) queue, each
//                      launch with its event, clSetEventCallback and clFlush;
//                      the host waits for n callbacks (attribution only).
//
// Before timing, each implementation runs n launches of `mark` through the
// same path (launch i writes out[i] = i + 1) and fails unless every mark is there.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>

namespace peng_bench_ocl::launch {

void Peng(benchmark::State& state, uint32_t n);
void PengTimedWait(benchmark::State& state, uint32_t n);
void PengFreshGraph(benchmark::State& state, uint32_t n);
void RawOpenCl(benchmark::State& state, uint32_t n);
void RawOpenClEvents(benchmark::State& state, uint32_t n);

}  // namespace peng_bench_ocl::launch
