// Module, Kernel and Executable. A kernel has a signature (argument dtypes,
// shapes, access modes) and a cost rule; its code lives in executables, one
// per target variant of the module (module.peng's, or a set of native
// functions), each holding many kernels as entries. At creation each device
// picks, per kernel, the best executable it supports and loads each
// executable it needs once; the scheduler then reads the result without
// locks.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/handle_table.h"
#include "base/ref_count.h"
#include "base/status.h"
#include "peng/hal.h"

namespace peng::rt {

class Runtime;
class Device;

// One loadable unit of code and what the HAL needs to load it.
class Executable : public RefCounted<Executable> {
 public:
  struct Entry {
    uint32_t kernel;  // index in the module
    std::string symbol;
    peng_kernel_fn_t fn = nullptr;
    peng_grid_dim_t grid[3] = {};
    uint32_t workgroup_size[3] = {1, 1, 1};
    uint64_t workspace = 0;
  };

  explicit Executable(Runtime* runtime) : runtime_(runtime) {}
  ~Executable();

  std::string target, format, arch, features;  // features comma-separated
  uint32_t feature_count = 0;
  uint32_t min_vlen = 0, max_vlen = 0;
  std::vector<uint8_t> code;
  std::vector<Entry> entries;
  std::vector<std::string> names;  // kernel names, by entry

  // Index of the entry for a kernel, or -1.
  int FindEntry(uint32_t kernel) const;
  // Loads on a device once; later calls return the first outcome. Sets
  // *why_not when the device does not support the code.
  Result<peng_hal_executable_t*> LoadOn(uint32_t device, std::string* why_not);
  std::string Describe() const;  // "host code (x86-64-v4)"
  std::string cpu;

 private:
  Runtime* runtime_;
  // Per device: 0 untried, 1 loaded, 2 not supported or failed.
  std::vector<uint8_t> state_;
  std::vector<peng_hal_executable_t*> loaded_;
  std::vector<std::string> why_not_;
};

// What the scheduler needs to launch a kernel on one device.
struct KernelLaunch {
  peng_hal_executable_t* executable = nullptr;
  uint32_t entry = 0;
  // Set when this variant splits the work unlike Kernel::grid(): the
  // dispatch then computes its own workgroup counts from `grid`.
  bool own_grid = false;
  peng_grid_dim_t grid[3] = {};
  uint64_t workspace = 0;
};

class Kernel : public RefCounted<Kernel> {
 public:
  Kernel(Runtime* runtime, std::string name);
  ~Kernel();

  const std::string& name() const { return name_; }
  const std::vector<peng_arg_desc_t>& args() const { return args_; }
  uint32_t constant_count() const { return constant_count_; }
  // The grid of the kernel's first variant (all of a native kernel's); the
  // launch on a device uses that device's variant's own (launch()).
  const peng_grid_dim_t* grid() const { return grid_; }
  peng_cost_fn_t cost_fn() const { return cost_; }
  // Static counts from module.peng, used when there is no cost_fn; 0 if unknown.
  double static_flops() const { return static_flops_; }
  double static_bytes() const { return static_bytes_; }
  // Whether arguments a and b (either order) may be bound to one buffer.
  bool InPlaceAllowed(uint32_t a, uint32_t b) const {
    for (auto [x, y] : in_place_) {
      if ((x == a && y == b) || (x == b && y == a)) return true;
    }
    return false;
  }
  Runtime* runtime() const { return runtime_; }
  // Data-plane work (module.peng's "class": data_plane), the kind a DPU is
  // for; compute otherwise, native kernels included. Placement does not
  // depend on it yet.
  bool data_plane() const { return data_plane_; }

  // Devices (by index) that have code for this kernel.
  uint64_t supported_mask() const { return supported_mask_; }
  bool SupportedOn(uint32_t device) const { return (supported_mask_ >> device) & 1; }
  const KernelLaunch& launch(uint32_t device) const { return launches_[device]; }
  // Why devices have no code for this kernel ("" if every device has).
  const std::string& unsupported_reason() const { return unsupported_reason_; }

 private:
  friend class Module;
  Status Init(const peng_native_kernel_def_t& def);
  Status CheckSameSignature(const peng_native_kernel_def_t& def) const;

  Ref<Runtime> runtime_ref_;
  Runtime* runtime_;
  std::string name_;
  std::vector<peng_arg_desc_t> args_;
  uint32_t constant_count_ = 0;
  peng_grid_dim_t grid_[3] = {};
  peng_cost_fn_t cost_ = nullptr;
  double static_flops_ = 0, static_bytes_ = 0;
  std::vector<std::pair<uint32_t, uint32_t>> in_place_;
  bool data_plane_ = false;
  uint64_t supported_mask_ = 0;
  std::vector<KernelLaunch> launches_;  // per device index
  std::vector<Ref<Executable>> executables_;  // keeps launches_' code alive
  std::string unsupported_reason_;
};

class Module : public RefCounted<Module> {
 public:
  static Result<Ref<Module>> CreateNative(Runtime* runtime, std::string name,
                                          const peng_native_kernel_def_t* defs, uint32_t count);
  // Validates and loads a module.peng image (artifact/module_file.h).
  static Result<Ref<Module>> Load(Runtime* runtime, std::string name, const void* data,
                                  uint64_t size);
  const std::string& name() const { return name_; }
  const std::vector<Ref<Kernel>>& kernels() const { return kernels_; }
  // Kernel handles, registered so they can be invalidated with the module.
  std::vector<uint64_t>& kernel_handles() { return kernel_handles_; }
  Kernel* Find(const std::string& name) const;
  Runtime* runtime() const { return runtime_.get(); }

 private:
  // Picks and loads, per device and kernel, the best executable the device
  // supports.
  Status LoadOnDevices();

  Ref<Runtime> runtime_;
  std::string name_;
  std::vector<Ref<Kernel>> kernels_;
  std::vector<Ref<Executable>> executables_;  // most specific first
  std::vector<uint64_t> kernel_handles_;
};

template <>
struct HandleTraits<Kernel> {
  static constexpr HandleType kType = HandleType::kKernel;
};
template <>
struct HandleTraits<Module> {
  static constexpr HandleType kType = HandleType::kModule;
};

}  // namespace peng::rt
