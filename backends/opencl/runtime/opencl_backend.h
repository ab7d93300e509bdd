// The opencl backend's objects: a HAL ABI 3 device over any OpenCL platform
// that the ICD loader finds (PoCL in CI, a vendor's NPU or GPU driver).
//
// Devices: every device of every platform, in the loader's platform order and
// each platform's device order; create_device(i) opens the i-th with a
// context of its own. Its memory is its own space (buffers are cl_mem objects,
// copies go through clEnqueueRead/Write/CopyBuffer).
//
// Host-unified devices (CL_DEVICE_HOST_UNIFIED_MEMORY and fine-grained
// buffer SVM: PoCL's CPU device) keep each buffer in an SVM allocation under
// its cl_mem, so `map` gives its host address with no copy, valid for the
// buffer's life and coherent at each completion. Such a device may also sit
// in host memory (memory space 0, profile memory = "host"): launches then
// get the runtime's host buffers, which the queue wraps for the launch as
// CL_MEM_USE_HOST_PTR buffers over the same memory, mapped and unmapped after
// the kernel (the API's way to make its writes visible; free on such
// devices): no copy in or out.
//
// Executables: format "opencl-c", target "opencl": OpenCL C source, built
// once per load with clBuildProgram, or from the binary that an earlier
// build left in the program cache (program_cache.h); entry i is the __kernel
// named entries[i].symbol (or entries[i].name).
//
// The kernel-argument convention (docs/architecture.md, "Device interface"):
//   1. one `__global T*` per binding, in binding order;
//   2. one `long` per constant (dispatch.state.constants);
//   3. one `long` per dimension of each binding's shape
//      (state.shapes[i][0 .. ranks[i]-1]), bindings in order.
// So `c = a * k + b` over 1-D tensors is
//   __kernel void axpb(__global const float* a, __global const float* b,
//                      __global float* c, long k, long a_n, long b_n, long c_n);
// Global size = workgroup_count[i] * workgroup_size[i]; local size =
// workgroup_size, except {0, 0, 0}, which lets the driver choose (then each
// work-group counts one work-item in the global size). A launch the driver
// refuses with CL_OUT_OF_RESOURCES or CL_INVALID_WORK_GROUP_SIZE is retried
// with the local size halved along its largest dimension, down to 1, over at
// least the same global range (kernels guard their index against the shape).
//
// Queues: an out-of-order OpenCL queue where the device has one (else in
// order), with profiling. Completions come from clSetEventCallback on the
// driver's thread; timestamps from the profiling events, moved to
// CLOCK_MONOTONIC by an offset measured when the device opens. The queue sets
// PENG_HAL_QUEUE_ORDERING: a launch's waits become its event wait list,
// through a map of launch id -> event for launches not yet completed.
#pragma once

#include <CL/cl.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "peng/hal.h"

extern "C" const peng_hal_factory_t* peng_backend_opencl_factory(void);

namespace peng::opencl {

using SetErrorFn = peng_status_t (*)(peng_status_t code, const char* message);

struct Device {
  peng_hal_device_t base;  // first: the runtime sees the vtable through it
  std::string name;        // the runtime's name ("opencl:0")
  peng_device_kind_t kind;
  uint32_t memory_space;
  std::string targets;      // comma-separated kernel targets it accepts
  uint64_t memory_limit;    // 0: the device's global memory
  std::atomic<uint64_t> allocated{0};
  double model_gflops;
  SetErrorFn set_error;

  cl_platform_id platform;
  cl_device_id id;
  cl_context context = nullptr;
  std::string description;  // "pthread-skylake (Portable Computing Language)"
  std::string extensions;   // " ext1 ext2 ", padded for whole-word search
  uint32_t compute_units;
  uint32_t vector_bits;
  uint64_t global_memory;
  uint64_t max_allocation;
  size_t max_workgroup_size;
  size_t max_item_sizes[3];
  bool out_of_order;
  // Host-unified memory with fine-grained buffer SVM: buffers map, and the
  // device may work in host memory (see the top comment).
  bool host_unified;
  bool has_clock_offset;
  int64_t clock_offset_ns;  // device profiling time + offset = CLOCK_MONOTONIC ns
  std::atomic<bool> lost{false};
  // The program binary cache's folder ("": no cache): ProgramCacheDir(), or
  // the settings `cache_dir`, `cache = false`.
  std::string cache_dir;
  // Options of every clBuildProgram: the device's limits as PENG_DEVICE_*
  // macros (generated kernels pick their tile shapes from them), then the
  // setting `build_options`.
  std::string build_options;
  // Test setting `force_out_of_resources = N`: the next N launch attempts
  // fail as if clEnqueueNDRangeKernel said CL_OUT_OF_RESOURCES.
  std::atomic<uint64_t> force_out_of_resources{0};
  // Test setting `force_device_lost = N`: after N more launches, the device
  // behaves as lost (the next launch fails as CL_DEVICE_NOT_AVAILABLE would).
  // -1: never.
  std::atomic<int64_t> force_device_lost{-1};

  // "device 'opencl:0' (pthread-... (Portable Computing Language))", for messages.
  std::string Describe() const;
  // Returns `code` with `message` attached for the user.
  peng_status_t Fail(peng_status_t code, const std::string& message) const {
    return set_error(code, message.c_str());
  }
  // A failed OpenCL call: its status, "what: CL_ERROR_NAME" as the message;
  // a device-loss code marks the device lost.
  peng_status_t FailCl(cl_int err, const std::string& what);
};

struct Buffer {
  peng_hal_buffer_t base;
  Device* device;
  cl_mem mem;
  uint64_t size;
  void* svm;  // host-unified devices: the SVM allocation under mem; else NULL
};

// Whether the buffer is one of this backend's (else it is the runtime's host
// memory, given to a device in memory space 0).
bool IsOwnBuffer(const peng_hal_buffer_t* buffer);

struct Entry {
  std::string name;  // the kernel's name in the runtime
  cl_kernel kernel = nullptr;
  cl_uint arg_count = 0;
  uint32_t workgroup_size[3] = {1, 1, 1};
  // The kernel declares reqd_work_group_size: its local size is part of its
  // code (__local tiles), so a launch is never retried with another.
  bool fixed_local_size = false;
  // clSetKernelArg and the enqueue that captures the arguments happen under
  // it: a cl_kernel's arguments are shared state.
  std::mutex mutex;

  Entry() = default;
  Entry(const Entry&) = delete;
  Entry& operator=(const Entry&) = delete;
  ~Entry() {
    if (kernel) clReleaseKernel(kernel);
  }
};

struct Executable {
  peng_hal_executable_t base;
  cl_program program = nullptr;
  std::vector<std::unique_ptr<Entry>> entries;
};

struct Queue {
  peng_hal_queue_t base;
  Device* device;
  cl_command_queue queue = nullptr;

  // Launches enqueued and not yet completed, by dispatch id; each holds the
  // reference from its enqueue, released when its callback removes it.
  std::mutex launches_mutex;
  std::unordered_map<uint64_t, cl_event> launches;

  // Operations whose completion has not returned yet: wait_idle waits for 0,
  // so no callback runs on a destroyed queue.
  std::mutex idle_mutex;
  std::condition_variable idle;
  uint64_t outstanding = 0;
};

// Devices (opencl_device.cpp).
peng_status_t CreateDevice(uint32_t index, const peng_hal_device_params_t* params,
                           peng_hal_device_t** out);
uint32_t DeviceCount();

// Executables (opencl_executable.cpp). *why: the reason, when it cannot run
// the spec and the reason is worth telling (empty: not an opencl executable).
bool CanRun(const Device* device, const peng_hal_executable_spec_t* spec, std::string* why);
peng_status_t LoadExecutable(Device* device, const peng_hal_executable_spec_t* spec,
                             peng_hal_executable_t** out);

// Queues (opencl_queue.cpp).
peng_status_t CreateQueue(Device* device, peng_hal_queue_t** out);

}  // namespace peng::opencl
