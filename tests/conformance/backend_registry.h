// The backends the conformance suite runs against, each with capability tags
// (the model is IREE's hal/cts registry). Every test is written once and
// instantiated per entry of AllBackends(); a test that needs a capability
// checks, on a backend without it, that the backend refuses cleanly: an
// UNIMPLEMENTED or UNSUPPORTED status, no completion, no crash.
//
//   TEST_P(HalConformanceTest, Something) {
//     if (!backend().Has(kDispatch)) { ...expect a clean refusal...; return; }
//     ...
//   }
//
// Kernels come from the entry's KernelImages (cts_kernel_images.h): each
// backend brings its own code for the same contracts.
//
// To run the suite against a new backend, add one entry in backend_registry.cpp.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "cts_kernel_images.h"
#include "peng/hal.h"
#include "peng/peng.h"

namespace peng_cts {

// Capability tags.
inline constexpr char kAllocate[] = "allocate";         // allocate() gives buffers
inline constexpr char kMap[] = "map";                   // its buffers map to host memory
inline constexpr char kCopy[] = "copy";                 // enqueue_copy works
inline constexpr char kDispatch[] = "dispatch";         // load_executable + enqueue_dispatch work
inline constexpr char kHostKernels[] = "host-kernels";  // supports target "host" (C functions)
inline constexpr char kOwnMemory[] = "own-memory";      // its own memory space (not host)
inline constexpr char kPlugin[] = "plugin";             // loaded from a shared library
inline constexpr char kHelp[] = "help";  // its queue's help slot runs work on the caller
// Its devices are the machine's (an OpenCL platform): with none there, the
// tests skip, saying so.
inline constexpr char kMachineDevices[] = "machine-devices";
// Its devices come from platform profiles only (an emulated device): its
// factory may enumerate none.
inline constexpr char kProfileDevices[] = "profile-devices";

struct BackendConfig {
  std::string name;          // "cpu", "cpu-discrete", ...: the test-name suffix
  std::string factory_name;  // what the factory must call itself
  std::vector<std::string> caps;

  // HAL level: the device the suite opens through the factory.
  std::string device_name;
  peng_device_kind_t kind = PENG_DEVICE_CPU;
  // The backend reports what the device is (an OpenCL GPU is a gpu) rather
  // than params.kind; the runtime relabels it with the profile's kind.
  bool reports_own_kind = false;
  uint32_t memory_space = 0;
  uint32_t threads = 0;
  double link_gbps = 0;
  double link_latency_us = 0;

  // Runtime level: how a runtime gets this device, and what it reports there.
  bool runtime_enable_null = false;
  bool runtime_plugin = false;        // options.plugin_path = PluginFile()
  std::string runtime_platform_toml;  // non-empty: a platform profile with these contents
  std::string runtime_device;         // the device's name in that runtime
  std::string runtime_backend;        // its peng_device_info_t.backend

  // Its code for the suite's kernels.
  const KernelImages* kernels = &HostKernelImages();

  bool Has(const std::string& cap) const;
  // Params for create_device; points into this config.
  peng_hal_device_params_t Params() const;
  // The backend's factory; nullptr with *error set if it cannot be had (a
  // plugin that does not load).
  const peng_hal_factory_t* Factory(std::string* error) const;
  // Why this machine cannot run the backend's tests ("" when it can): a
  // backend with kMachineDevices whose factory finds no device.
  std::string Unavailable() const;
};

const std::vector<BackendConfig>& AllBackends();
// Test names show the backend's name, not the struct's bytes.
void PrintTo(const BackendConfig& backend, std::ostream* os);

// The null backend built as a plugin (path from the build).
const char* PluginFile();
// dlopen + the registration symbol, exactly as the runtime loads a plugin.
// The library stays loaded for the life of the process.
const peng_hal_factory_t* LoadPluginFactory(const std::string& file, std::string* error);

// A printable test-name suffix: "cpu-discrete" -> "cpu_discrete".
std::string TestSuffix(const std::string& name);

}  // namespace peng_cts
