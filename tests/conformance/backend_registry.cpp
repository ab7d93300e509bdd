#include "backend_registry.h"

#include <dlfcn.h>

#include <algorithm>
#include <mutex>

#include "hal/builtin.h"

#ifdef PENG_CTS_OPENCL
// Built in where OpenCL was found (builtin.h declares it only for the runtime).
extern "C" const peng_hal_factory_t* peng_backend_opencl_factory(void);
#endif

#ifdef PENG_CTS_EMU
extern "C" const peng_hal_factory_t* peng_backend_emu_factory(void);
#endif

#ifndef PENG_NULL_PLUGIN_FILE
#error "PENG_NULL_PLUGIN_FILE must name the null plugin (set by tests/conformance/CMakeLists.txt)"
#endif

namespace peng_cts {

bool BackendConfig::Has(const std::string& cap) const {
  return std::find(caps.begin(), caps.end(), cap) != caps.end();
}

peng_hal_device_params_t BackendConfig::Params() const {
  peng_hal_device_params_t p{};
  p.name = device_name.c_str();
  p.kind = kind;
  p.memory_space = memory_space;
  p.threads = threads;
  p.link_gbps = link_gbps;
  p.link_latency_us = link_latency_us;
  return p;
}

const peng_hal_factory_t* BackendConfig::Factory(std::string* error) const {
  if (Has(kPlugin)) return LoadPluginFactory(PluginFile(), error);
  if (factory_name == "cpu") return peng_backend_cpu_factory();
  if (factory_name == "null") return peng_backend_null_factory();
#ifdef PENG_CTS_OPENCL
  if (factory_name == "opencl") return peng_backend_opencl_factory();
#endif
#ifdef PENG_CTS_EMU
  if (factory_name == "emu") return peng_backend_emu_factory();
#endif
  *error = "no factory for backend '" + factory_name + "'";
  return nullptr;
}

std::string BackendConfig::Unavailable() const {
  if (!Has(kMachineDevices)) return "";
  std::string error;
  const peng_hal_factory_t* factory = Factory(&error);
  uint32_t count = 0;
  if (!factory) return error;
  if (factory->enumerate(&count) != PENG_OK || count == 0) {
    return "this machine has no " + factory_name + " device";
  }
  if (memory_space == 0) {
    // Only some of the machine's devices work in host memory: ask this one.
    static thread_local std::string why;
    peng_hal_device_params_t params = Params();
    params.set_error = [](peng_status_t code, const char* message) {
      why = message ? message : "";
      return code;
    };
    peng_hal_device_t* device = nullptr;
    if (factory->create_device(0, &params, &device) != PENG_OK || !device) {
      return "its device 0 cannot work in host memory: " + why;
    }
    PENG_HAL_VTABLE(device, peng_hal_device_vtable_t)->destroy(device);
  }
  return "";
}

const char* PluginFile() { return PENG_NULL_PLUGIN_FILE; }

const peng_hal_factory_t* LoadPluginFactory(const std::string& file, std::string* error) {
  // One dlopen per file for the process, as the runtime keeps its plugins.
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    *error = "dlopen('" + file + "') failed: " + (why ? why : "unknown error");
    return nullptr;
  }
  auto reg = reinterpret_cast<peng_hal_plugin_register_fn_t>(dlsym(handle, PENG_HAL_PLUGIN_SYMBOL));
  if (!reg) {
    *error = "'" + file + "' does not export " PENG_HAL_PLUGIN_SYMBOL;
    return nullptr;
  }
  const peng_hal_factory_t* factory = reg();
  if (!factory) *error = "'" + file + "': " PENG_HAL_PLUGIN_SYMBOL "() returned NULL";
  return factory;
}

std::string TestSuffix(const std::string& name) {
  std::string s = name;
  for (char& c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) c = '_';
  }
  return s;
}

namespace {

// A platform profile: the host CPU (one thread) and `device`, a [[device]]
// table of the backend under test.
std::string ProfileWithHostCpu(const std::string& name, const std::string& device) {
  return "[platform]\nname = \"" + name +
         "\"\n\n[[device]]\nname = \"cpu0\"\nbackend = \"cpu\"\nkind = \"cpu\"\nthreads = 1\n\n" +
         device;
}

// A CPU-backend device with its own memory behind a link.
constexpr char kDiscreteDevice[] = R"([[device]]
name = "cpu1"
backend = "cpu"
kind = "npu"
memory = "discrete"
threads = 2
  [device.link]
  gbps = 50.0
  latency_us = 1.0
)";

#ifdef PENG_CTS_OPENCL
// The machine's first OpenCL device (PoCL's CPU device in CI), as
// platforms/dev-opencl.toml has it; `memory` is added per entry: its own, or
// host memory, where it works on the runtime's buffers.
constexpr char kOpenClDevice[] = R"([[device]]
name = "opencl:0"
backend = "opencl"
index = 0
kind = "npu"
)";
#endif

#ifdef PENG_CTS_EMU
// An emulated NPU (a device server under qemu-riscv64).
constexpr char kEmuDevice[] = R"([[device]]
name = "emu:npu0"
backend = "emu"
kind = "npu"
memory = "discrete"
vlen = 256
harts = 2
)";
#endif

std::vector<BackendConfig> MakeBackends() {
  std::vector<BackendConfig> all;

  BackendConfig cpu;
  cpu.name = "cpu";
  cpu.factory_name = "cpu";
  cpu.caps = {kAllocate, kMap, kCopy, kDispatch, kHostKernels, kHelp};
  cpu.device_name = "cpu0";
  cpu.kind = PENG_DEVICE_CPU;
  cpu.memory_space = 0;
  cpu.threads = 2;
  cpu.runtime_device = "cpu0";
  cpu.runtime_backend = "cpu";
  all.push_back(cpu);

  // The CPU backend modelling an accelerator: its own memory space and a
  // link; copies go through enqueue_copy. Its buffers still map (the memory
  // is the host's), which the suite allows but does not need.
  BackendConfig discrete = cpu;
  discrete.name = "cpu-discrete";
  discrete.caps = {kAllocate, kCopy, kDispatch, kHostKernels, kOwnMemory, kHelp};
  discrete.device_name = "npu0";
  discrete.kind = PENG_DEVICE_NPU;
  discrete.memory_space = 1;
  discrete.link_gbps = 50.0;
  discrete.link_latency_us = 1.0;
  discrete.runtime_platform_toml = ProfileWithHostCpu("cts-discrete", kDiscreteDevice);
  discrete.runtime_device = "cpu1";
  discrete.runtime_backend = "cpu";
  all.push_back(discrete);

  // The skeleton: it enumerates, opens, reports and makes queues, and refuses
  // everything else.
  BackendConfig null;
  null.name = "null";
  null.factory_name = "null";
  null.caps = {kOwnMemory};
  null.device_name = "null0";
  null.kind = PENG_DEVICE_NPU;
  null.memory_space = 1;
  null.runtime_enable_null = true;
  null.runtime_device = "null0";
  null.runtime_backend = "null";
  all.push_back(null);

  BackendConfig plugin = null;
  plugin.name = "null-plugin";
  plugin.factory_name = "nullplug";
  plugin.caps = {kOwnMemory, kPlugin};
  plugin.device_name = "nullplug0";
  plugin.runtime_enable_null = false;
  plugin.runtime_plugin = true;
  plugin.runtime_device = "nullplug0";
  plugin.runtime_backend = "nullplug";
  all.push_back(plugin);

#ifdef PENG_CTS_OPENCL
  // OpenCL device 0 of this machine, with OpenCL C images of the kernels.
  // Its buffers map only on host-unified devices (AllocateAndMap checks the
  // slot whenever it is there), so kMap is not claimed.
  BackendConfig opencl;
  opencl.name = "opencl";
  opencl.factory_name = "opencl";
  opencl.caps = {kAllocate, kCopy, kDispatch, kOwnMemory, kMachineDevices};
  opencl.device_name = "opencl:0";
  opencl.kind = PENG_DEVICE_NPU;
  opencl.reports_own_kind = true;
  opencl.memory_space = 1;
  opencl.runtime_platform_toml =
      ProfileWithHostCpu("cts-opencl", std::string(kOpenClDevice) + "memory = \"discrete\"\n");
  opencl.runtime_device = "opencl:0";
  opencl.runtime_backend = "opencl";
  opencl.kernels = &OpenClKernelImages();
  all.push_back(opencl);

  // The same device in host memory (space 0), where the backend allows it
  // (host-unified memory with fine-grained SVM, as PoCL's CPU device has):
  // launches get the runtime's host buffers, and its own buffers must map.
  BackendConfig opencl_host = opencl;
  opencl_host.name = "opencl-host";
  opencl_host.caps = {kAllocate, kMap, kCopy, kDispatch, kMachineDevices};
  opencl_host.memory_space = 0;
  opencl_host.runtime_platform_toml =
      ProfileWithHostCpu("cts-opencl-host", std::string(kOpenClDevice) + "memory = \"host\"\n");
  all.push_back(opencl_host);
#endif
#ifdef PENG_CTS_EMU
  // An emulated NPU: its own memory in the region it shares with its server,
  // riscv64 images of the kernels, no help slot (the work runs in the server).
  BackendConfig emu;
  emu.name = "emu";
  emu.factory_name = "emu";
  emu.caps = {kAllocate, kCopy, kDispatch, kOwnMemory, kProfileDevices};
  emu.device_name = "emu:npu0";
  emu.kind = PENG_DEVICE_NPU;
  emu.memory_space = 1;
  emu.runtime_platform_toml = ProfileWithHostCpu("cts-emu", kEmuDevice);
  emu.runtime_device = "emu:npu0";
  emu.runtime_backend = "emu";
  emu.kernels = &EmuKernelImages();
  all.push_back(emu);
#endif
  return all;
}

}  // namespace

void PrintTo(const BackendConfig& backend, std::ostream* os) { *os << backend.name; }

const std::vector<BackendConfig>& AllBackends() {
  static const std::vector<BackendConfig> all = MakeBackends();
  return all;
}

}  // namespace peng_cts
