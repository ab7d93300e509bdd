// Peng as every benchmark uses it: one runtime for the process, made on first
// use, with one CPU device of kThreads threads and the EAGER policy. Calls go
// through the C ABI (peng.h), the path a framework would take.
//
//   peng_runtime_t rt = PengRuntime();
//   peng_kernel_t noop = PengNoopKernel();
//   PengCheck(peng_graph_add_task(g, noop, nullptr, 0, nullptr, 0, nullptr, nullptr),
//             "peng_graph_add_task");
#pragma once

#include "peng/peng.h"

namespace peng_bench {

peng_runtime_t PengRuntime();
// Releases the runtime and its modules (at the end of main). Kernel handles
// die with it; the next PengRuntime() makes a new runtime.
void ShutdownPeng();

// No arguments, does nothing: the task whose overhead the families measure.
peng_kernel_t PengNoopKernel();
// No arguments, calls CountTask(): for verification passes.
peng_kernel_t PengCountKernel();
// A kernel of a family's own, in a module of its own that lives as long as
// the runtime; made on the first request for def.name in this runtime.
peng_kernel_t PengKernel(const peng_native_kernel_def_t& def);

// Throws BenchError with peng_last_error_message() unless status is PENG_OK.
void PengCheck(peng_status_t status, const char* what);

}  // namespace peng_bench
