// Peng for the launch benchmarks: one runtime on platforms/dev-opencl.toml
// (cpu0 and opencl:0; $PENG_PLATFORM instead when set), and a module.peng
// image, made here, whose one opencl executable holds kKernelSource.
#pragma once

#include <peng/peng.h>

#include <cstdint>
#include <string>
#include <vector>

namespace peng_bench_ocl {

// Throws BenchError with Peng's last error message unless status is PENG_OK.
void PengCheck(peng_status_t status, const char* what);

peng_runtime_t PengRuntime();
peng_device_t PengOpenCl();  // "opencl:0"
peng_kernel_t PengEmpty();
peng_kernel_t PengMark();
peng_buffer_t PengX();  // one float, empty's argument, resident on opencl:0 after a first run
// The profile the runtime was made from, for the JSON context.
std::string PengPlatformPath();

// Submits the graph and waits for it. An unbounded wait first spins (and
// helps) for up to 50 us; a bounded one blocks at once (docs/runtime.md, "Waiting").
void PengRun(peng_graph_t graph, uint64_t timeout_ns = PENG_WAIT_FOREVER);

// A graph of n independent launches of `empty` placed on opencl:0.
peng_graph_t PengEmptyGraph(uint32_t n);
// A graph of n launches of `mark` placed on opencl:0, launch i writing
// out[i] = i + 1 (they share `out`, so they run in order).
peng_graph_t PengMarkGraph(uint32_t n, peng_buffer_t out);
std::vector<int32_t> PengRead(peng_buffer_t buffer, uint32_t n);

void ShutdownPeng();

}  // namespace peng_bench_ocl
