#include "cl_util.h"

#include <time.h>

#include <cstdio>

namespace peng::opencl {

std::string ClErrorName(cl_int err) {
  const char* name = nullptr;
  switch (err) {
#define PENG_CL_ERROR(code) \
  case code: name = #code; break;
    PENG_CL_ERROR(CL_SUCCESS)
    PENG_CL_ERROR(CL_DEVICE_NOT_FOUND)
    PENG_CL_ERROR(CL_DEVICE_NOT_AVAILABLE)
    PENG_CL_ERROR(CL_COMPILER_NOT_AVAILABLE)
    PENG_CL_ERROR(CL_MEM_OBJECT_ALLOCATION_FAILURE)
    PENG_CL_ERROR(CL_OUT_OF_RESOURCES)
    PENG_CL_ERROR(CL_OUT_OF_HOST_MEMORY)
    PENG_CL_ERROR(CL_PROFILING_INFO_NOT_AVAILABLE)
    PENG_CL_ERROR(CL_MEM_COPY_OVERLAP)
    PENG_CL_ERROR(CL_IMAGE_FORMAT_MISMATCH)
    PENG_CL_ERROR(CL_IMAGE_FORMAT_NOT_SUPPORTED)
    PENG_CL_ERROR(CL_BUILD_PROGRAM_FAILURE)
    PENG_CL_ERROR(CL_MAP_FAILURE)
    PENG_CL_ERROR(CL_MISALIGNED_SUB_BUFFER_OFFSET)
    PENG_CL_ERROR(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    PENG_CL_ERROR(CL_COMPILE_PROGRAM_FAILURE)
    PENG_CL_ERROR(CL_LINKER_NOT_AVAILABLE)
    PENG_CL_ERROR(CL_LINK_PROGRAM_FAILURE)
    PENG_CL_ERROR(CL_DEVICE_PARTITION_FAILED)
    PENG_CL_ERROR(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
    PENG_CL_ERROR(CL_INVALID_VALUE)
    PENG_CL_ERROR(CL_INVALID_DEVICE_TYPE)
    PENG_CL_ERROR(CL_INVALID_PLATFORM)
    PENG_CL_ERROR(CL_INVALID_DEVICE)
    PENG_CL_ERROR(CL_INVALID_CONTEXT)
    PENG_CL_ERROR(CL_INVALID_QUEUE_PROPERTIES)
    PENG_CL_ERROR(CL_INVALID_COMMAND_QUEUE)
    PENG_CL_ERROR(CL_INVALID_HOST_PTR)
    PENG_CL_ERROR(CL_INVALID_MEM_OBJECT)
    PENG_CL_ERROR(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)
    PENG_CL_ERROR(CL_INVALID_IMAGE_SIZE)
    PENG_CL_ERROR(CL_INVALID_SAMPLER)
    PENG_CL_ERROR(CL_INVALID_BINARY)
    PENG_CL_ERROR(CL_INVALID_BUILD_OPTIONS)
    PENG_CL_ERROR(CL_INVALID_PROGRAM)
    PENG_CL_ERROR(CL_INVALID_PROGRAM_EXECUTABLE)
    PENG_CL_ERROR(CL_INVALID_KERNEL_NAME)
    PENG_CL_ERROR(CL_INVALID_KERNEL_DEFINITION)
    PENG_CL_ERROR(CL_INVALID_KERNEL)
    PENG_CL_ERROR(CL_INVALID_ARG_INDEX)
    PENG_CL_ERROR(CL_INVALID_ARG_VALUE)
    PENG_CL_ERROR(CL_INVALID_ARG_SIZE)
    PENG_CL_ERROR(CL_INVALID_KERNEL_ARGS)
    PENG_CL_ERROR(CL_INVALID_WORK_DIMENSION)
    PENG_CL_ERROR(CL_INVALID_WORK_GROUP_SIZE)
    PENG_CL_ERROR(CL_INVALID_WORK_ITEM_SIZE)
    PENG_CL_ERROR(CL_INVALID_GLOBAL_OFFSET)
    PENG_CL_ERROR(CL_INVALID_EVENT_WAIT_LIST)
    PENG_CL_ERROR(CL_INVALID_EVENT)
    PENG_CL_ERROR(CL_INVALID_OPERATION)
    PENG_CL_ERROR(CL_INVALID_GL_OBJECT)
    PENG_CL_ERROR(CL_INVALID_BUFFER_SIZE)
    PENG_CL_ERROR(CL_INVALID_MIP_LEVEL)
    PENG_CL_ERROR(CL_INVALID_GLOBAL_WORK_SIZE)
    PENG_CL_ERROR(CL_INVALID_PROPERTY)
    PENG_CL_ERROR(CL_INVALID_IMAGE_DESCRIPTOR)
    PENG_CL_ERROR(CL_INVALID_COMPILER_OPTIONS)
    PENG_CL_ERROR(CL_INVALID_LINKER_OPTIONS)
    PENG_CL_ERROR(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef PENG_CL_ERROR
    case -1001: name = "CL_PLATFORM_NOT_FOUND_KHR"; break;
    default: break;
  }
  if (!name) return "OpenCL error " + std::to_string(err);
  return std::string(name) + " (" + std::to_string(err) + ")";
}

bool IsDeviceLoss(cl_int err) { return err == CL_DEVICE_NOT_AVAILABLE; }

peng_status_t StatusOf(cl_int err) {
  switch (err) {
    case CL_SUCCESS: return PENG_OK;
    case CL_DEVICE_NOT_AVAILABLE: return PENG_ERROR_DEVICE_LOST;
    case CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST: return PENG_ERROR_CANCELLED;
    case CL_MEM_OBJECT_ALLOCATION_FAILURE:
    case CL_OUT_OF_RESOURCES:
    case CL_OUT_OF_HOST_MEMORY: return PENG_ERROR_OUT_OF_MEMORY;
    default: break;
  }
  // CL_INVALID_* are -30 down to -72: what the caller passed was wrong.
  if (err <= CL_INVALID_VALUE && err >= -72) return PENG_ERROR_INVALID_ARGUMENT;
  return PENG_ERROR_INTERNAL;
}

std::string ClDeviceString(cl_device_id device, cl_device_info what) {
  size_t size = 0;
  if (clGetDeviceInfo(device, what, 0, nullptr, &size) != CL_SUCCESS || size == 0) return {};
  std::string s(size, '\0');
  if (clGetDeviceInfo(device, what, size, s.data(), nullptr) != CL_SUCCESS) return {};
  s.resize(s.find('\0') == std::string::npos ? s.size() : s.find('\0'));
  return s;
}

std::string ClPlatformString(cl_platform_id platform, cl_platform_info what) {
  size_t size = 0;
  if (clGetPlatformInfo(platform, what, 0, nullptr, &size) != CL_SUCCESS || size == 0) return {};
  std::string s(size, '\0');
  if (clGetPlatformInfo(platform, what, size, s.data(), nullptr) != CL_SUCCESS) return {};
  s.resize(s.find('\0') == std::string::npos ? s.size() : s.find('\0'));
  return s;
}

int ClVersion(const std::string& v) {
  int major = 0, minor = 0;
  if (std::sscanf(v.c_str(), "OpenCL %d.%d", &major, &minor) != 2) return 0;
  return major * 10 + minor;
}

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

cl_command_queue ClCreateQueue(cl_context context, cl_device_id device,
                               cl_command_queue_properties properties, cl_int* err) {
  if (ClVersion(ClDeviceString(device, CL_DEVICE_VERSION)) >= 20) {
    const cl_queue_properties list[] = {CL_QUEUE_PROPERTIES, properties, 0};
    return clCreateCommandQueueWithProperties(context, device, list, err);
  }
  return clCreateCommandQueue(context, device, properties, err);
}

namespace {

// clGetDeviceAndHostTimer gives the device and host timers at one instant;
// the host timer's epoch is the implementation's, so it is tied to
// CLOCK_MONOTONIC through clGetHostTimer between two clock reads.
bool OffsetFromHostTimer(cl_device_id device, int64_t* out) {
  cl_ulong dev = 0, host = 0, host_again = 0;
  if (clGetDeviceAndHostTimer(device, &dev, &host) != CL_SUCCESS || dev == 0 || host == 0) {
    return false;
  }
  uint64_t before = MonotonicNs();
  if (clGetHostTimer(device, &host_again) != CL_SUCCESS) return false;
  uint64_t after = MonotonicNs();
  int64_t host_to_mono = int64_t(before + (after - before) / 2) - int64_t(host_again);
  *out = int64_t(host) - int64_t(dev) + host_to_mono;
  return true;
}

// The QUEUED time of a profiled marker, against the clock read around its
// enqueue; the tightest bracket of a few tries wins.
bool OffsetFromMarker(cl_device_id device, cl_context context, int64_t* out) {
  cl_int err = CL_SUCCESS;
  cl_command_queue queue = ClCreateQueue(context, device, CL_QUEUE_PROFILING_ENABLE, &err);
  if (err != CL_SUCCESS) return false;
  bool found = false;
  uint64_t best_width = UINT64_MAX;
  for (int attempt = 0; attempt < 5; ++attempt) {
    cl_event marker = nullptr;
    uint64_t before = MonotonicNs();
    err = clEnqueueMarkerWithWaitList(queue, 0, nullptr, &marker);
    uint64_t after = MonotonicNs();
    if (err != CL_SUCCESS) break;
    clWaitForEvents(1, &marker);
    cl_ulong queued = 0;
    err = clGetEventProfilingInfo(marker, CL_PROFILING_COMMAND_QUEUED, sizeof queued, &queued,
                                  nullptr);
    clReleaseEvent(marker);
    if (err != CL_SUCCESS || queued == 0) break;
    if (after - before < best_width) {
      best_width = after - before;
      *out = int64_t(before + (after - before) / 2) - int64_t(queued);
      found = true;
    }
  }
  clReleaseCommandQueue(queue);
  return found;
}

}  // namespace

bool MeasureClockOffset(cl_platform_id platform, cl_device_id device, cl_context context,
                        int64_t* out_offset_ns) {
  // clGetDeviceAndHostTimer is not in a 2.0 or older platform's dispatch table.
  if (ClVersion(ClPlatformString(platform, CL_PLATFORM_VERSION)) >= 21 &&
      ClVersion(ClDeviceString(device, CL_DEVICE_VERSION)) >= 21 &&
      OffsetFromHostTimer(device, out_offset_ns)) {
    return true;
  }
  return OffsetFromMarker(device, context, out_offset_ns);
}

}  // namespace peng::opencl
