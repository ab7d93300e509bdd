#include "hal/builtin.h"

namespace peng::rt {

const std::vector<BuiltinBackend>& BuiltinBackends() {
  static const std::vector<BuiltinBackend> kBackends = {
      {peng_backend_cpu_factory, DefaultDevices::kFirst, PENG_DEVICE_CPU, false},
      {peng_backend_null_factory, DefaultDevices::kOnRequest, PENG_DEVICE_NPU, true},
#ifdef PENG_HAVE_OPENCL
      {peng_backend_opencl_factory, DefaultDevices::kProfileOnly, PENG_DEVICE_GPU, true},
#endif
#ifdef PENG_HAVE_EMU
      {peng_backend_emu_factory, DefaultDevices::kProfileOnly, PENG_DEVICE_NPU, true},
#endif
  };
  return kBackends;
}

const peng_hal_factory_t* FindBuiltinFactory(const std::string& name) {
  for (const BuiltinBackend& b : BuiltinBackends()) {
    if (name == b.factory()->name) return b.factory();
  }
  return nullptr;
}

}  // namespace peng::rt
