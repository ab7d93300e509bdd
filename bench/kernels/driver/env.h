// The shared set-up of peng-bench-kernels: the thread count every library
// runs on, each library's set-up, and error handling.
//
// Threads (--threads, default 2), applied to all three before any benchmark:
//   OpenBLAS  openblas_set_num_threads(n) (Debian's default flavour is pthreads)
//   oneDNN    omp_set_num_threads(n) in oneDNN's own OpenMP runtime (libgomp on
//             Debian: libdnnl2 is built with DNNL_CPU_RUNTIME=OMP), looked up
//             with dlsym so that it is the runtime oneDNN uses whatever
//             compiler built this binary; called on the thread that runs the
//             benchmarks
//   Peng      one runtime, peng_runtime_options_t::cpu_threads = n, one CPU
//             device ("cpu0", a TBB arena of n workers); no platform profile,
//             plugins or performance-model file (the PENG_* variables are
//             ignored), tasks placed on cpu0 explicitly
// The counts each library reports back go into the JSON context.
#pragma once

#include <benchmark/benchmark.h>

#include <stdexcept>
#include <string>

#include "common/guard.h"
#include "peng/peng.h"

namespace peng_bench {

// Threads for every library; set once by main() before any benchmark runs.
int Threads();
void SetThreads(int n);

// BenchError, RunGuarded, AnyFailed, MarkFailed: bench/common/guard.h.

// ------------------------------------------------------------------- Peng

// Throws BenchError with Peng's message unless status is PENG_OK.
void PengCheck(peng_status_t status, const char* what);
// The process's runtime (created on first use with Threads() threads).
peng_runtime_t PengRuntime();
// Its CPU device, where every task is placed.
peng_device_t PengCpu();
// Module path: env PENG_BENCH_SGEMM_MODULE, else the one built beside the binary.
std::string SgemmModulePath();
// The module, loaded on first use.
peng_module_t PengSgemmModule();
void ShutdownPengRuntime();

// ------------------------------------------------ OpenBLAS and oneDNN threads

// Apply Threads() to OpenBLAS and to oneDNN's OpenMP runtime.
void SetLibraryThreads();

// Versions, configurations and the thread counts each library reports.
void AddContext();

}  // namespace peng_bench
