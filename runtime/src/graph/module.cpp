#include "graph/module.h"

#include <algorithm>
#include <cstring>

#include "artifact/module_file.h"
#include "hal/device.h"
#include "runtime.h"

namespace peng::rt {

Kernel::Kernel(Runtime* runtime, std::string name)
    : runtime_ref_(runtime), runtime_(runtime), name_(std::move(name)) {}

Kernel::~Kernel() {
  for (size_t i = 0; i < executables_.size(); ++i) {
    if (executables_[i]) runtime_->device(i)->DestroyExecutable(executables_[i]);
  }
}

static Status CheckDef(const peng_native_kernel_def_t& def) {
  if (!def.name || !*def.name) return Error(PENG_ERROR_INVALID_ARGUMENT, "kernel def without a name");
  if (std::strlen(def.name) >= PENG_MAX_NAME) {
    return Error(PENG_ERROR_INVALID_ARGUMENT, "kernel name '", def.name, "' is too long");
  }
  if (!def.target || !*def.target) {
    return Error(PENG_ERROR_INVALID_ARGUMENT, "kernel '", def.name, "' has no target");
  }
  if (!def.fn) return Error(PENG_ERROR_INVALID_ARGUMENT, "kernel '", def.name, "' has no function");
  if (def.arg_count > 0 && !def.args) {
    return Error(PENG_ERROR_INVALID_ARGUMENT, "kernel '", def.name, "': args is NULL");
  }
  for (uint32_t i = 0; i < def.arg_count; ++i) {
    const peng_arg_desc_t& a = def.args[i];
    if (RawEnum(a.dtype) <= PENG_DTYPE_INVALID || RawEnum(a.dtype) >= PENG_DTYPE_COUNT_) {
      return Error(PENG_ERROR_INVALID_ARGUMENT, "kernel '", def.name, "' argument ", i,
                   " has an invalid dtype");
    }
    if (RawEnum(a.access) < PENG_ACCESS_READ || RawEnum(a.access) > PENG_ACCESS_READWRITE) {
      return Error(PENG_ERROR_INVALID_ARGUMENT, "kernel '", def.name, "' argument ", i,
                   " has an invalid access mode");
    }
    if (a.rank > PENG_MAX_RANK) {
      return Error(PENG_ERROR_INVALID_ARGUMENT, "kernel '", def.name, "' argument ", i,
                   " has rank ", a.rank, " > ", PENG_MAX_RANK);
    }
    for (uint32_t d = 0; d < a.rank; ++d) {
      if (a.shape[d] < -1) {
        return Error(PENG_ERROR_INVALID_ARGUMENT, "kernel '", def.name, "' argument ", i,
                     " dim ", d, " is ", a.shape[d], " (use -1 for dynamic)");
      }
    }
  }
  for (const peng_grid_dim_t& g : def.grid) {
    if (g.tile == 0) continue;
    if (g.arg >= def.arg_count || g.dim >= def.args[g.arg].rank) {
      return Error(PENG_ERROR_INVALID_ARGUMENT, "kernel '", def.name,
                   "': grid refers to argument ", g.arg, " dim ", g.dim, ", which does not exist");
    }
  }
  return OkStatus();
}

Status Kernel::Init(const peng_native_kernel_def_t& def) {
  PENG_RETURN_IF_ERROR(CheckDef(def));
  args_.assign(def.args, def.args + def.arg_count);
  constant_count_ = def.constant_count;
  std::memcpy(grid_, def.grid, sizeof(grid_));
  cost_ = def.cost;
  return AddVariant(def);
}

Status Kernel::AddVariant(const peng_native_kernel_def_t& def) {
  PENG_RETURN_IF_ERROR(CheckDef(def));
  bool same_signature = def.arg_count == args_.size() && def.constant_count == constant_count_ &&
                        std::memcmp(def.grid, grid_, sizeof(grid_)) == 0;
  for (uint32_t i = 0; same_signature && i < def.arg_count; ++i) {
    same_signature = std::memcmp(&def.args[i], &args_[i], sizeof(peng_arg_desc_t)) == 0;
  }
  if (!same_signature) {
    return Error(PENG_ERROR_INVALID_ARGUMENT, "kernel '", name_, "': variant for target ",
                 def.target, " has a different signature from the first variant");
  }
  for (const auto& v : variants_) {
    if (v.target == def.target) {
      return Error(PENG_ERROR_INVALID_ARGUMENT, "kernel '", name_, "' has two variants for target ",
                   def.target);
    }
  }
  KernelVariant variant;
  variant.target = def.target;
  variant.fn = def.fn;
  variants_.push_back(std::move(variant));
  return OkStatus();
}

Status Kernel::LoadOnDevices() {
  uint32_t n = runtime_->device_count();
  executables_.assign(n, nullptr);
  for (uint32_t d = 0; d < n && d < 64; ++d) {
    Device* device = runtime_->device(d);
    for (const auto& v : variants_) {
      peng_hal_kernel_spec_t spec{};
      spec.name = name_.c_str();
      spec.target = v.target.c_str();
      spec.fn = v.fn;
      spec.code = v.code.empty() ? nullptr : v.code.data();
      spec.code_size = v.code.size();
      spec.format = v.format.empty() ? nullptr : v.format.c_str();
      spec.entry = v.entry.empty() ? nullptr : v.entry.c_str();
      spec.arch = v.arch.empty() ? nullptr : v.arch.c_str();
      spec.min_vlen = v.min_vlen;
      spec.max_vlen = v.max_vlen;
      auto supported = device->Supports(spec);
      if (!supported.ok()) return supported.status();
      if (!*supported) continue;
      auto exe = device->LoadExecutable(spec);
      if (!exe.ok()) {
        // The device claimed the target but cannot load this code: it does
        // not get the kernel; another variant or device may still run it.
        Report(exe.status());
        continue;
      }
      executables_[d] = *exe;
      supported_mask_ |= uint64_t(1) << d;
      break;
    }
  }
  return OkStatus();
}

Result<Ref<Module>> Module::CreateNative(Runtime* runtime, std::string name,
                                         const peng_native_kernel_def_t* defs, uint32_t count) {
  if (count > 0 && !defs) return Error(PENG_ERROR_INVALID_ARGUMENT, "defs is NULL");
  Ref<Module> module = MakeRef<Module>();
  module->runtime_ = Ref<Runtime>(runtime);
  module->name_ = std::move(name);
  for (uint32_t i = 0; i < count; ++i) {
    const char* kname = defs[i].name ? defs[i].name : "";
    if (Kernel* existing = module->Find(kname)) {
      PENG_RETURN_IF_ERROR(existing->AddVariant(defs[i]));
      continue;
    }
    Ref<Kernel> kernel = MakeRef<Kernel>(runtime, kname);
    PENG_RETURN_IF_ERROR(kernel->Init(defs[i]));
    module->kernels_.push_back(std::move(kernel));
  }
  for (auto& k : module->kernels_) PENG_RETURN_IF_ERROR(k->LoadOnDevices());
  return module;
}

Status Kernel::InitFromArtifact(artifact::KernelInfo&& info) {
  // The parser has checked ranges and names; the native checks apply too.
  args_.clear();
  for (const auto& a : info.args) {
    peng_arg_desc_t d{};
    d.dtype = a.dtype;
    d.access = a.access;
    d.rank = uint32_t(a.shape.size());
    for (size_t i = 0; i < a.shape.size(); ++i) d.shape[i] = a.shape[i];
    args_.push_back(d);
  }
  constant_count_ = info.constant_count;
  std::memcpy(grid_, info.grid, sizeof(grid_));
  static_flops_ = info.flops;
  static_bytes_ = info.bytes;
  workspace_bytes_ = info.workspace;
  in_place_ = std::move(info.in_place);
  for (auto& v : info.variants) {
    for (const auto& existing : variants_) {
      if (existing.target == v.target && existing.min_vlen == v.min_vlen &&
          existing.max_vlen == v.max_vlen) {
        return Error(PENG_ERROR_CORRUPT_DATA, "kernel '", name_, "' has two variants for target ",
                     v.target);
      }
    }
    KernelVariant kv;
    kv.target = std::move(v.target);
    kv.code = std::move(v.code);
    kv.format = std::move(v.format);
    kv.entry = std::move(v.symbol);
    kv.arch = std::move(v.arch);
    kv.min_vlen = v.min_vlen;
    kv.max_vlen = v.max_vlen;
    variants_.push_back(std::move(kv));
  }
  // Specialised variants (a VLEN range) before generic ones: the first a
  // device supports wins.
  std::stable_sort(variants_.begin(), variants_.end(), [](const auto& a, const auto& b) {
    return (a.min_vlen || a.max_vlen) > (b.min_vlen || b.max_vlen);
  });
  return OkStatus();
}

Result<Ref<Module>> Module::Load(Runtime* runtime, std::string name, const void* data,
                                 uint64_t size) {
  if (!data && size) return Error(PENG_ERROR_INVALID_ARGUMENT, "data is NULL");
  std::string error;
  auto file = artifact::Parse(static_cast<const uint8_t*>(data), size_t(size), &error);
  if (!file) return Error(PENG_ERROR_CORRUPT_DATA, error);
  Ref<Module> module = MakeRef<Module>();
  module->runtime_ = Ref<Runtime>(runtime);
  module->name_ = std::move(name);
  for (auto& info : file->kernels) {
    Ref<Kernel> kernel = MakeRef<Kernel>(runtime, info.name);
    PENG_RETURN_IF_ERROR(kernel->InitFromArtifact(std::move(info)));
    module->kernels_.push_back(std::move(kernel));
  }
  for (auto& k : module->kernels_) PENG_RETURN_IF_ERROR(k->LoadOnDevices());
  return module;
}

Kernel* Module::Find(const std::string& name) const {
  for (const auto& k : kernels_) {
    if (k->name() == name) return k.get();
  }
  return nullptr;
}

}  // namespace peng::rt
