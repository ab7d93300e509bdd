// Module and Kernel. A kernel has a signature (argument dtypes, shapes,
// access modes), a grid rule, a cost rule, and code variants per target. At
// creation each device is asked which variant it supports, and loads it once;
// the scheduler then reads the result without locks.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/handle_table.h"
#include "base/ref_count.h"
#include "base/status.h"
#include "peng/hal.h"

namespace peng::artifact {
struct KernelInfo;
}

namespace peng::rt {

class Runtime;
class Device;

struct KernelVariant {
  std::string target;
  peng_kernel_fn_t fn = nullptr;
  // Code from module.peng (empty for native kernels).
  std::vector<uint8_t> code;
  std::string format, entry, arch;
  uint32_t min_vlen = 0, max_vlen = 0;
};

class Kernel : public RefCounted<Kernel> {
 public:
  Kernel(Runtime* runtime, std::string name);
  ~Kernel();

  const std::string& name() const { return name_; }
  const std::vector<peng_arg_desc_t>& args() const { return args_; }
  uint32_t constant_count() const { return constant_count_; }
  const peng_grid_dim_t* grid() const { return grid_; }
  peng_cost_fn_t cost_fn() const { return cost_; }
  // Static counts from module.peng, used when there is no cost_fn; 0 if unknown.
  double static_flops() const { return static_flops_; }
  double static_bytes() const { return static_bytes_; }
  // Scratch bytes per running workgroup (module.peng's "workspace").
  uint64_t workspace_bytes() const { return workspace_bytes_; }
  // Whether arguments a and b (either order) may be bound to one buffer.
  bool InPlaceAllowed(uint32_t a, uint32_t b) const {
    for (auto [x, y] : in_place_) {
      if ((x == a && y == b) || (x == b && y == a)) return true;
    }
    return false;
  }
  Runtime* runtime() const { return runtime_; }

  // Devices (by index) that have code for this kernel.
  uint64_t supported_mask() const { return supported_mask_; }
  bool SupportedOn(uint32_t device) const { return (supported_mask_ >> device) & 1; }
  peng_hal_executable_t* executable(uint32_t device) const { return executables_[device]; }

  // Set up by Module::Create.
  Status Init(const peng_native_kernel_def_t& def);
  Status AddVariant(const peng_native_kernel_def_t& def);
  Status InitFromArtifact(artifact::KernelInfo&& info);
  Status LoadOnDevices();

 private:
  Ref<Runtime> runtime_ref_;
  Runtime* runtime_;
  std::string name_;
  std::vector<peng_arg_desc_t> args_;
  uint32_t constant_count_ = 0;
  peng_grid_dim_t grid_[3] = {};
  peng_cost_fn_t cost_ = nullptr;
  double static_flops_ = 0, static_bytes_ = 0;
  uint64_t workspace_bytes_ = 0;
  std::vector<std::pair<uint32_t, uint32_t>> in_place_;
  std::vector<KernelVariant> variants_;
  uint64_t supported_mask_ = 0;
  std::vector<peng_hal_executable_t*> executables_;  // per device index
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
  Ref<Runtime> runtime_;
  std::string name_;
  std::vector<Ref<Kernel>> kernels_;
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
