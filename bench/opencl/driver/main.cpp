// peng-bench-opencl: the driver. Registers the benchmarks in a fixed order,
// records the machine and the device in the JSON context, exits 77 (ctest's
// skip) on a machine without an OpenCL device and 1 when any benchmark failed
// (a wrong result included).
//
//   peng-bench-opencl --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//       --benchmark_out_format=json --benchmark_out=opencl.json
//   python3 bench/opencl/compare.py opencl.json
//
// Environment: PENG_BENCH_TASKS (launches per iteration of launch_10k,
// default 10000), PENG_BENCH_GEMM_SIZES (the sgemm sizes, default
// 256,512,1024,2048), PENG_BENCH_MIN_TIME (seconds per benchmark),
// PENG_PLATFORM (a profile other than platforms/dev-opencl.toml; it must name
// opencl:0).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

#include "driver/cl_env.h"
#include "driver/harness.h"
#include "driver/peng_env.h"
#include "gemm/gemm.h"
#include "launch/launch.h"

namespace peng_bench_ocl {
namespace {

using Impl = void (*)(benchmark::State&, uint32_t);

void Register(const std::string& family, const char* name, Impl impl, uint32_t n,
              benchmark::TimeUnit unit) {
  benchmark::internal::Benchmark* b = benchmark::RegisterBenchmark(
      (family + "/" + name).c_str(), [impl, n](benchmark::State& state) { impl(state, n); });
  b->UseManualTime()->Unit(unit);
  if (MinTimeSeconds() > 0) b->MinTime(MinTimeSeconds());
}

void RegisterAll() {
  struct {
    const char* name;
    Impl impl;
  } const impls[] = {
      {"peng", launch::Peng},
      {"peng_timed_wait", launch::PengTimedWait},
      {"peng_fresh_graph", launch::PengFreshGraph},
      {"raw_opencl", launch::RawOpenCl},
      {"raw_opencl_events", launch::RawOpenClEvents},
  };
  for (const auto& i : impls) Register("launch_one", i.name, i.impl, 1, benchmark::kMicrosecond);
  for (const auto& i : impls) {
    Register("launch_10k", i.name, i.impl, ManyCount(), benchmark::kMillisecond);
  }
  // sgemm_<n>/peng, then sgemm_<n>/clblast: the two compared come from
  // neighbouring moments. Each only where it was built (CMakeLists.txt).
  for (int n : gemm::Sizes()) {
    const std::string family = "sgemm_" + std::to_string(n);
#ifdef PENG_BENCH_OPENCL_SGEMM_MODULE
    Register(family, "peng", gemm::Peng, uint32_t(n), benchmark::kMillisecond);
#endif
#ifdef PENG_BENCH_OPENCL_CLBLAST
    Register(family, "clblast", gemm::ClBlast, uint32_t(n), benchmark::kMillisecond);
#endif
  }
}

void AddContext() {
  ClEnv& cl = Cl();
  benchmark::AddCustomContext("opencl_platform", cl.platform_name);
  benchmark::AddCustomContext("opencl_device", cl.device_name);
  benchmark::AddCustomContext("opencl_driver", cl.driver_version);
  benchmark::AddCustomContext("peng_platform", PengPlatformPath());
  benchmark::AddCustomContext("peng_bench_tasks", std::to_string(ManyCount()));
  std::string sizes;
  for (int n : gemm::Sizes()) {
    if (!sizes.empty()) sizes += ',';
    sizes += std::to_string(n);
  }
  benchmark::AddCustomContext("peng_bench_gemm_sizes", sizes);
#ifdef PENG_BENCH_OPENCL_SGEMM_MODULE
  benchmark::AddCustomContext("peng_gemm_module", gemm::PengModulePath());
#else
  benchmark::AddCustomContext("peng_gemm_module", "absent (built without pengc)");
#endif
#ifdef PENG_BENCH_OPENCL_CLBLAST
  benchmark::AddCustomContext("clblast", gemm::ClBlastVersion());
#else
  benchmark::AddCustomContext("clblast", "absent (built without libclblast-dev)");
#endif
}

}  // namespace
}  // namespace peng_bench_ocl

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (peng_bench_ocl::ClDeviceCount() == 0) {
    std::fprintf(stderr, "peng-bench-opencl: this machine has no OpenCL device; skipped\n");
    return 77;
  }
  try {
    peng_bench_ocl::AddContext();
    peng_bench_ocl::RegisterAll();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "peng-bench-opencl: %s\n", e.what());
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
#ifdef PENG_BENCH_OPENCL_SGEMM_MODULE
  peng_bench_ocl::gemm::ShutdownPeng();
#endif
#ifdef PENG_BENCH_OPENCL_CLBLAST
  peng_bench_ocl::gemm::ShutdownClBlast();
#endif
  peng_bench_ocl::ShutdownPeng();
  peng_bench_ocl::ShutdownCl();
  if (peng_bench_ocl::AnyFailed()) {
    std::fprintf(stderr, "peng-bench-opencl: a benchmark failed (see its error_message)\n");
    return 1;
  }
  return 0;
}
