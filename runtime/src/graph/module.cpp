#include "graph/module.h"

#include <algorithm>
#include <cstring>

#include "artifact/module_file.h"
#include "hal/device.h"
#include "runtime.h"

namespace peng::rt {

Kernel::Kernel(Runtime* runtime, std::string name)
    : runtime_ref_(runtime), runtime_(runtime), name_(std::move(name)) {}

Kernel::~Kernel() = default;

Executable::~Executable() {
  for (size_t i = 0; i < loaded_.size(); ++i) {
    if (loaded_[i]) runtime_->device(uint32_t(i))->DestroyExecutable(loaded_[i]);
  }
}

int Executable::FindEntry(uint32_t kernel) const {
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].kernel == kernel) return int(i);
  }
  return -1;
}

std::string Executable::Describe() const {
  std::string d = target + " code";
  if (!cpu.empty()) d += " for " + cpu;
  if (min_vlen || max_vlen) {
    d += " (VLEN " + (min_vlen == max_vlen ? std::to_string(min_vlen)
                                           : std::to_string(min_vlen) + "-" +
                                                 std::to_string(max_vlen)) + ")";
  }
  return d;
}

Result<peng_hal_executable_t*> Executable::LoadOn(uint32_t device, std::string* why_not) {
  if (state_.size() <= device) {
    state_.resize(device + 1, 0);
    loaded_.resize(device + 1, nullptr);
    why_not_.resize(device + 1);
  }
  if (state_[device] == 1) return loaded_[device];
  if (state_[device] == 2) {
    *why_not = why_not_[device];
    return static_cast<peng_hal_executable_t*>(nullptr);
  }
  std::vector<peng_hal_entry_spec_t> specs(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    peng_hal_entry_spec_t& e = specs[i];
    e.name = names[i].c_str();
    e.symbol = entries[i].symbol.empty() ? nullptr : entries[i].symbol.c_str();
    e.fn = entries[i].fn;
    std::memcpy(e.workgroup_size, entries[i].workgroup_size, sizeof(e.workgroup_size));
    e.workspace_size = entries[i].workspace;
  }
  peng_hal_executable_spec_t spec{};
  spec.target = target.c_str();
  spec.format = format.c_str();
  spec.code = code.empty() ? nullptr : code.data();
  spec.code_size = code.size();
  spec.arch = arch.empty() ? nullptr : arch.c_str();
  spec.features = features.c_str();
  spec.min_vlen = min_vlen;
  spec.max_vlen = max_vlen;
  spec.entry_count = uint32_t(specs.size());
  spec.entries = specs.data();
  Device* dev = runtime_->device(device);
  std::string reason;
  auto supported = dev->Supports(spec, &reason);
  if (!supported.ok()) return supported.status();
  if (!*supported) {
    state_[device] = 2;
    why_not_[device] = Describe() + (reason.empty() ? ": not supported" : ": " + reason);
    *why_not = why_not_[device];
    return static_cast<peng_hal_executable_t*>(nullptr);
  }
  auto exe = dev->LoadExecutable(spec);
  if (!exe.ok()) {
    // The device claimed the target but cannot load this code: it does not
    // get these kernels; another executable or device may still run them.
    Report(exe.status());
    state_[device] = 2;
    why_not_[device] = Describe() + ": " + exe.status().message();
    *why_not = why_not_[device];
    return static_cast<peng_hal_executable_t*>(nullptr);
  }
  state_[device] = 1;
  loaded_[device] = *exe;
  return *exe;
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
  return OkStatus();
}

Status Kernel::CheckSameSignature(const peng_native_kernel_def_t& def) const {
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
  return OkStatus();
}

Status Module::LoadOnDevices() {
  // Most specific code first: a VLEN range, then more ISA features (x86-64-v4
  // before v3); otherwise the file's order.
  std::stable_sort(executables_.begin(), executables_.end(), [](const auto& a, const auto& b) {
    bool av = a->min_vlen || a->max_vlen, bv = b->min_vlen || b->max_vlen;
    if (av != bv) return av;
    return a->feature_count > b->feature_count;
  });
  uint32_t n = std::min<uint32_t>(runtime_->device_count(), 64);
  for (uint32_t k = 0; k < kernels_.size(); ++k) {
    Kernel& kernel = *kernels_[k];
    kernel.launches_.assign(runtime_->device_count(), KernelLaunch{});
    std::string reasons;
    for (uint32_t d = 0; d < n; ++d) {
      std::string device_reasons;
      // The device's personality first: a DPU takes data-plane kernels only.
      Device::KernelClasses classes = runtime_->device(d)->kernel_classes();
      if ((classes == Device::KernelClasses::kDataPlane && !kernel.data_plane()) ||
          (classes == Device::KernelClasses::kCompute && kernel.data_plane())) {
        reasons += std::string(reasons.empty() ? "" : "; ") + runtime_->device(d)->name() +
                   ": it takes " +
                   (classes == Device::KernelClasses::kDataPlane ? "data-plane" : "compute") +
                   " kernels only (profile key `kernels`)";
        continue;
      }
      for (const Ref<Executable>& x : executables_) {
        int entry = x->FindEntry(k);
        if (entry < 0) continue;
        std::string why_not;
        auto loaded = x->LoadOn(d, &why_not);
        if (!loaded.ok()) return loaded.status();
        if (!*loaded) {
          device_reasons += (device_reasons.empty() ? "" : "; ") + why_not;
          continue;
        }
        const Executable::Entry& e = x->entries[size_t(entry)];
        KernelLaunch& l = kernel.launches_[d];
        l.executable = *loaded;
        l.entry = uint32_t(entry);
        std::memcpy(l.grid, e.grid, sizeof(l.grid));
        l.own_grid = std::memcmp(e.grid, kernel.grid_, sizeof(l.grid)) != 0;
        l.workspace = e.workspace;
        kernel.supported_mask_ |= uint64_t(1) << d;
        bool kept = false;
        for (const auto& held : kernel.executables_) kept |= held.get() == x.get();
        if (!kept) kernel.executables_.push_back(x);
        device_reasons.clear();
        break;
      }
      if (!kernel.SupportedOn(d)) {
        reasons += std::string(reasons.empty() ? "" : "; ") + runtime_->device(d)->name() + ": " +
                   (device_reasons.empty() ? "no code for its targets" : device_reasons);
      }
    }
    kernel.unsupported_reason_ = std::move(reasons);
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
    const peng_native_kernel_def_t& def = defs[i];
    const char* kname = def.name ? def.name : "";
    uint32_t k = 0;
    while (k < module->kernels_.size() && module->kernels_[k]->name() != kname) ++k;
    if (k < module->kernels_.size()) {
      PENG_RETURN_IF_ERROR(module->kernels_[k]->CheckSameSignature(def));
    } else {
      Ref<Kernel> kernel = MakeRef<Kernel>(runtime, kname);
      PENG_RETURN_IF_ERROR(kernel->Init(def));
      module->kernels_.push_back(std::move(kernel));
    }
    // Native functions of one target form one executable.
    Executable* x = nullptr;
    for (auto& e : module->executables_) {
      if (e->target == def.target) x = e.get();
    }
    if (!x) {
      module->executables_.push_back(MakeRef<Executable>(runtime));
      x = module->executables_.back().get();
      x->target = def.target;
      x->format = "native";
    }
    if (x->FindEntry(k) >= 0) {
      return Error(PENG_ERROR_INVALID_ARGUMENT, "kernel '", kname, "' has two variants for target ",
                   def.target);
    }
    Executable::Entry entry;
    entry.kernel = k;
    entry.fn = def.fn;
    std::memcpy(entry.grid, def.grid, sizeof(entry.grid));
    x->entries.push_back(std::move(entry));
    x->names.push_back(kname);
  }
  PENG_RETURN_IF_ERROR(module->LoadOnDevices());
  return module;
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
  // The parser has checked ranges, names and references.
  for (auto& info : file->kernels) {
    Ref<Kernel> kernel = MakeRef<Kernel>(runtime, info.name);
    for (const auto& a : info.args) {
      peng_arg_desc_t d{};
      d.dtype = a.dtype;
      d.access = a.access;
      d.rank = uint32_t(a.shape.size());
      for (size_t i = 0; i < a.shape.size(); ++i) d.shape[i] = a.shape[i];
      kernel->args_.push_back(d);
    }
    kernel->constant_count_ = info.constant_count;
    kernel->static_flops_ = info.flops;
    kernel->static_bytes_ = info.bytes;
    kernel->in_place_ = std::move(info.in_place);
    kernel->data_plane_ = info.data_plane;
    module->kernels_.push_back(std::move(kernel));
  }
  std::vector<bool> has_grid(module->kernels_.size());
  for (auto& fx : file->executables) {
    Ref<Executable> x = MakeRef<Executable>(runtime);
    x->target = std::move(fx.target);
    x->format = std::move(fx.format);
    x->arch = std::move(fx.arch);
    x->cpu = std::move(fx.cpu);
    for (const auto& f : fx.features) x->features += (x->features.empty() ? "" : ",") + f;
    x->feature_count = uint32_t(fx.features.size());
    x->min_vlen = fx.min_vlen;
    x->max_vlen = fx.max_vlen;
    x->code = std::move(fx.code);
    for (auto& fe : fx.entries) {
      Executable::Entry e;
      e.kernel = fe.kernel;
      e.symbol = std::move(fe.symbol);
      std::memcpy(e.grid, fe.launch.grid, sizeof(e.grid));
      std::memcpy(e.workgroup_size, fe.launch.workgroup_size, sizeof(e.workgroup_size));
      e.workspace = fe.launch.workspace;
      Kernel& kernel = *module->kernels_[fe.kernel];
      if (!has_grid[fe.kernel]) {
        std::memcpy(kernel.grid_, e.grid, sizeof(kernel.grid_));
        has_grid[fe.kernel] = true;
      }
      x->names.push_back(kernel.name());
      x->entries.push_back(std::move(e));
    }
    module->executables_.push_back(std::move(x));
  }
  PENG_RETURN_IF_ERROR(module->LoadOnDevices());
  return module;
}

Kernel* Module::Find(const std::string& name) const {
  for (const auto& k : kernels_) {
    if (k->name() == name) return k.get();
  }
  return nullptr;
}

}  // namespace peng::rt
