// The opencl backend's queue: copies and launches as OpenCL commands,
// completed from event callbacks, ordered on the device through event wait
// lists (see opencl_backend.h for the kernel-argument convention).
#include <chrono>
#include <cstring>

#include "cl_util.h"
#include "opencl_backend.h"
#include "program_cache.h"

namespace peng::opencl {

namespace {

// One operation in flight, owned by its event callback.
struct Operation {
  Queue* queue;
  peng_hal_completion_t completion;
  uint64_t* timestamps;  // NULL, or [start, end] to fill
  uint64_t launch_id;    // 0 for copies
  std::string what;      // "launch of 'vadd'", for messages
};

// Device profiling times of a finished command, in CLOCK_MONOTONIC ns.
void ReadTimestamps(const Device* dev, cl_event event, uint64_t* out) {
  cl_ulong start = 0, end = 0;
  if (!dev->has_clock_offset ||
      clGetEventProfilingInfo(event, CL_PROFILING_COMMAND_START, sizeof start, &start, nullptr) !=
          CL_SUCCESS ||
      clGetEventProfilingInfo(event, CL_PROFILING_COMMAND_END, sizeof end, &end, nullptr) !=
          CL_SUCCESS ||
      start == 0 || end < start) {
    return;  // unmeasured: the runtime falls back to its own clock
  }
  out[0] = uint64_t(int64_t(start) + dev->clock_offset_ns);
  out[1] = uint64_t(int64_t(end) + dev->clock_offset_ns);
}

void FinishOne(Queue* q) {
  std::lock_guard<std::mutex> lock(q->idle_mutex);
  if (--q->outstanding == 0) q->idle.notify_all();
}

// The driver calls this on its own thread once the command is complete or
// has failed (exec_status < 0).
void CL_CALLBACK OnEventComplete(cl_event event, cl_int exec_status, void* user) {
  std::unique_ptr<Operation> op(static_cast<Operation*>(user));
  Queue* q = op->queue;
  Device* dev = q->device;
  peng_status_t status = PENG_OK;
  std::string message;
  if (exec_status < 0) {
    status = StatusOf(exec_status);
    if (exec_status == CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST) {
      message = op->what + " on " + dev->Describe() + " was cancelled: a launch it waited for failed";
    } else {
      if (IsDeviceLoss(exec_status) ||
          !ClDeviceValue<cl_bool>(dev->id, CL_DEVICE_AVAILABLE, CL_TRUE)) {
        dev->lost = true;
      }
      if (dev->lost) {
        status = PENG_ERROR_DEVICE_LOST;
      } else if (op->launch_id) {
        status = PENG_ERROR_KERNEL_FAILED;
      }
      message = op->what + " failed on " + dev->Describe() + ": " + ClErrorName(exec_status);
    }
  } else if (op->timestamps) {
    ReadTimestamps(dev, event, op->timestamps);
  }
  if (op->launch_id) {
    // Completed launches leave the map first: a successor enqueued from the
    // completion below finds this one complete.
    std::lock_guard<std::mutex> lock(q->launches_mutex);
    q->launches.erase(op->launch_id);
  }
  clReleaseEvent(event);
  if (status != PENG_OK) dev->Fail(status, message);
  op->completion.fn(op->completion.user_data, status);
  FinishOne(q);
}

// Hands an enqueued command's event to its callback (which takes over
// `event`'s reference) and submits it. On failure the command may still run,
// so this waits for it before reporting: a failing enqueue completes nothing
// and leaves nothing running.
peng_status_t Track(Queue* q, cl_event event, std::unique_ptr<Operation> op) {
  Device* dev = q->device;
  {
    std::lock_guard<std::mutex> lock(q->idle_mutex);
    ++q->outstanding;
  }
  uint64_t id = op->launch_id;
  if (id) {
    std::lock_guard<std::mutex> lock(q->launches_mutex);
    q->launches[id] = event;
  }
  std::string what = op->what;
  cl_int err = clSetEventCallback(event, CL_COMPLETE, OnEventComplete, op.get());
  if (err != CL_SUCCESS) {
    if (id) {
      std::lock_guard<std::mutex> lock(q->launches_mutex);
      q->launches.erase(id);
    }
    clWaitForEvents(1, &event);
    clReleaseEvent(event);
    FinishOne(q);
    return dev->FailCl(err, what + ": clSetEventCallback");
  }
  op.release();
  // Callbacks wait for submission; a flush submits without waiting.
  clFlush(q->queue);
  return PENG_OK;
}

cl_mem MemOf(peng_hal_buffer_t* b) { return reinterpret_cast<Buffer*>(b)->mem; }
uint64_t SizeOf(peng_hal_buffer_t* b) { return reinterpret_cast<Buffer*>(b)->size; }

peng_status_t CheckRange(Device* dev, peng_hal_buffer_t* b, uint64_t offset, uint64_t size,
                         const char* side) {
  if (offset > SizeOf(b) || size > SizeOf(b) - offset) {
    return dev->Fail(PENG_ERROR_INVALID_ARGUMENT,
                     std::string("copy ") + side + " range [" + std::to_string(offset) + ", +" +
                         std::to_string(size) + ") is outside its " +
                         std::to_string(SizeOf(b)) + "-byte buffer on " + dev->Describe());
  }
  return PENG_OK;
}

peng_status_t EnqueueCopy(peng_hal_queue_t* queue, const peng_hal_copy_t* c,
                          peng_hal_completion_t completion) {
  auto* q = reinterpret_cast<Queue*>(queue);
  Device* dev = q->device;
  if (dev->lost) return dev->Fail(PENG_ERROR_DEVICE_LOST, dev->Describe() + " is lost");
  if (!c || (!c->src_buffer == !c->src_host) || (!c->dst_buffer == !c->dst_host) ||
      (!c->src_buffer && !c->dst_buffer)) {
    return dev->Fail(PENG_ERROR_INVALID_ARGUMENT,
                     "a copy needs one source and one destination, at least one a device buffer");
  }
  peng_status_t st = PENG_OK;
  if (c->src_buffer) st = CheckRange(dev, c->src_buffer, c->src_offset, c->size, "source");
  if (st == PENG_OK && c->dst_buffer) {
    st = CheckRange(dev, c->dst_buffer, c->dst_offset, c->size, "destination");
  }
  if (st != PENG_OK) return st;
  cl_event event = nullptr;
  cl_int err = CL_SUCCESS;
  const char* call = "clEnqueueCopyBuffer";
  if (c->size == 0) {
    call = "clEnqueueMarkerWithWaitList";  // OpenCL refuses empty transfers
    err = clEnqueueMarkerWithWaitList(q->queue, 0, nullptr, &event);
  } else if (c->src_host) {
    call = "clEnqueueWriteBuffer";
    err = clEnqueueWriteBuffer(q->queue, MemOf(c->dst_buffer), CL_FALSE, c->dst_offset, c->size,
                               static_cast<const char*>(c->src_host) + c->src_offset, 0, nullptr,
                               &event);
  } else if (c->dst_host) {
    call = "clEnqueueReadBuffer";
    err = clEnqueueReadBuffer(q->queue, MemOf(c->src_buffer), CL_FALSE, c->src_offset, c->size,
                              static_cast<char*>(c->dst_host) + c->dst_offset, 0, nullptr, &event);
  } else {
    err = clEnqueueCopyBuffer(q->queue, MemOf(c->src_buffer), MemOf(c->dst_buffer), c->src_offset,
                              c->dst_offset, c->size, 0, nullptr, &event);
  }
  if (err != CL_SUCCESS) return dev->FailCl(err, call);
  auto op = std::make_unique<Operation>(Operation{q, completion, c->timestamps, 0, "copy"});
  return Track(q, event, std::move(op));
}

// The runtime's host buffers of a launch on a device in host memory, each
// wrapped for the launch as a buffer over the same memory.
struct HostBindings {
  std::vector<cl_mem> wrappers;
  ~HostBindings() {
    // OpenCL keeps each alive until the commands that use it complete.
    for (cl_mem m : wrappers) clReleaseMemObject(m);
  }
};

// Each binding's cl_mem: the buffer's own, or a CL_MEM_USE_HOST_PTR wrapper
// of the host memory it maps to (no copy on a host-unified device). The
// binding slots get the cl_mem, or the host address for host memory.
peng_status_t BindingMems(Device* dev, const peng_hal_dispatch_t* d, std::vector<cl_mem>* mems,
                          HostBindings* host) {
  for (uint32_t i = 0; i < d->state.binding_count; ++i) {
    peng_hal_buffer_t* b = d->buffers[i];
    if (IsOwnBuffer(b)) {
      mems->push_back(MemOf(b));
      d->binding_slots[i] = mems->back();
      continue;
    }
    const auto* vt = PENG_HAL_VTABLE(b, peng_hal_buffer_vtable_t);
    void* ptr = nullptr;
    if (dev->memory_space != 0 || !vt->map || vt->map(b, &ptr) != PENG_OK || !ptr) {
      return dev->Fail(PENG_ERROR_INVALID_ARGUMENT,
                       "binding " + std::to_string(i) + " of a launch on " + dev->Describe() +
                           " is neither its own buffer nor host memory it can map");
    }
    uint64_t size = d->state.binding_sizes ? d->state.binding_sizes[i] : 0;
    // One wrapper per host buffer: OpenCL leaves commands on buffers over
    // overlapping host memory undefined (an in-place kernel binds one twice).
    uint32_t first = 0;
    while (d->buffers[first] != b) ++first;
    d->binding_slots[i] = ptr;
    if (first < i) {
      mems->push_back((*mems)[first]);
      continue;
    }
    cl_int err = CL_SUCCESS;
    cl_mem m = clCreateBuffer(dev->context, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR,
                              size ? size : 1, ptr, &err);
    if (err != CL_SUCCESS) return dev->FailCl(err, "wrapping host memory (clCreateBuffer)");
    host->wrappers.push_back(m);
    mems->push_back(m);
  }
  return PENG_OK;
}

// After a launch that wrote host memory through wrappers: a map and an unmap
// of each, the API's way to make the kernel's writes visible to the host (no
// copy on host-unified memory). *event, the launch's, becomes one that
// completes after all of them; on failure the launch has finished.
peng_status_t SyncHostBindings(Queue* q, const HostBindings& host, cl_event* event) {
  std::vector<cl_event> unmaps;
  cl_int err = CL_SUCCESS;
  for (cl_mem m : host.wrappers) {
    size_t size = 0;
    clGetMemObjectInfo(m, CL_MEM_SIZE, sizeof size, &size, nullptr);
    cl_event mapped = nullptr, unmapped = nullptr;
    void* ptr = clEnqueueMapBuffer(q->queue, m, CL_FALSE, CL_MAP_READ | CL_MAP_WRITE, 0, size, 1,
                                   event, &mapped, &err);
    if (err != CL_SUCCESS) break;
    err = clEnqueueUnmapMemObject(q->queue, m, ptr, 1, &mapped, &unmapped);
    clReleaseEvent(mapped);
    if (err != CL_SUCCESS) break;
    unmaps.push_back(unmapped);
  }
  cl_event last = nullptr;
  if (err == CL_SUCCESS) {
    err = clEnqueueMarkerWithWaitList(q->queue, cl_uint(unmaps.size()), unmaps.data(), &last);
  }
  if (err != CL_SUCCESS) {  // a failing enqueue leaves nothing running
    clWaitForEvents(1, event);
    if (!unmaps.empty()) clWaitForEvents(cl_uint(unmaps.size()), unmaps.data());
  }
  for (cl_event u : unmaps) clReleaseEvent(u);
  clReleaseEvent(*event);
  if (err != CL_SUCCESS) return q->device->FailCl(err, "syncing host memory after a launch");
  *event = last;
  return PENG_OK;
}

// Sets the convention's arguments (opencl_backend.h) on the entry's kernel.
// `mems`: each binding's cl_mem; `workspace` (or null): the launch's scratch
// memory, the last argument.
peng_status_t SetArguments(Device* dev, Entry& e, const peng_hal_dispatch_t* d,
                           const cl_mem* mems, cl_mem workspace) {
  const peng_dispatch_state_t& s = d->state;
  cl_uint expected = s.binding_count + s.constant_count + (workspace ? 1 : 0);
  for (uint32_t i = 0; i < s.binding_count; ++i) expected += s.ranks ? s.ranks[i] : 0;
  if (expected != e.arg_count) {
    return dev->Fail(PENG_ERROR_INVALID_ARGUMENT,
                     "kernel '" + e.name + "' takes " + std::to_string(e.arg_count) +
                         " arguments, the launch passes " + std::to_string(expected) + " (" +
                         std::to_string(s.binding_count) + " buffers, " +
                         std::to_string(s.constant_count) +
                         " constants, one long per dimension of each buffer's shape" +
                         (workspace ? ", the workspace)" : ")"));
  }
  cl_uint arg = 0;
  cl_int err = CL_SUCCESS;
  for (uint32_t i = 0; i < s.binding_count && err == CL_SUCCESS; ++i) {
    err = clSetKernelArg(e.kernel, arg++, sizeof mems[i], &mems[i]);
  }
  for (uint32_t i = 0; i < s.constant_count && err == CL_SUCCESS; ++i) {
    cl_long value = s.constants[i];
    err = clSetKernelArg(e.kernel, arg++, sizeof value, &value);
  }
  for (uint32_t i = 0; i < s.binding_count && err == CL_SUCCESS; ++i) {
    uint32_t rank = s.ranks ? s.ranks[i] : 0;
    for (uint32_t k = 0; k < rank && err == CL_SUCCESS; ++k) {
      cl_long dim = s.shapes[i][k];
      err = clSetKernelArg(e.kernel, arg++, sizeof dim, &dim);
    }
  }
  if (workspace && err == CL_SUCCESS) {
    err = clSetKernelArg(e.kernel, arg++, sizeof workspace, &workspace);
  }
  if (err != CL_SUCCESS) {
    return dev->FailCl(err, "kernel '" + e.name + "': clSetKernelArg(" + std::to_string(arg - 1) +
                                ")");
  }
  return PENG_OK;
}

// The launch's wait list: events of the launches it waits for that have not
// completed yet, each retained (the caller releases them).
std::vector<cl_event> WaitList(Queue* q, const peng_hal_dispatch_t* d) {
  std::vector<cl_event> events;
  std::lock_guard<std::mutex> lock(q->launches_mutex);
  for (uint32_t i = 0; i < d->wait_count; ++i) {
    auto it = q->launches.find(d->waits[i]);
    if (it == q->launches.end()) continue;  // complete already
    clRetainEvent(it->second);
    events.push_back(it->second);
  }
  return events;
}

std::string Dims(const size_t* v) {
  return std::to_string(v[0]) + "x" + std::to_string(v[1]) + "x" + std::to_string(v[2]);
}

// One forced CL_OUT_OF_RESOURCES (setting force_out_of_resources), if any is left.
// Counts a launch down to the test setting's loss; true once it is reached.
bool ForcedLoss(Device* dev) {
  int64_t left = dev->force_device_lost.load();
  while (left > 0) {
    if (dev->force_device_lost.compare_exchange_weak(left, left - 1)) return false;
  }
  return left == 0;
}

bool TakeForcedFailure(Device* dev) {
  uint64_t left = dev->force_out_of_resources.load();
  while (left > 0) {
    if (dev->force_out_of_resources.compare_exchange_weak(left, left - 1)) return true;
  }
  return false;
}

// Halves the local size along its largest dimension and recomputes the
// global size as whole groups over at least the old range, so every
// work-item of the launch still runs once (the extra ones fail the kernel's
// bounds check). False when every dimension is at 1 already.
bool ShrinkWorkGroup(size_t* global, size_t* local) {
  int largest = 0;
  for (int i = 1; i < 3; ++i) {
    if (local[i] > local[largest]) largest = i;
  }
  if (local[largest] <= 1) return false;
  size_t smaller = local[largest] / 2;
  size_t groups = (global[largest] + smaller - 1) / smaller;
  local[largest] = smaller;
  global[largest] = groups * smaller;
  return true;
}

peng_status_t EnqueueDispatch(peng_hal_queue_t* queue, const peng_hal_dispatch_t* d,
                              peng_hal_completion_t completion) {
  auto* q = reinterpret_cast<Queue*>(queue);
  Device* dev = q->device;
  if (dev->lost) return dev->Fail(PENG_ERROR_DEVICE_LOST, dev->Describe() + " is lost");
  if (ForcedLoss(dev)) return dev->FailCl(CL_DEVICE_NOT_AVAILABLE, "launch (force_device_lost)");
  auto* exe = reinterpret_cast<Executable*>(d->executable);
  if (!exe || d->entry >= exe->entries.size()) {
    return dev->Fail(PENG_ERROR_INVALID_ARGUMENT, "launch of entry " + std::to_string(d->entry) +
                                                      ", which the executable does not have");
  }
  Entry& e = *exe->entries[d->entry];
  // {0, 0, 0}: no local size, the driver chooses; a work-group is then one
  // work-item of the global size.
  bool driver_local = e.workgroup_size[0] == 0 || e.workgroup_size[1] == 0 ||
                      e.workgroup_size[2] == 0;
  size_t global[3], local[3];
  cl_uint dims = 1;
  for (int i = 0; i < 3; ++i) {
    local[i] = driver_local ? 1 : e.workgroup_size[i];
    global[i] = size_t(d->state.workgroup_count[i]) * local[i];
    if (global[i] == 0) {
      return dev->Fail(PENG_ERROR_INVALID_ARGUMENT,
                       "launch of '" + e.name + "' with no work-groups in dimension " +
                           std::to_string(i));
    }
    if (global[i] > 1 || local[i] > 1) dims = cl_uint(i + 1);
  }
  std::vector<cl_mem> mems;
  HostBindings host;
  if (peng_status_t st = BindingMems(dev, d, &mems, &host); st != PENG_OK) return st;
  // Scratch memory for the kernel's temporaries (pengc's workspace):
  // workspace_size bytes for each work-group along z (one per pengc
  // workgroup), made for this launch. Released at once: OpenCL keeps a
  // buffer alive until the commands that use it have finished.
  cl_mem workspace = nullptr;
  if (d->state.workspace_size) {
    uint64_t bytes = d->state.workspace_size * d->state.workgroup_count[2];
    if (bytes > dev->max_allocation) {
      return dev->Fail(PENG_ERROR_OUT_OF_MEMORY,
                       "launch of '" + e.name + "' needs a workspace of " + std::to_string(bytes) +
                           " bytes, more than one allocation may hold on " + dev->Describe());
    }
    cl_int err = CL_SUCCESS;
    workspace = clCreateBuffer(dev->context, CL_MEM_READ_WRITE, size_t(bytes), nullptr, &err);
    if (err != CL_SUCCESS) {
      return dev->FailCl(err, "launch of '" + e.name + "': its workspace of " +
                                  std::to_string(bytes) + " bytes");
    }
  }
  struct ReleaseMem {
    cl_mem mem;
    ~ReleaseMem() {
      if (mem) clReleaseMemObject(mem);
    }
  } release_workspace{workspace};
  std::vector<cl_event> waits = WaitList(q, d);
  cl_event event = nullptr;
  peng_status_t st = PENG_OK;
  {
    std::lock_guard<std::mutex> lock(e.mutex);
    st = SetArguments(dev, e, d, mems.data(), workspace);
    uint32_t retries = 0;
    while (st == PENG_OK) {
      cl_int err = CL_OUT_OF_RESOURCES;
      if (!TakeForcedFailure(dev)) {
        err = clEnqueueNDRangeKernel(q->queue, e.kernel, dims, nullptr, global,
                                     driver_local ? nullptr : local, cl_uint(waits.size()),
                                     waits.empty() ? nullptr : waits.data(), &event);
      }
      if (err == CL_SUCCESS) break;
      bool may_shrink = !driver_local && !e.fixed_local_size &&
                        (err == CL_OUT_OF_RESOURCES || err == CL_INVALID_WORK_GROUP_SIZE);
      if (may_shrink && ShrinkWorkGroup(global, local)) {
        ++retries;
        Counters().launch_retries.fetch_add(1);
        continue;
      }
      std::string what = "launch of '" + e.name + "' (global " + Dims(global) + ", local " +
                         (driver_local ? std::string("the driver's choice") : Dims(local));
      if (retries)
        what += ", after " + std::to_string(retries) + " retries with smaller work-groups";
      st = dev->FailCl(err, what + ")");
    }
  }
  for (cl_event w : waits) clReleaseEvent(w);
  if (st == PENG_OK && !host.wrappers.empty()) st = SyncHostBindings(q, host, &event);
  if (st != PENG_OK) return st;
  // With host bindings the event is the sync's, not the kernel's: no
  // timestamps then (the runtime falls back to its own clock).
  uint64_t* timestamps = host.wrappers.empty() ? d->timestamps : nullptr;
  auto op = std::make_unique<Operation>(
      Operation{q, completion, timestamps, d->id, "launch of '" + e.name + "'"});
  return Track(q, event, std::move(op));
}

peng_status_t WaitIdle(peng_hal_queue_t* queue, uint64_t timeout_ns) {
  auto* q = reinterpret_cast<Queue*>(queue);
  std::unique_lock<std::mutex> lock(q->idle_mutex);
  auto idle = [q] { return q->outstanding == 0; };
  if (timeout_ns == PENG_WAIT_FOREVER) {
    q->idle.wait(lock, idle);
    return PENG_OK;
  }
  bool done = q->idle.wait_for(lock, std::chrono::nanoseconds(timeout_ns), idle);
  return done ? PENG_OK : PENG_ERROR_TIMEOUT;
}

void QueueDestroy(peng_hal_queue_t* queue) {
  auto* q = reinterpret_cast<Queue*>(queue);
  WaitIdle(queue, PENG_WAIT_FOREVER);
  clFinish(q->queue);
  clReleaseCommandQueue(q->queue);
  delete q;
}

const peng_hal_queue_vtable_t kQueueVtable = {
    /*.destroy = */ QueueDestroy,
    /*.enqueue_copy = */ EnqueueCopy,
    /*.enqueue_dispatch = */ EnqueueDispatch,
    /*.wait_idle = */ WaitIdle,
    /*.help = */ nullptr,  // (optional) the work runs on the device, not on host threads
    /*.flags = */ PENG_HAL_QUEUE_ORDERING,
};

}  // namespace

peng_status_t CreateQueue(Device* dev, peng_hal_queue_t** out) {
  cl_command_queue_properties props = CL_QUEUE_PROFILING_ENABLE;
  if (dev->out_of_order) props |= CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE;
  cl_int err = CL_SUCCESS;
  cl_command_queue cq = ClCreateQueue(dev->context, dev->id, props, &err);
  if (err != CL_SUCCESS) return dev->FailCl(err, "creating a command queue");
  auto* q = new Queue();
  q->base.resource.vtable = &kQueueVtable;
  q->device = dev;
  q->queue = cq;
  *out = &q->base;
  return PENG_OK;
}

}  // namespace peng::opencl
