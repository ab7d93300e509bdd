// The conformance suite through the runtime's C ABI (peng.h): the same
// backends as hal_conformance_test.cpp, each reached the way an application
// reaches it (the default devices, enable_null_device, a platform profile or
// a plugin), then asked to run work or to refuse it cleanly. The device runs
// its backend's kernel images (cts_kernel_images.h); the host CPU beside it
// runs the C kernels.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "backend_registry.h"
#include "cts_kernels.h"
#include "peng/peng.h"

namespace peng_cts {
namespace {

constexpr uint64_t kWaitNs = 60ull * 1000 * 1000 * 1000;

#define ASSERT_PENG_OK(expr)                                                    \
  do {                                                                          \
    peng_status_t st_ = (expr);                                                 \
    ASSERT_EQ(st_, PENG_OK) << #expr << ": " << peng_status_string(st_) << ": " \
                            << peng_last_error_message();                       \
  } while (0)
#define EXPECT_PENG_OK(expr)                                                    \
  do {                                                                          \
    peng_status_t st_ = (expr);                                                 \
    EXPECT_EQ(st_, PENG_OK) << #expr << ": " << peng_status_string(st_) << ": " \
                            << peng_last_error_message();                       \
  } while (0)

// Options that ignore the environment (PENG_PLATFORM, PENG_PLUGIN_PATH):
// each test says exactly which devices it wants.
peng_runtime_options_t IsolatedOptions() {
  peng_runtime_options_t o;
  peng_runtime_options_init(&o);
  o.platform_path = "";
  o.plugin_path = "";
  o.perf_model_path = "";
  o.cpu_threads = 2;
  return o;
}

std::string WriteTempFile(const std::string& name, const std::string& contents) {
  std::string path = ::testing::TempDir() + "peng_cts_" + std::to_string(::getpid()) + "_" + name;
  std::ofstream out(path);
  out << contents;
  return path;
}

// A new empty folder of its own (TempDir() itself may hold anything).
std::string MakeEmptyDir() {
  std::string pattern = ::testing::TempDir() + "peng_cts_XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back(0);
  return mkdtemp(buf.data()) ? std::string(buf.data()) : std::string();
}

std::vector<std::string> DeviceNames(peng_runtime_t rt) {
  std::vector<std::string> names;
  uint32_t n = 0;
  if (peng_runtime_device_count(rt, &n) != PENG_OK) return names;
  for (uint32_t i = 0; i < n; ++i) {
    peng_device_t d;
    peng_device_info_t info;
    if (peng_runtime_device(rt, i, &d) != PENG_OK || peng_device_info(d, &info) != PENG_OK) {
      names.push_back("<error>");
      continue;
    }
    names.push_back(info.name);
  }
  return names;
}

using Kernels = RuntimeKernels;

// The C kernels as a native module, for the host CPU.
peng_status_t MakeKernels(peng_runtime_t rt, Kernels* k) {
  return HostKernelImages().LoadRuntimeKernels(rt, k);
}

const peng_arg_desc_t kMarkerArg[] = {{PENG_DTYPE_I32, PENG_ACCESS_WRITE, 1, {1}}};

// RAII for graphs and events in tests.
struct GraphHolder {
  peng_graph_t g = nullptr;
  ~GraphHolder() {
    if (g) peng_graph_release(g);
  }
};
struct EventHolder {
  peng_event_t e = nullptr;
  ~EventHolder() {
    if (e) peng_event_release(e);
  }
};

// ------------------------------------------------------------------ fixture

class RuntimeConformanceTest : public ::testing::TestWithParam<BackendConfig> {
 protected:
  const BackendConfig& backend() const { return GetParam(); }

  void SetUp() override {
    if (std::string why = backend().Unavailable(); !why.empty()) GTEST_SKIP() << why;
    if (!backend().runtime_platform_toml.empty()) {
      platform_ =
          WriteTempFile(TestSuffix(backend().name) + ".toml", backend().runtime_platform_toml);
    }
    ASSERT_PENG_OK(CreateRuntime(&rt_));
    ASSERT_PENG_OK(peng_runtime_find_device(rt_, backend().runtime_device.c_str(), &device_));
    ASSERT_PENG_OK(peng_device_info(device_, &info_));
    ASSERT_PENG_OK(peng_runtime_find_device(rt_, "cpu0", &host_));
    ASSERT_PENG_OK(backend().kernels->LoadRuntimeKernels(rt_, &kernels_));
    ASSERT_PENG_OK(MakeKernels(rt_, &host_kernels_));
  }

  void TearDown() override {
    for (peng_buffer_t b : buffers_) EXPECT_PENG_OK(peng_buffer_release(b));
    if (kernels_.module) EXPECT_PENG_OK(peng_module_release(kernels_.module));
    if (host_kernels_.module) EXPECT_PENG_OK(peng_module_release(host_kernels_.module));
    if (rt_) EXPECT_PENG_OK(peng_runtime_release(rt_));
    if (!platform_.empty()) std::remove(platform_.c_str());
  }

  // A runtime that has the backend's device, the way an application gets one.
  peng_status_t CreateRuntime(peng_runtime_t* out) {
    peng_runtime_options_t o = IsolatedOptions();
    if (backend().runtime_enable_null) o.enable_null_device = 1;
    if (backend().runtime_plugin) o.plugin_path = PluginFile();
    if (!platform_.empty()) o.platform_path = platform_.c_str();
    return peng_runtime_create(&o, out);
  }

  peng_buffer_t Buffer(uint64_t size) {
    peng_buffer_t b = nullptr;
    EXPECT_PENG_OK(peng_buffer_create(rt_, size, &b));
    if (b) buffers_.push_back(b);
    return b;
  }

  // A device that runs no kernels: placing one there fails at once, with a
  // message naming the device, and leaves the graph unchanged.
  void ExpectPlacementRefused(peng_kernel_t kernel) {
    GraphHolder g;
    ASSERT_PENG_OK(peng_graph_create(rt_, &g.g));
    peng_buffer_t b = Buffer(4);
    peng_tensor_arg_t arg{b, PENG_DTYPE_I32, 1, {1}};
    if (kernel == kernels_.scale) arg.dtype = PENG_DTYPE_U8, arg.shape[0] = 4;
    const int64_t constant = 1;
    peng_task_options_t placed{0, device_};
    EXPECT_EQ(peng_graph_add_task(g.g, kernel, &arg, 1, &constant, 1, &placed, nullptr),
              PENG_ERROR_UNSUPPORTED);
    std::string message = peng_last_error_message();
    EXPECT_NE(message.find(backend().runtime_device), std::string::npos) << message;
    uint32_t count = 99;
    ASSERT_PENG_OK(peng_graph_task_count(g.g, &count));
    EXPECT_EQ(count, 0u) << "a refused task stayed in the graph";
  }

  bool Dispatches() const { return backend().Has(kDispatch); }

  std::string platform_;
  peng_runtime_t rt_ = nullptr;
  peng_device_t device_ = nullptr, host_ = nullptr;
  peng_device_info_t info_{};
  Kernels kernels_;       // the backend's images: what the device runs
  Kernels host_kernels_;  // the C kernels, for cpu0
  std::vector<peng_buffer_t> buffers_;
};

TEST_P(RuntimeConformanceTest, ListsTheDevice) {
  EXPECT_STREQ(info_.name, backend().runtime_device.c_str());
  EXPECT_STREQ(info_.backend, backend().runtime_backend.c_str());
  EXPECT_EQ(info_.lost, 0u);
  if (backend().Has(kOwnMemory)) {
    EXPECT_NE(info_.memory_space, 0u) << "a device with its own memory got host space";
  } else {
    EXPECT_EQ(info_.memory_space, 0u);
  }
  // The index walk finds it too, once.
  auto names = DeviceNames(rt_);
  EXPECT_EQ(std::count(names.begin(), names.end(), backend().runtime_device), 1);
  // Each device's memory space is either host memory or its own.
  std::vector<uint32_t> spaces;
  for (uint32_t i = 0; i < names.size(); ++i) {
    peng_device_t d;
    peng_device_info_t info;
    ASSERT_PENG_OK(peng_runtime_device(rt_, i, &d));
    ASSERT_PENG_OK(peng_device_info(d, &info));
    if (info.memory_space != 0) spaces.push_back(info.memory_space);
  }
  std::sort(spaces.begin(), spaces.end());
  EXPECT_EQ(std::adjacent_find(spaces.begin(), spaces.end()), spaces.end())
      << "two devices share a non-host memory space";
}

TEST_P(RuntimeConformanceTest, HostKernelSupport) {
  int supported = -1;
  ASSERT_PENG_OK(peng_kernel_supported_on(kernels_.ids, device_, &supported));
  EXPECT_EQ(supported, Dispatches() ? 1 : 0);
  ASSERT_PENG_OK(peng_kernel_supported_on(host_kernels_.ids, device_, &supported));
  EXPECT_EQ(supported, backend().Has(kHostKernels) ? 1 : 0);
  // The host CPU always runs host kernels.
  ASSERT_PENG_OK(peng_kernel_supported_on(host_kernels_.ids, host_, &supported));
  EXPECT_EQ(supported, 1);
}

TEST_P(RuntimeConformanceTest, ReportsItsKind) {
  // The runtime's kind for the device (a profile's kind relabels a backend
  // that reports its own, as opencl does).
  EXPECT_EQ(info_.kind, backend().kind);
}

TEST_P(RuntimeConformanceTest, PlacedGridTaskRunsEachWorkgroupOnce) {
  const int64_t nx = 3, ny = 5, nz = 2, total = nx * ny * nz;
  peng_buffer_t ids = Buffer(total * 4), counts = Buffer(total * 4);
  ASSERT_TRUE(ids && counts);
  GraphHolder g;
  ASSERT_PENG_OK(peng_graph_create(rt_, &g.g));
  peng_tensor_arg_t args[2] = {{ids, PENG_DTYPE_I32, 3, {nx, ny, nz}},
                               {counts, PENG_DTYPE_I32, 3, {nx, ny, nz}}};
  const int64_t constants[3] = {nx, ny, nz};
  peng_task_options_t placed{0, device_};
  peng_task_t task;
  peng_status_t st = peng_graph_add_task(g.g, kernels_.ids, args, 2, constants, 3, &placed, &task);
  if (!Dispatches()) {
    EXPECT_EQ(st, PENG_ERROR_UNSUPPORTED);
    std::string message = peng_last_error_message();
    EXPECT_NE(message.find(backend().runtime_device), std::string::npos) << message;
    uint32_t count = 99;
    ASSERT_PENG_OK(peng_graph_task_count(g.g, &count));
    EXPECT_EQ(count, 0u) << "a refused task stayed in the graph";
    return;
  }
  ASSERT_EQ(st, PENG_OK) << peng_last_error_message();
  EventHolder done;
  ASSERT_PENG_OK(peng_graph_submit(g.g, nullptr, 0, &done.e));
  ASSERT_PENG_OK(peng_event_wait(done.e, kWaitNs));
  std::vector<uint32_t> got_ids(total), got_counts(total);
  ASSERT_PENG_OK(peng_buffer_read(ids, 0, total * 4, got_ids.data()));
  ASSERT_PENG_OK(peng_buffer_read(counts, 0, total * 4, got_counts.data()));
  for (uint32_t z = 0; z < nz; ++z) {
    for (uint32_t y = 0; y < ny; ++y) {
      for (uint32_t x = 0; x < nx; ++x) {
        uint32_t flat = x + nx * (y + ny * z);
        EXPECT_EQ(got_counts[flat], 1u) << x << "," << y << "," << z;
        EXPECT_EQ(got_ids[flat], cts_workgroup_tag(x, y, z)) << x << "," << y << "," << z;
      }
    }
  }
}

TEST_P(RuntimeConformanceTest, DataMovesToTheDeviceAndBack) {
  if (!Dispatches()) {
    ExpectPlacementRefused(kernels_.scale);
    return;
  }
  for (uint64_t size : {uint64_t(1), uint64_t(4097)}) {
    SCOPED_TRACE("size " + std::to_string(size));
    std::vector<uint8_t> data(size), expected(size);
    for (uint64_t i = 0; i < size; ++i) data[i] = uint8_t(i * 7 + 1);
    peng_buffer_t b = Buffer(size);
    ASSERT_NE(b, nullptr);
    ASSERT_PENG_OK(peng_buffer_write(b, 0, size, data.data()));
    GraphHolder g;
    ASSERT_PENG_OK(peng_graph_create(rt_, &g.g));
    peng_tensor_arg_t arg{b, PENG_DTYPE_U8, 1, {int64_t(size)}};
    const int64_t tile = kScaleTile;
    peng_task_options_t on_device{0, device_}, on_host{0, host_};
    ASSERT_PENG_OK(
        peng_graph_add_task(g.g, kernels_.scale, &arg, 1, &tile, 1, &on_device, nullptr));
    EventHolder first;
    ASSERT_PENG_OK(peng_graph_submit(g.g, nullptr, 0, &first.e));
    ASSERT_PENG_OK(peng_event_wait(first.e, kWaitNs));
    uint64_t mask = 0;
    ASSERT_PENG_OK(peng_buffer_valid_spaces(b, &mask));
    EXPECT_TRUE(mask & (uint64_t(1) << info_.memory_space)) << "mask " << mask;
    if (info_.memory_space != 0) EXPECT_FALSE(mask & 1) << "a stale host copy is still valid";
    // Host reads bring it back; then the host CPU and the device alternate.
    std::vector<uint8_t> got(size);
    ASSERT_PENG_OK(peng_buffer_read(b, 0, size, got.data()));
    for (uint64_t i = 0; i < size; ++i) expected[i] = uint8_t(data[i] * 3 + 1);
    ASSERT_EQ(got, expected);
    ASSERT_PENG_OK(peng_buffer_valid_spaces(b, &mask));
    EXPECT_TRUE(mask & 1);

    GraphHolder ping;
    ASSERT_PENG_OK(peng_graph_create(rt_, &ping.g));
    for (int i = 0; i < 6; ++i) {
      ASSERT_PENG_OK(peng_graph_add_task(ping.g, i % 2 ? host_kernels_.scale : kernels_.scale, &arg,
                                         1, &tile, 1, i % 2 ? &on_host : &on_device, nullptr));
      for (uint64_t k = 0; k < size; ++k) expected[k] = uint8_t(expected[k] * 3 + 1);
    }
    EventHolder second;
    ASSERT_PENG_OK(peng_graph_submit(ping.g, nullptr, 0, &second.e));
    ASSERT_PENG_OK(peng_event_wait(second.e, kWaitNs));
    ASSERT_PENG_OK(peng_buffer_read(b, 0, size, got.data()));
    EXPECT_EQ(got, expected);
  }
}

TEST_P(RuntimeConformanceTest, KernelFailureCancelsDependentsOnly) {
  if (!Dispatches()) {
    ExpectPlacementRefused(kernels_.fail);
    return;
  }
  if (!kernels_.fail) GTEST_SKIP() << kernels_.no_fail;
  peng_buffer_t counter = Buffer(4), dependent_marker = Buffer(4), independent_marker = Buffer(4);
  ASSERT_TRUE(counter && dependent_marker && independent_marker);
  GraphHolder g;
  ASSERT_PENG_OK(peng_graph_create(rt_, &g.g));
  peng_tensor_arg_t c{counter, PENG_DTYPE_I32, 1, {1}};
  peng_tensor_arg_t dm{dependent_marker, PENG_DTYPE_I32, 1, {1}};
  peng_tensor_arg_t im{independent_marker, PENG_DTYPE_I32, 1, {1}};
  peng_task_options_t on_device{0, device_};
  const int64_t fail_wg0 = 0, marker = 42;
  peng_task_t failing, dependent;
  ASSERT_PENG_OK(
      peng_graph_add_task(g.g, kernels_.fail, &c, 1, &fail_wg0, 1, &on_device, &failing));
  ASSERT_PENG_OK(
      peng_graph_add_task(g.g, kernels_.mark, &dm, 1, &marker, 1, &on_device, &dependent));
  ASSERT_PENG_OK(peng_graph_add_edge(g.g, failing, dependent));
  ASSERT_PENG_OK(peng_graph_add_task(g.g, kernels_.mark, &im, 1, &marker, 1, &on_device, nullptr));
  EventHolder done;
  ASSERT_PENG_OK(peng_graph_submit(g.g, nullptr, 0, &done.e));
  EXPECT_EQ(peng_event_wait(done.e, kWaitNs), PENG_ERROR_KERNEL_FAILED);
  std::string message = peng_last_error_message();
  EXPECT_NE(message.find("fail"), std::string::npos) << message;
  EXPECT_EQ(peng_event_query(done.e), PENG_ERROR_KERNEL_FAILED);
  int32_t got = -1;
  ASSERT_PENG_OK(peng_buffer_read(dependent_marker, 0, 4, &got));
  EXPECT_EQ(got, 0) << "a task after a failed one ran";
  ASSERT_PENG_OK(peng_buffer_read(independent_marker, 0, 4, &got));
  EXPECT_EQ(got, 42) << "an independent task did not run";
}

// The everyday ending of a program: run, read the results, release
// everything at once. Reading moves the data back from the device through a
// copy whose completion still runs on a device thread while the application
// releases its handles; the runtime must not be torn down from inside that
// completion. Sanitizers see the failure; without them it is a rare crash.
TEST_P(RuntimeConformanceTest, ReleaseRightAfterReadingResults) {
  if (!Dispatches()) {
    ExpectPlacementRefused(kernels_.scale);
    return;
  }
  constexpr uint64_t kSize = 4097;
  const int rounds = 100;
  for (int round = 0; round < rounds; ++round) {
    peng_runtime_t rt = nullptr;
    ASSERT_PENG_OK(CreateRuntime(&rt));
    peng_device_t device;
    ASSERT_PENG_OK(peng_runtime_find_device(rt, backend().runtime_device.c_str(), &device));
    Kernels k;
    ASSERT_PENG_OK(backend().kernels->LoadRuntimeKernels(rt, &k));
    peng_buffer_t b;
    ASSERT_PENG_OK(peng_buffer_create(rt, kSize, &b));
    std::vector<uint8_t> data(kSize, uint8_t(round));
    ASSERT_PENG_OK(peng_buffer_write(b, 0, kSize, data.data()));
    peng_graph_t g;
    ASSERT_PENG_OK(peng_graph_create(rt, &g));
    peng_tensor_arg_t arg{b, PENG_DTYPE_U8, 1, {int64_t(kSize)}};
    const int64_t tile = kScaleTile;
    peng_task_options_t on_device{0, device};
    ASSERT_PENG_OK(peng_graph_add_task(g, k.scale, &arg, 1, &tile, 1, &on_device, nullptr));
    peng_event_t done;
    ASSERT_PENG_OK(peng_graph_submit(g, nullptr, 0, &done));
    ASSERT_PENG_OK(peng_event_wait(done, kWaitNs));
    ASSERT_PENG_OK(peng_buffer_read(b, 0, kSize, data.data()));
    // Release in the order a program's cleanup tends to use.
    EXPECT_PENG_OK(peng_event_release(done));
    EXPECT_PENG_OK(peng_graph_release(g));
    EXPECT_PENG_OK(peng_buffer_release(b));
    EXPECT_PENG_OK(peng_module_release(k.module));
    EXPECT_PENG_OK(peng_runtime_release(rt));
    ASSERT_EQ(data[0], uint8_t(round * 3 + 1));
    ASSERT_EQ(data[kSize - 1], uint8_t(round * 3 + 1));
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, RuntimeConformanceTest, ::testing::ValuesIn(AllBackends()),
                         [](const ::testing::TestParamInfo<BackendConfig>& info) {
                           return TestSuffix(info.param.name);
                         });

// ------------------------------------------------- the null device and plugins

class RuntimeWithNullDevice : public ::testing::Test {
 protected:
  void SetUp() override {
    peng_runtime_options_t o = IsolatedOptions();
    o.enable_null_device = 1;
    ASSERT_PENG_OK(peng_runtime_create(&o, &rt_));
    ASSERT_PENG_OK(MakeKernels(rt_, &kernels_));
  }
  void TearDown() override {
    if (kernels_.module) EXPECT_PENG_OK(peng_module_release(kernels_.module));
    if (rt_) EXPECT_PENG_OK(peng_runtime_release(rt_));
  }
  peng_runtime_t rt_ = nullptr;
  Kernels kernels_;
};

TEST_F(RuntimeWithNullDevice, ListsCpuAndNull) {
  EXPECT_EQ(DeviceNames(rt_), (std::vector<std::string>{"cpu0", "null0"}));
  peng_device_t null0;
  ASSERT_PENG_OK(peng_runtime_find_device(rt_, "null0", &null0));
  peng_device_info_t info;
  ASSERT_PENG_OK(peng_device_info(null0, &info));
  EXPECT_STREQ(info.backend, "null");
  EXPECT_NE(info.memory_space, 0u);
}

TEST_F(RuntimeWithNullDevice, HostKernelIsNotSupportedOnNull) {
  peng_device_t cpu0, null0;
  ASSERT_PENG_OK(peng_runtime_find_device(rt_, "cpu0", &cpu0));
  ASSERT_PENG_OK(peng_runtime_find_device(rt_, "null0", &null0));
  for (peng_kernel_t k : {kernels_.ids, kernels_.scale, kernels_.fail, kernels_.mark}) {
    int supported = -1;
    ASSERT_PENG_OK(peng_kernel_supported_on(k, null0, &supported));
    EXPECT_EQ(supported, 0);
    ASSERT_PENG_OK(peng_kernel_supported_on(k, cpu0, &supported));
    EXPECT_EQ(supported, 1);
  }
}

TEST_F(RuntimeWithNullDevice, TaskPlacedOnNullFailsWithUnsupported) {
  peng_device_t null0;
  ASSERT_PENG_OK(peng_runtime_find_device(rt_, "null0", &null0));
  peng_buffer_t b;
  ASSERT_PENG_OK(peng_buffer_create(rt_, 4, &b));
  GraphHolder g;
  ASSERT_PENG_OK(peng_graph_create(rt_, &g.g));
  peng_tensor_arg_t arg{b, PENG_DTYPE_I32, 1, {1}};
  const int64_t marker = 1;
  peng_task_options_t on_null{0, null0};
  EXPECT_EQ(peng_graph_add_task(g.g, kernels_.mark, &arg, 1, &marker, 1, &on_null, nullptr),
            PENG_ERROR_UNSUPPORTED);
  std::string message = peng_last_error_message();
  EXPECT_FALSE(message.empty());
  EXPECT_NE(message.find("null0"), std::string::npos) << message;
  EXPECT_NE(message.find("mark"), std::string::npos) << message;
  uint32_t count = 99;
  ASSERT_PENG_OK(peng_graph_task_count(g.g, &count));
  EXPECT_EQ(count, 0u);
  EXPECT_PENG_OK(peng_buffer_release(b));
}

TEST_F(RuntimeWithNullDevice, UnplacedTasksAvoidTheNullDevice) {
  // Under every policy, a kernel with no code for null0 runs on cpu0.
  for (peng_policy_t policy : {PENG_POLICY_EAGER, PENG_POLICY_EXPLICIT, PENG_POLICY_WORK_STEALING,
                               PENG_POLICY_COST_MODEL}) {
    SCOPED_TRACE("policy " + std::to_string(int(policy)));
    ASSERT_PENG_OK(peng_runtime_set_policy(rt_, policy));
    peng_buffer_t b;
    ASSERT_PENG_OK(peng_buffer_create(rt_, 4097, &b));
    GraphHolder g;
    ASSERT_PENG_OK(peng_graph_create(rt_, &g.g));
    peng_tensor_arg_t arg{b, PENG_DTYPE_U8, 1, {4097}};
    const int64_t tile = kScaleTile;
    for (int i = 0; i < 20; ++i) {
      ASSERT_PENG_OK(peng_graph_add_task(g.g, kernels_.scale, &arg, 1, &tile, 1, nullptr, nullptr));
    }
    EventHolder done;
    ASSERT_PENG_OK(peng_graph_submit(g.g, nullptr, 0, &done.e));
    EXPECT_PENG_OK(peng_event_wait(done.e, kWaitNs));
    std::vector<uint8_t> got(4097);
    ASSERT_PENG_OK(peng_buffer_read(b, 0, got.size(), got.data()));
    uint8_t expected = 0;
    for (int i = 0; i < 20; ++i) expected = uint8_t(expected * 3 + 1);
    for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], expected) << i;
    EXPECT_PENG_OK(peng_buffer_release(b));
  }
}

// A kernel may carry a variant for the null backend's target: the null device
// says it supports it, then cannot load it. The module must still be usable
// on the devices that can run it, and the kernel never placed on null0.
TEST_F(RuntimeWithNullDevice, KernelWithAVariantNullCannotLoad) {
  const peng_native_kernel_def_t defs[] = {
      {"mark", "host", cts_mark, 1, kMarkerArg, 1, {}, nullptr},
      {"mark", "null", cts_mark, 1, kMarkerArg, 1, {}, nullptr},
  };
  peng_module_t module = nullptr;
  ASSERT_PENG_OK(peng_module_create_native(rt_, "with-null-variant", defs, 2, &module));
  peng_kernel_t mark;
  ASSERT_PENG_OK(peng_module_find_kernel(module, "mark", &mark));
  peng_device_t cpu0, null0;
  ASSERT_PENG_OK(peng_runtime_find_device(rt_, "cpu0", &cpu0));
  ASSERT_PENG_OK(peng_runtime_find_device(rt_, "null0", &null0));
  int supported = -1;
  ASSERT_PENG_OK(peng_kernel_supported_on(mark, cpu0, &supported));
  EXPECT_EQ(supported, 1);
  ASSERT_PENG_OK(peng_kernel_supported_on(mark, null0, &supported));
  EXPECT_EQ(supported, 0) << "null0 cannot load the kernel, so it must not be offered it";
  EXPECT_PENG_OK(peng_module_release(module));
}

class RuntimeWithPlugin : public ::testing::Test {
 protected:
  void ExpectPluginDevice(const peng_runtime_options_t& o) {
    peng_runtime_t rt = nullptr;
    ASSERT_PENG_OK(peng_runtime_create(&o, &rt));
    auto names = DeviceNames(rt);
    EXPECT_NE(std::find(names.begin(), names.end(), "nullplug0"), names.end())
        << "devices: " << ::testing::PrintToString(names);
    EXPECT_EQ(names.front(), "cpu0");
    peng_device_t d;
    if (peng_runtime_find_device(rt, "nullplug0", &d) == PENG_OK) {
      peng_device_info_t info;
      ASSERT_PENG_OK(peng_device_info(d, &info));
      EXPECT_STREQ(info.backend, "nullplug");
      EXPECT_NE(info.memory_space, 0u);
      // A native host kernel has no code for it.
      Kernels k;
      ASSERT_PENG_OK(MakeKernels(rt, &k));
      int supported = -1;
      ASSERT_PENG_OK(peng_kernel_supported_on(k.mark, d, &supported));
      EXPECT_EQ(supported, 0);
      EXPECT_PENG_OK(peng_module_release(k.module));
    }
    EXPECT_PENG_OK(peng_runtime_release(rt));
  }
};

TEST_F(RuntimeWithPlugin, FromOptionsPluginPath) {
  peng_runtime_options_t o = IsolatedOptions();
  o.plugin_path = PluginFile();
  ExpectPluginDevice(o);
}

TEST_F(RuntimeWithPlugin, FromEnvironment) {
  const char* saved = std::getenv("PENG_PLUGIN_PATH");
  std::string restore = saved ? saved : "";
  ASSERT_EQ(setenv("PENG_PLUGIN_PATH", PluginFile(), 1), 0);
  peng_runtime_options_t o = IsolatedOptions();
  o.plugin_path = nullptr;  // NULL: read PENG_PLUGIN_PATH
  ExpectPluginDevice(o);
  if (saved) {
    setenv("PENG_PLUGIN_PATH", restore.c_str(), 1);
  } else {
    unsetenv("PENG_PLUGIN_PATH");
  }
}

TEST_F(RuntimeWithPlugin, FromFolderInAPathList) {
  std::string file = PluginFile();
  std::string folder = file.substr(0, file.find_last_of('/'));
  std::string empty = MakeEmptyDir();  // a folder without plugins comes first
  ASSERT_FALSE(empty.empty());
  std::string list = empty + ":" + folder;
  peng_runtime_options_t o = IsolatedOptions();
  o.plugin_path = list.c_str();
  ExpectPluginDevice(o);
  rmdir(empty.c_str());
}

TEST_F(RuntimeWithPlugin, MissingPluginIsAnError) {
  peng_runtime_options_t o = IsolatedOptions();
  o.plugin_path = "/nonexistent/peng_no_such_plugin.so";
  peng_runtime_t rt = nullptr;
  EXPECT_EQ(peng_runtime_create(&o, &rt), PENG_ERROR_PLUGIN_LOAD);
  EXPECT_EQ(rt, nullptr);
  EXPECT_NE(std::string(peng_last_error_message()).find("peng_no_such_plugin"), std::string::npos)
      << peng_last_error_message();
}

TEST_F(RuntimeWithPlugin, NotAPluginIsAnError) {
  // A file that is not a shared library at all.
  std::string dir = MakeEmptyDir();
  ASSERT_FALSE(dir.empty());
  std::string path = dir + "/not_a_plugin.so";
  std::ofstream(path) << "this is not an ELF file\n";
  peng_runtime_options_t o = IsolatedOptions();
  o.plugin_path = path.c_str();
  peng_runtime_t rt = nullptr;
  EXPECT_EQ(peng_runtime_create(&o, &rt), PENG_ERROR_PLUGIN_LOAD);
  EXPECT_FALSE(std::string(peng_last_error_message()).empty());
  std::remove(path.c_str());
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace peng_cts
