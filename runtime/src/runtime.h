// Runtime: owns the devices (from the built-in backends, plugins and a
// platform profile), the scheduler, the performance models and the tracer.
// Every object made from a runtime keeps it alive.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/handle_table.h"
#include "base/ref_count.h"
#include "base/status.h"
#include "hal/device.h"
#include "peng/hal.h"

namespace peng::rt {

class Scheduler;
class PerfModels;
class Tracer;

struct RuntimeOptions {
  peng_policy_t policy = PENG_POLICY_EAGER;
  std::string platform_path;
  std::string plugin_path;
  std::string perf_model_path;
  uint32_t cpu_threads = 0;
  bool enable_trace = false;
  bool enable_null_device = false;
  uint32_t watchdog_ms = 0;  // 0: the backends' defaults
  static RuntimeOptions FromC(const peng_runtime_options_t* options);
};

// Non-zero while this thread runs a device's completion callback.
extern thread_local int t_device_callback_depth;
struct DeviceCallbackScope {
  DeviceCallbackScope() { ++t_device_callback_depth; }
  ~DeviceCallbackScope() { --t_device_callback_depth; }
};

class Runtime : public RefCounted<Runtime> {
 public:
  // Hides RefCounted::Release. A last reference dropped inside a device
  // callback (a task's data outliving every handle) must not destroy the
  // devices from one of their own threads: destruction moves to a new thread.
  void Release() const;

  static Result<Ref<Runtime>> Create(const RuntimeOptions& options);
  ~Runtime();

  uint32_t device_count() const { return uint32_t(devices_.size()); }
  Device* device(size_t index) const { return devices_[index].get(); }
  Device* FindDevice(const std::string& name) const;
  uint32_t space_count() const { return uint32_t(space_owners_.size()); }
  // The device whose memory a space is (nullptr for host memory, space 0).
  Device* space_owner(uint32_t space) const { return space_owners_[space]; }
  uint32_t queue_depth(uint32_t device) const { return queue_depths_[device]; }
  // Devices of the profile the runtime runs without (AddDevice says when).
  struct AbsentDevice {
    std::string name, reason;
  };
  const std::vector<AbsentDevice>& absent_devices() const { return absent_; }

  Scheduler& scheduler() { return *scheduler_; }
  PerfModels& perf_models() { return *perf_models_; }
  Tracer* tracer() const { return tracer_.get(); }
  bool learn_models() const { return !options_.perf_model_path.empty(); }
  std::mutex& graph_mutex() { return graph_mutex_; }

  void OnDeviceLost(uint32_t device);
  Status SavePerfModels(const std::string& path) const;
  // Waits for work, then saves models: what peng_runtime_release does before
  // dropping the user's reference.
  void Shutdown();

 private:
  Runtime() = default;
  Status LoadPlugins(const std::string& path);
  Status CreateDevices();
  // kind_given: params.kind is the profile's word and overrides the backend's.
  // A device the backend cannot reach (create_device says DEVICE_LOST: an
  // emulated device whose server would not start), or an `optional` one that
  // fails to come up, is absent: listed with its reason, and the runtime
  // starts without it.
  Status AddDevice(const peng_hal_factory_t* factory, uint32_t index,
                   peng_hal_device_params_t params, uint32_t queue_depth,
                   bool kind_given = false, bool optional = false,
                   Device::KernelClasses classes = Device::KernelClasses::kAll);
  const peng_hal_factory_t* FindFactory(const std::string& name) const;
  std::vector<std::string> SpaceNames() const;

  RuntimeOptions options_;
  std::vector<const peng_hal_factory_t*> factories_;
  std::vector<void*> plugin_handles_;
  std::vector<Ref<Device>> devices_;
  std::vector<Device*> space_owners_{nullptr};
  std::vector<uint32_t> queue_depths_;
  std::vector<AbsentDevice> absent_;
  std::unique_ptr<PerfModels> perf_models_;
  std::unique_ptr<Tracer> tracer_;
  std::unique_ptr<Scheduler> scheduler_;
  std::mutex graph_mutex_;
};

template <>
struct HandleTraits<Runtime> {
  static constexpr HandleType kType = HandleType::kRuntime;
};

}  // namespace peng::rt
