// The backends built into the runtime: one table. Each lives in
// backends/<name>/runtime and exports one factory, exactly as a plugin would;
// adding a built-in backend is one line in builtin.cpp's table.
#pragma once

#include <string>
#include <vector>

#include "peng/hal.h"

extern "C" {
const peng_hal_factory_t* peng_backend_cpu_factory(void);
const peng_hal_factory_t* peng_backend_null_factory(void);
#ifdef PENG_HAVE_OPENCL
const peng_hal_factory_t* peng_backend_opencl_factory(void);  // where OpenCL was found
#endif
#ifdef PENG_HAVE_EMU
const peng_hal_factory_t* peng_backend_emu_factory(void);  // where the device server was built
#endif
}

namespace peng::rt {

// The devices a built-in backend adds when there is no platform profile.
enum class DefaultDevices {
  kFirst,      // its device 0, named "<name>0" (the CPU)
  kOnRequest,  // its device 0, only with peng_runtime_options_t.enable_null_device
  kEvery,      // every device it enumerates, "<name>0", "<name>1", ...
  // None: its devices come only from a platform profile that names the
  // backend (opencl: the machine's OpenCL devices would otherwise change what
  // every program and test sees by default, and which devices get work).
  kProfileOnly,
};

struct BuiltinBackend {
  const peng_hal_factory_t* (*factory)();
  DefaultDevices defaults;
  peng_device_kind_t kind;  // of its default devices
  bool own_memory;          // its default devices have a memory space of their own
};

const std::vector<BuiltinBackend>& BuiltinBackends();
// The built-in backend's factory of that name, or nullptr.
const peng_hal_factory_t* FindBuiltinFactory(const std::string& name);

}  // namespace peng::rt
