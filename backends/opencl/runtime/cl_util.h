// Small helpers over the OpenCL C API for the opencl backend: error names,
// the mapping of OpenCL errors to Peng statuses, typed info queries, and the
// device-to-host clock offset.
//
//   std::string name = ClDeviceString(device, CL_DEVICE_NAME);
//   cl_int err = clBuildProgram(...);
//   if (err != CL_SUCCESS) fail(StatusOf(err), "clBuildProgram: " + ClErrorName(err));
#pragma once

#include <CL/cl.h>

#include <cstdint>
#include <string>

#include "peng/peng.h"

namespace peng::opencl {

// "CL_INVALID_KERNEL_NAME (-46)"; vendor codes as "OpenCL error -9999".
std::string ClErrorName(cl_int err);

// The Peng status for an OpenCL error code, from enqueue calls and from a
// command's negative execution status alike.
peng_status_t StatusOf(cl_int err);

// Whether an error means the device is gone for good (PENG_ERROR_DEVICE_LOST).
bool IsDeviceLoss(cl_int err);

std::string ClDeviceString(cl_device_id device, cl_device_info what);
std::string ClPlatformString(cl_platform_id platform, cl_platform_info what);
template <typename T>
T ClDeviceValue(cl_device_id device, cl_device_info what, T fallback = T()) {
  T value{};
  if (clGetDeviceInfo(device, what, sizeof value, &value, nullptr) != CL_SUCCESS) return fallback;
  return value;
}

// The major * 10 + minor of a version string "OpenCL 3.0 ..." (30), or 0.
int ClVersion(const std::string& version_string);

uint64_t MonotonicNs();

// A command queue with these properties: clCreateCommandQueueWithProperties
// on OpenCL 2.0 and later devices, clCreateCommandQueue before.
cl_command_queue ClCreateQueue(cl_context context, cl_device_id device,
                               cl_command_queue_properties properties, cl_int* err);

// What to add to the device's profiling timer to get CLOCK_MONOTONIC ns,
// measured once. clGetDeviceAndHostTimer where the platform has it (2.1 and
// later, and it answers); otherwise a profiled marker: its QUEUED time is
// taken on the host when clEnqueueMarker runs, which we bracket with clock
// reads. Returns false when neither works (then timestamps stay 0).
bool MeasureClockOffset(cl_platform_id platform, cl_device_id device, cl_context context,
                        int64_t* out_offset_ns);

}  // namespace peng::opencl
