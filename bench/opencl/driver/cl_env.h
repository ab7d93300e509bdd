// Raw OpenCL for the baselines: the same device as Peng's opencl:0 (device 0
// of all platforms in the ICD loader's order, as platforms/dev-opencl.toml's
// `index = 0` means), a context of its own, the kernels of kKernelSource.
#pragma once

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

#include <cstdint>
#include <string>

namespace peng_bench_ocl {

struct ClEnv {
  cl_platform_id platform = nullptr;
  cl_device_id device = nullptr;
  cl_context context = nullptr;
  // In-order, no profiling: the cheapest queue OpenCL offers, the baseline.
  cl_command_queue queue = nullptr;
  // Profiling on, out-of-order where the device allows: the queue the Peng
  // backend makes (backends/opencl/runtime/opencl_queue.cpp).
  cl_command_queue peng_like_queue = nullptr;
  cl_program program = nullptr;
  cl_kernel empty = nullptr;
  cl_kernel mark = nullptr;
  cl_mem x = nullptr;  // one float, empty's argument
  std::string platform_name, device_name, driver_version;
};

// Throws BenchError unless `err` is CL_SUCCESS.
void ClCheck(cl_int err, const char* what);
// The machine's OpenCL devices over every platform (0 without a loader or platform).
uint32_t ClDeviceCount();
// Made on first use; throws BenchError when the device or the program fails.
ClEnv& Cl();
void ShutdownCl();

}  // namespace peng_bench_ocl
