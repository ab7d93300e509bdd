#include "hal/device.h"

#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <string>

namespace peng::rt {

namespace {
// The message a backend attached to the status it is about to return (or
// pass to a completion) on this thread; see peng_hal_device_params_t.set_error.
thread_local std::string t_hal_error;
thread_local bool t_hal_error_set = false;

// "what: backend's message" when the backend said something, else "what: STATUS".
std::string Explain(const std::string& what, peng_status_t st) {
  std::string message = TakeHalError();
  return what + ": " + (message.empty() ? std::string(peng_status_string(st)) : message);
}
}  // namespace

peng_status_t HalSetError(peng_status_t code, const char* message) {
  t_hal_error = message ? message : "";
  t_hal_error_set = true;
  return code;
}

std::string TakeHalError() {
  if (!t_hal_error_set) return {};
  t_hal_error_set = false;
  return std::move(t_hal_error);
}

Result<Ref<Device>> Device::Create(Runtime* runtime, uint32_t index, std::string backend,
                                   peng_hal_device_t* hal_device,
                                   const peng_hal_device_params_t& params) {
  Ref<Device> device = Ref<Device>::Adopt(new Device());
  device->runtime_ = runtime;
  device->index_ = index;
  device->backend_ = std::move(backend);
  device->hal_ = hal_device;
  device->params_ = params;
  device->name_storage_ = params.name ? params.name : "";
  device->params_.name = device->name_storage_.c_str();
  device->params_.targets = nullptr;  // not owned; backends copied what they needed
  device->link_.gbps = params.link_gbps;
  device->link_.latency_us = params.link_latency_us;

  const auto* vt = device->vtable();
  if (!vt || !vt->destroy || !vt->query_info || !vt->supports || !vt->allocate ||
      !vt->load_executable || !vt->create_queue) {
    return Error(PENG_ERROR_PLUGIN_LOAD, "backend '", device->backend_,
                 "' returned a device whose vtable lacks a required slot");
  }
  peng_device_info_t info{};
  peng_status_t st = vt->query_info(hal_device, &info);
  if (st != PENG_OK) {
    return Error(st, "device '", device->name_storage_, "' (backend ", device->backend_,
                 "): query_info failed: ", peng_status_string(st));
  }
  // The runtime is the authority on names and memory spaces.
  std::snprintf(info.name, sizeof(info.name), "%s", device->name_storage_.c_str());
  std::snprintf(info.backend, sizeof(info.backend), "%s", device->backend_.c_str());
  info.memory_space = params.memory_space;
  device->info_ = info;

  st = vt->create_queue(hal_device, &device->queue_);
  if (st != PENG_OK || !device->queue_) {
    return Error(st == PENG_OK ? PENG_ERROR_INTERNAL : st, "device '", device->name_storage_,
                 "': create_queue failed: ", peng_status_string(st));
  }
  const auto* qvt = PENG_HAL_VTABLE(device->queue_, peng_hal_queue_vtable_t);
  if (!qvt || !qvt->destroy || !qvt->enqueue_copy || !qvt->enqueue_dispatch || !qvt->wait_idle) {
    return Error(PENG_ERROR_PLUGIN_LOAD, "device '", device->name_storage_,
                 "': queue vtable lacks a required slot");
  }
  device->help_ = qvt->help;
  device->ordering_ = (qvt->flags & PENG_HAL_QUEUE_ORDERING) != 0;
  return device;
}

Device::~Device() {
  if (queue_) {
    const auto* qvt = PENG_HAL_VTABLE(queue_, peng_hal_queue_vtable_t);
    if (qvt && qvt->wait_idle) qvt->wait_idle(queue_, PENG_WAIT_FOREVER);
    if (qvt && qvt->destroy) qvt->destroy(queue_);
  }
  if (hal_ && vtable() && vtable()->destroy) vtable()->destroy(hal_);
}

bool Device::MarkLost() {
  bool expected = false;
  // info_ stays as queried: readers copy it unlocked, and peng_device_info
  // fills `lost` from lost().
  return lost_.compare_exchange_strong(expected, true);
}

Result<int> Device::Supports(const peng_hal_executable_spec_t& spec, std::string* why_not) {
  int supported = 0;
  TakeHalError();
  peng_status_t st = vtable()->supports(hal_, &spec, &supported);
  std::string message = TakeHalError();
  if (st != PENG_OK && !supported) {
    return Error(st, "device '", name(), "': supports() failed",
                 message.empty() ? "" : ": ", message);
  }
  if (!supported && why_not) *why_not = message;
  return supported != 0 ? 1 : 0;
}

Result<peng_hal_executable_t*> Device::LoadExecutable(const peng_hal_executable_spec_t& spec) {
  peng_hal_executable_t* exe = nullptr;
  TakeHalError();
  peng_status_t st = vtable()->load_executable(hal_, &spec, &exe);
  if (st != PENG_OK || !exe) {
    std::string what = std::string("device '") + name() + "' could not load the " + spec.target +
                       " code";
    return Error(st == PENG_OK ? PENG_ERROR_INTERNAL : st, Explain(what, st));
  }
  return exe;
}

void Device::DestroyExecutable(peng_hal_executable_t* executable) {
  if (!executable) return;
  PENG_HAL_VTABLE(executable, peng_hal_executable_vtable_t)->destroy(executable);
}

Result<peng_hal_buffer_t*> Device::Allocate(uint64_t size) {
  if (lost()) return Error(PENG_ERROR_DEVICE_LOST, "device '", name(), "' is lost");
  peng_hal_buffer_t* buffer = nullptr;
  TakeHalError();
  peng_status_t st = vtable()->allocate(hal_, size, &buffer);
  if (st != PENG_OK || !buffer) {
    return Error(st == PENG_OK ? PENG_ERROR_OUT_OF_MEMORY : st,
                 Explain("device '" + std::string(name()) + "' could not allocate " +
                             std::to_string(size) + " bytes",
                         st));
  }
  return buffer;
}

Status Device::EnqueueCopy(const peng_hal_copy_t& copy, peng_hal_completion_t completion) {
  if (lost()) return Error(PENG_ERROR_DEVICE_LOST, "device '", name(), "' is lost");
  TakeHalError();
  peng_status_t st =
      PENG_HAL_VTABLE(queue_, peng_hal_queue_vtable_t)->enqueue_copy(queue_, &copy, completion);
  if (st != PENG_OK) return Error(st, Explain("device '" + std::string(name()) + "': copy failed to enqueue", st));
  return OkStatus();
}

Status Device::EnqueueDispatch(const peng_hal_dispatch_t& dispatch,
                               peng_hal_completion_t completion) {
  if (lost()) return Error(PENG_ERROR_DEVICE_LOST, "device '", name(), "' is lost");
  TakeHalError();
  peng_status_t st = PENG_HAL_VTABLE(queue_, peng_hal_queue_vtable_t)
                         ->enqueue_dispatch(queue_, &dispatch, completion);
  if (st != PENG_OK) {
    return Error(st, Explain("device '" + std::string(name()) + "': dispatch failed to enqueue", st));
  }
  return OkStatus();
}

Status Device::WaitIdle(uint64_t timeout_ns) {
  peng_status_t st = PENG_HAL_VTABLE(queue_, peng_hal_queue_vtable_t)->wait_idle(queue_, timeout_ns);
  if (st != PENG_OK) return Error(st, "device '", name(), "': wait_idle failed");
  return OkStatus();
}

std::string Device::Describe() {
  auto describe = vtable()->describe;
  if (!describe) return {};
  size_t length = 0;
  if (describe(hal_, nullptr, 0, &length) != PENG_OK) return {};
  std::string text(length + 1, '\0');
  if (describe(hal_, text.data(), text.size(), &length) != PENG_OK) return {};
  text.resize(std::min(length, text.size() - 1));
  return text;
}

Status Device::CheckHealth() {
  if (lost()) return Error(PENG_ERROR_DEVICE_LOST, "device '", name(), "' is lost");
  if (!vtable()->check_health) return OkStatus();
  peng_status_t st = vtable()->check_health(hal_);
  if (st == PENG_ERROR_DEVICE_LOST) MarkLost();
  if (st != PENG_OK) return Error(st, "device '", name(), "' reports ", peng_status_string(st));
  return OkStatus();
}

// ------------------------------------------------------------------ host memory

namespace {

struct HostBuffer {
  peng_hal_buffer_t base;
  void* data;
  uint64_t size;
};

void HostBufferDestroy(peng_hal_buffer_t* buffer) {
  auto* host = reinterpret_cast<HostBuffer*>(buffer);
  std::free(host->data);
  delete host;
}

peng_status_t HostBufferMap(peng_hal_buffer_t* buffer, void** out_ptr) {
  *out_ptr = reinterpret_cast<HostBuffer*>(buffer)->data;
  return PENG_OK;
}

const peng_hal_buffer_vtable_t kHostBufferVtable = {
    /*.destroy = */ HostBufferDestroy,
    /*.map = */ HostBufferMap,
};

}  // namespace

Result<peng_hal_buffer_t*> AllocateHostBuffer(uint64_t size) {
  // Zeroed so that a buffer read before any write gives defined contents.
  void* data = std::calloc(1, size ? size : 1);
  if (!data) return Error(PENG_ERROR_OUT_OF_MEMORY, "host allocation of ", size, " bytes failed");
  auto* buffer = new HostBuffer{{{&kHostBufferVtable}}, data, size};
  return &buffer->base;
}

Result<void*> MapBuffer(peng_hal_buffer_t* buffer) {
  const auto* vt = PENG_HAL_VTABLE(buffer, peng_hal_buffer_vtable_t);
  if (!vt->map) return Error(PENG_ERROR_UNIMPLEMENTED, "buffer is not host visible");
  void* ptr = nullptr;
  peng_status_t st = vt->map(buffer, &ptr);
  if (st != PENG_OK) return Error(st, "mapping a buffer failed");
  return ptr;
}

void DestroyBuffer(peng_hal_buffer_t* buffer) {
  if (buffer) PENG_HAL_VTABLE(buffer, peng_hal_buffer_vtable_t)->destroy(buffer);
}

}  // namespace peng::rt
