// Device: the runtime's side of one HAL device. It owns the backend's device
// object and its queue, keeps the device's info, and turns vtable calls into
// Status returns.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "base/handle_table.h"
#include "base/ref_count.h"
#include "base/status.h"
#include "peng/hal.h"

namespace peng::rt {

class Runtime;

struct LinkParams {
  double gbps = 0;  // 0: unknown; the transfer model learns it
  double latency_us = 0;
};

class Device : public RefCounted<Device> {
 public:
  // Takes ownership of hal_device.
  static Result<Ref<Device>> Create(Runtime* runtime, uint32_t index, std::string backend,
                                    peng_hal_device_t* hal_device,
                                    const peng_hal_device_params_t& params);
  ~Device();

  Runtime* runtime() const { return runtime_; }
  uint32_t index() const { return index_; }
  const peng_device_info_t& info() const { return info_; }
  const char* name() const { return info_.name; }
  uint32_t memory_space() const { return info_.memory_space; }
  const LinkParams& link() const { return link_; }
  const peng_hal_device_params_t& params() const { return params_; }
  peng_hal_device_t* hal() const { return hal_; }
  peng_hal_queue_t* queue() const { return queue_; }
  // The queue chains dependent launches on the device (PENG_HAL_QUEUE_ORDERING).
  bool ordering() const { return ordering_; }

  // Before the device is published: readers copy info_ unlocked.
  void set_kind(peng_device_kind_t kind) { info_.kind = kind; }
  // Which kernels the device takes, by class (a profile's `kernels`): a DPU
  // is for data-plane work, an accelerator may be for compute only.
  enum class KernelClasses : uint8_t { kAll, kDataPlane, kCompute };
  KernelClasses kernel_classes() const { return kernel_classes_; }
  void set_kernel_classes(KernelClasses classes) { kernel_classes_ = classes; }
  bool lost() const { return lost_.load(std::memory_order_acquire); }
  // Marks the device lost for good; returns true the first time.
  bool MarkLost();

  // Whether the device can run `spec`; when not, *why_not gets the backend's
  // reason if it gave one.
  Result<int> Supports(const peng_hal_executable_spec_t& spec, std::string* why_not = nullptr);
  Result<peng_hal_executable_t*> LoadExecutable(const peng_hal_executable_spec_t& spec);
  void DestroyExecutable(peng_hal_executable_t* executable);
  Result<peng_hal_buffer_t*> Allocate(uint64_t size);
  Status EnqueueCopy(const peng_hal_copy_t& copy, peng_hal_completion_t completion);
  Status EnqueueDispatch(const peng_hal_dispatch_t& dispatch, peng_hal_completion_t completion);
  Status WaitIdle(uint64_t timeout_ns);
  // Runs queued operations that take(user, completion) accepts on this
  // thread, if the backend offers it (the queue's optional `help` slot);
  // returns how many ran.
  uint32_t Help(int (*take)(void* user, const peng_hal_completion_t* completion), void* user) {
    return help_ ? help_(queue_, take, user) : 0;
  }
  // Asks the backend whether the device is still there.
  Status CheckHealth();
  // The backend's "Name: value" lines (HAL `describe`), "" without one.
  std::string Describe();

 private:
  Device() = default;
  const peng_hal_device_vtable_t* vtable() const {
    return PENG_HAL_VTABLE(hal_, peng_hal_device_vtable_t);
  }

  Runtime* runtime_ = nullptr;
  uint32_t index_ = 0;
  std::string backend_;
  std::string name_storage_;
  peng_hal_device_params_t params_{};
  peng_hal_device_t* hal_ = nullptr;
  peng_hal_queue_t* queue_ = nullptr;
  decltype(peng_hal_queue_vtable_t::help) help_ = nullptr;
  bool ordering_ = false;
  KernelClasses kernel_classes_ = KernelClasses::kAll;
  peng_device_info_t info_{};
  LinkParams link_;
  std::atomic<bool> lost_{false};
};

template <>
struct HandleTraits<Device> {
  static constexpr HandleType kType = HandleType::kDevice;
};

// peng_hal_device_params_t.set_error: keeps `message` for this thread's
// next TakeHalError and returns `code`.
peng_status_t HalSetError(peng_status_t code, const char* message);
// The message a backend attached on this thread since the last call, or "".
std::string TakeHalError();

// Host memory as a HAL buffer: the runtime's own copies in memory space 0.
Result<peng_hal_buffer_t*> AllocateHostBuffer(uint64_t size);
// The host pointer of a mappable HAL buffer.
Result<void*> MapBuffer(peng_hal_buffer_t* buffer);
void DestroyBuffer(peng_hal_buffer_t* buffer);

}  // namespace peng::rt
