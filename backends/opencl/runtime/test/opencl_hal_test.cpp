// The opencl backend through its HAL vtables alone, on the machine's first
// OpenCL device (PoCL in CI): buffers and copies, build failures and their
// log, refusals, the argument convention, device-side ordering through
// dispatch waits, and profiling timestamps on the host's clock; the program
// binary cache (hits, damaged entries, unwritable folders) and the retry of
// launches refused with CL_OUT_OF_RESOURCES; on a host-unified device,
// buffers that map with no copy and a device in host memory that works on
// host buffers in place. Skips when the machine has no OpenCL device.
#include <gtest/gtest.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <vector>

#include <CL/cl.h>

#include "device_query.h"
#include "../program_cache.h"
#include "peng/hal.h"

extern "C" const peng_hal_factory_t* peng_backend_opencl_factory(void);

namespace {

thread_local std::string t_error;

peng_status_t CaptureError(peng_status_t code, const char* message) {
  t_error = message ? message : "";
  return code;
}

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

std::string TestKernels() {
  std::ifstream in(PENG_OPENCL_TEST_KERNELS);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// One completion to wait for.
struct Done {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  int calls = 0;
  peng_status_t status = PENG_OK;

  peng_hal_completion_t Completion() { return {&Done::Fire, this}; }
  static void Fire(void* user, peng_status_t st) {
    auto* d = static_cast<Done*>(user);
    std::lock_guard<std::mutex> lock(d->mutex);
    d->done = true;
    ++d->calls;
    d->status = st;
    d->cv.notify_all();
  }
  peng_status_t Wait() {
    std::unique_lock<std::mutex> lock(mutex);
    cv.wait(lock, [this] { return done; });
    return status;
  }
};

class OpenClHal : public ::testing::Test {
 protected:
  void SetUp() override { Open({}); }
  void TearDown() override { Close(); }

  // Opens device 0 with these profile settings (and a queue on it).
  void Open(const std::vector<peng_hal_setting_t>& settings) {
    factory_ = peng_backend_opencl_factory();
    ASSERT_STREQ(factory_->name, "opencl");
    uint32_t count = 0;
    ASSERT_EQ(factory_->enumerate(&count), PENG_OK);
    if (count == 0) GTEST_SKIP() << "this machine has no OpenCL device";
    peng_hal_device_params_t p{};
    p.name = "opencl:0";
    p.kind = PENG_DEVICE_NPU;
    p.memory_space = 1;
    p.set_error = CaptureError;
    p.settings = settings.data();
    p.setting_count = uint32_t(settings.size());
    ASSERT_EQ(factory_->create_device(0, &p, &device_), PENG_OK) << t_error;
    ASSERT_EQ(dev()->create_queue(device_, &queue_), PENG_OK) << t_error;
  }
  void Close() {
    if (queue_) {
      EXPECT_EQ(q()->wait_idle(queue_, PENG_WAIT_FOREVER), PENG_OK);
      q()->destroy(queue_);
    }
    for (peng_hal_executable_t* x : executables_) {
      PENG_HAL_VTABLE(x, peng_hal_executable_vtable_t)->destroy(x);
    }
    for (peng_hal_buffer_t* b : buffers_) PENG_HAL_VTABLE(b, peng_hal_buffer_vtable_t)->destroy(b);
    if (device_) dev()->destroy(device_);
    queue_ = nullptr;
    device_ = nullptr;
    executables_.clear();
    buffers_.clear();
  }
  void Reopen(const std::vector<peng_hal_setting_t>& settings) {
    Close();
    Open(settings);
  }
  void Unload(peng_hal_executable_t* exe) {
    executables_.erase(std::find(executables_.begin(), executables_.end(), exe));
    PENG_HAL_VTABLE(exe, peng_hal_executable_vtable_t)->destroy(exe);
  }

  const peng_hal_device_vtable_t* dev() { return PENG_HAL_VTABLE(device_, peng_hal_device_vtable_t); }
  const peng_hal_queue_vtable_t* q() { return PENG_HAL_VTABLE(queue_, peng_hal_queue_vtable_t); }

  peng_hal_buffer_t* Allocate(uint64_t size) {
    peng_hal_buffer_t* b = nullptr;
    EXPECT_EQ(dev()->allocate(device_, size, &b), PENG_OK) << t_error;
    if (b) buffers_.push_back(b);
    return b;
  }

  // Copies and waits for the copy; returns its status.
  peng_status_t Copy(peng_hal_copy_t c) {
    Done done;
    peng_status_t st = q()->enqueue_copy(queue_, &c, done.Completion());
    if (st != PENG_OK) return st;
    return done.Wait();
  }
  void Write(peng_hal_buffer_t* b, const void* data, uint64_t size) {
    peng_hal_copy_t c{};
    c.src_host = data;
    c.dst_buffer = b;
    c.size = size;
    ASSERT_EQ(Copy(c), PENG_OK) << t_error;
  }
  void Read(peng_hal_buffer_t* b, void* data, uint64_t size) {
    peng_hal_copy_t c{};
    c.src_buffer = b;
    c.dst_host = data;
    c.size = size;
    ASSERT_EQ(Copy(c), PENG_OK) << t_error;
  }

  // The test kernels as one executable, one entry per named kernel.
  peng_status_t Load(const std::string& source, const std::vector<peng_hal_entry_spec_t>& entries,
                     peng_hal_executable_t** out, const char* features = "") {
    peng_hal_executable_spec_t spec{};
    spec.target = "opencl";
    spec.format = "opencl-c";
    spec.code = source.data();
    spec.code_size = source.size();
    spec.features = features;
    spec.entry_count = uint32_t(entries.size());
    spec.entries = entries.data();
    t_error.clear();
    peng_status_t st = dev()->load_executable(device_, &spec, out);
    if (st == PENG_OK) executables_.push_back(*out);
    return st;
  }

  static peng_hal_entry_spec_t EntrySpec(const char* name, uint32_t wg_x, uint32_t wg_y = 1) {
    peng_hal_entry_spec_t e{};
    e.name = name;
    e.symbol = name;
    e.workgroup_size[0] = wg_x;
    e.workgroup_size[1] = wg_y;
    e.workgroup_size[2] = 1;
    return e;
  }

  const peng_hal_factory_t* factory_ = nullptr;
  peng_hal_device_t* device_ = nullptr;
  peng_hal_queue_t* queue_ = nullptr;
  std::vector<peng_hal_buffer_t*> buffers_;
  std::vector<peng_hal_executable_t*> executables_;
};

// One launch's arguments (dispatch state) over 1-D buffers.
struct Launch {
  std::vector<peng_hal_buffer_t*> buffers;
  std::vector<void*> slots;
  std::vector<uint64_t> sizes;
  std::vector<std::vector<int64_t>> shape_storage;
  std::vector<const int64_t*> shapes;
  std::vector<uint32_t> ranks;
  std::vector<int64_t> constants;
  uint64_t timestamps[2] = {0, 0};
  peng_hal_dispatch_t d{};

  Launch(peng_hal_executable_t* exe, uint32_t entry, std::vector<peng_hal_buffer_t*> bufs,
         std::vector<std::vector<int64_t>> shapes_in, std::vector<int64_t> consts,
         uint32_t workgroups)
      : buffers(std::move(bufs)), shape_storage(std::move(shapes_in)), constants(std::move(consts)) {
    slots.resize(buffers.size());
    sizes.resize(buffers.size());
    for (auto& s : shape_storage) {
      shapes.push_back(s.data());
      ranks.push_back(uint32_t(s.size()));
    }
    d.executable = exe;
    d.entry = entry;
    d.state.abi_version = PENG_KERNEL_ABI_VERSION;
    d.state.workgroup_count[0] = workgroups;
    d.state.workgroup_count[1] = d.state.workgroup_count[2] = 1;
    d.state.binding_count = uint32_t(buffers.size());
    d.state.bindings = slots.data();
    d.state.binding_sizes = sizes.data();
    d.state.shapes = shapes.data();
    d.state.ranks = ranks.data();
    d.state.constant_count = uint32_t(constants.size());
    d.state.constants = constants.data();
    d.buffers = buffers.data();
    d.binding_slots = slots.data();
    d.timestamps = timestamps;
  }
};

TEST_F(OpenClHal, ReportsTheDevice) {
  peng_device_info_t info;
  ASSERT_EQ(dev()->query_info(device_, &info), PENG_OK);
  EXPECT_STREQ(info.name, "opencl:0");
  EXPECT_STREQ(info.backend, "opencl");
  EXPECT_STREQ(info.target, "opencl");
  // The device's OpenCL type (PoCL: CPU); a profile's kind relabels it in the runtime.
  cl_platform_id platform;
  cl_device_id first;
  cl_device_type type = 0;
  ASSERT_EQ(clGetPlatformIDs(1, &platform, nullptr), CL_SUCCESS);
  ASSERT_EQ(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &first, nullptr), CL_SUCCESS);
  ASSERT_EQ(clGetDeviceInfo(first, CL_DEVICE_TYPE, sizeof type, &type, nullptr), CL_SUCCESS);
  EXPECT_EQ(info.kind, (type & CL_DEVICE_TYPE_GPU) ? PENG_DEVICE_GPU
                       : (type & (CL_DEVICE_TYPE_ACCELERATOR | CL_DEVICE_TYPE_CUSTOM))
                           ? PENG_DEVICE_NPU
                           : PENG_DEVICE_CPU);
  EXPECT_EQ(info.memory_space, 1u);
  EXPECT_GE(info.compute_units, 1u);
  EXPECT_GT(info.memory_bytes, 0u);
  EXPECT_EQ(dev()->check_health(device_), PENG_OK);
  EXPECT_TRUE(q()->flags & PENG_HAL_QUEUE_ORDERING);
}

TEST_F(OpenClHal, BufferRoundTripThroughCopies) {
  const uint64_t n = 1000;
  std::vector<uint8_t> data(n), back(n, 0), part(n, 0xEE);
  for (uint64_t i = 0; i < n; ++i) data[i] = uint8_t(i * 7 + 3);
  peng_hal_buffer_t* a = Allocate(n);
  peng_hal_buffer_t* b = Allocate(n);
  Write(a, data.data(), n);
  // Buffer to buffer, at offsets: b[100, 400) = a[37, 337).
  peng_hal_copy_t c{};
  c.src_buffer = a;
  c.src_offset = 37;
  c.dst_buffer = b;
  c.dst_offset = 100;
  c.size = 300;
  uint64_t stamps[2] = {0, 0};
  c.timestamps = stamps;
  uint64_t before = NowNs();
  ASSERT_EQ(Copy(c), PENG_OK) << t_error;
  uint64_t after = NowNs();
  Read(a, back.data(), n);
  EXPECT_EQ(back, data);
  // Host offsets too: read b[100, 400) into part[5, 305).
  peng_hal_copy_t r{};
  r.src_buffer = b;
  r.src_offset = 100;
  r.dst_host = part.data();
  r.dst_offset = 5;
  r.size = 300;
  ASSERT_EQ(Copy(r), PENG_OK) << t_error;
  for (uint64_t i = 0; i < n; ++i) {
    uint8_t want = i >= 5 && i < 305 ? data[i - 5 + 37] : 0xEE;
    ASSERT_EQ(part[i], want) << "byte " << i;
  }
  if (stamps[0]) {  // measured: on the host's clock, inside the call
    EXPECT_LE(stamps[0], stamps[1]);
    EXPECT_GE(stamps[0] + 2000000, before);
    EXPECT_LE(stamps[1], after + 2000000);
  }
  // Outside the buffer: refused with a message, no completion.
  Done never;
  c.size = 1000;
  EXPECT_EQ(q()->enqueue_copy(queue_, &c, never.Completion()), PENG_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(t_error.find("outside its 1000-byte buffer"), std::string::npos) << t_error;
  EXPECT_EQ(q()->wait_idle(queue_, PENG_WAIT_FOREVER), PENG_OK);
  EXPECT_EQ(never.calls, 0);
}

TEST_F(OpenClHal, BuildFailureCarriesTheLog) {
  peng_hal_executable_t* exe = nullptr;
  std::string source = "__kernel void broken(__global float* x) { x[0] = peng_undefined_thing; }\n";
  std::vector<peng_hal_entry_spec_t> entries = {EntrySpec("broken", 1)};
  EXPECT_NE(Load(source, entries, &exe), PENG_OK);
  EXPECT_NE(t_error.find("does not build"), std::string::npos) << t_error;
  EXPECT_NE(t_error.find("build log"), std::string::npos) << t_error;
  // The compiler's own words name the culprit.
  EXPECT_NE(t_error.find("peng_undefined_thing"), std::string::npos) << t_error;
}

TEST_F(OpenClHal, MissingKernelIsNamed) {
  peng_hal_executable_t* exe = nullptr;
  std::vector<peng_hal_entry_spec_t> entries = {EntrySpec("axpb", 64), EntrySpec("no_such", 1)};
  EXPECT_EQ(Load(TestKernels(), entries, &exe), PENG_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(t_error.find("no_such"), std::string::npos) << t_error;
  EXPECT_NE(t_error.find("CL_INVALID_KERNEL_NAME"), std::string::npos) << t_error;
}

TEST_F(OpenClHal, RefusesCodeNeedingAMissingExtension) {
  std::string source = TestKernels();
  std::vector<peng_hal_entry_spec_t> entries = {EntrySpec("axpb", 64)};
  peng_hal_executable_spec_t spec{};
  spec.target = "opencl";
  spec.format = "opencl-c";
  spec.code = source.data();
  spec.code_size = source.size();
  spec.features = "cl_khr_byte_addressable_store,cl_peng_no_such_extension";
  spec.entry_count = 1;
  spec.entries = entries.data();
  int supported = -1;
  t_error.clear();
  ASSERT_EQ(dev()->supports(device_, &spec, &supported), PENG_OK);
  EXPECT_EQ(supported, 0);
  EXPECT_NE(t_error.find("needs cl_peng_no_such_extension"), std::string::npos) << t_error;
  EXPECT_EQ(t_error.find("cl_khr_byte_addressable_store"), std::string::npos) << t_error;
  // And loading it anyway is refused the same way.
  peng_hal_executable_t* exe = nullptr;
  EXPECT_EQ(Load(source, entries, &exe, spec.features), PENG_ERROR_UNSUPPORTED);
  // Other targets and formats are simply not this device's.
  spec.features = "";
  spec.target = "host";
  ASSERT_EQ(dev()->supports(device_, &spec, &supported), PENG_OK);
  EXPECT_EQ(supported, 0);
  spec.target = "opencl";
  spec.format = "elf";
  t_error.clear();
  ASSERT_EQ(dev()->supports(device_, &spec, &supported), PENG_OK);
  EXPECT_EQ(supported, 0);
  EXPECT_NE(t_error.find("format 'elf'"), std::string::npos) << t_error;
  spec.format = "opencl-c";
  ASSERT_EQ(dev()->supports(device_, &spec, &supported), PENG_OK);
  EXPECT_EQ(supported, 1);
}

TEST_F(OpenClHal, LaunchFollowsTheArgumentConvention) {
  peng_hal_executable_t* exe = nullptr;
  ASSERT_EQ(Load(TestKernels(), {EntrySpec("axpb", 64)}, &exe), PENG_OK) << t_error;
  const int64_t n = 1000;  // not a multiple of the work-group
  std::vector<float> a(n), b(n), c(n, -1.0f);
  for (int64_t i = 0; i < n; ++i) a[i] = float(i % 17) - 8, b[i] = float(i) / 4;
  peng_hal_buffer_t* ba = Allocate(n * 4);
  peng_hal_buffer_t* bb = Allocate(n * 4);
  peng_hal_buffer_t* bc = Allocate(n * 4);
  Write(ba, a.data(), n * 4);
  Write(bb, b.data(), n * 4);
  Launch l(exe, 0, {ba, bb, bc}, {{n}, {n}, {n}}, {3, -5}, (n + 63) / 64);
  l.d.id = 1;
  Done done;
  uint64_t before = NowNs();
  ASSERT_EQ(q()->enqueue_dispatch(queue_, &l.d, done.Completion()), PENG_OK) << t_error;
  ASSERT_EQ(done.Wait(), PENG_OK) << t_error;
  uint64_t after = NowNs();
  Read(bc, c.data(), n * 4);
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(c[i], a[i] * 3.0f + b[i] - 5.0f) << "element " << i;
  }
  // Device timestamps, on CLOCK_MONOTONIC (within the marker calibration's slack).
  ASSERT_NE(l.timestamps[0], 0u) << "the device was not profiled";
  EXPECT_LE(l.timestamps[0], l.timestamps[1]);
  EXPECT_GE(l.timestamps[0] + 2000000, before);
  EXPECT_LE(l.timestamps[1], after + 2000000);

  // One constant short: refused with the count, no completion.
  Launch bad(exe, 0, {ba, bb, bc}, {{n}, {n}, {n}}, {3}, (n + 63) / 64);
  Done never;
  EXPECT_EQ(q()->enqueue_dispatch(queue_, &bad.d, never.Completion()), PENG_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(t_error.find("takes 8 arguments, the launch passes 7"), std::string::npos) << t_error;
  EXPECT_EQ(q()->wait_idle(queue_, PENG_WAIT_FOREVER), PENG_OK);
  EXPECT_EQ(never.calls, 0);
}

// Host memory as the runtime hands it to a device in memory space 0: a
// buffer of another owner whose map gives the bytes.
struct HostMemory {
  peng_hal_buffer_t base;
  void* data;
  static peng_status_t Map(peng_hal_buffer_t* b, void** out) {
    *out = reinterpret_cast<HostMemory*>(b)->data;
    return PENG_OK;
  }
  static void Destroy(peng_hal_buffer_t*) {}
};
const peng_hal_buffer_vtable_t kHostMemoryVtable = {HostMemory::Destroy, HostMemory::Map};

// Runs double_and_locate over `data` (n uint32) and `where` (one uint64).
peng_status_t DoubleAndLocate(const peng_hal_queue_vtable_t* qvt, peng_hal_queue_t* queue,
                              peng_hal_executable_t* exe, peng_hal_buffer_t* data,
                              peng_hal_buffer_t* where, int64_t n, void** out_slots = nullptr) {
  Launch l(exe, 0, {data, where}, {{n}, {1}}, {}, uint32_t((n + 63) / 64));
  l.sizes[0] = uint64_t(n) * 4;  // the binding sizes a wrapper of host memory spans
  l.sizes[1] = 8;
  Done done;
  peng_status_t st = qvt->enqueue_dispatch(queue, &l.d, done.Completion());
  if (st != PENG_OK) return st;
  st = done.Wait();
  if (out_slots) std::copy(l.slots.begin(), l.slots.end(), out_slots);
  return st;
}

// A host-unified device's buffers map to their memory with no copy: bytes
// written through the map reach the kernel, which sees them at the mapped
// address, and its results are there when it completes.
TEST_F(OpenClHal, HostUnifiedBuffersMapWithoutCopies) {
  peng_hal_buffer_t* data = Allocate(4000);
  peng_hal_buffer_t* where = Allocate(8);
  ASSERT_TRUE(data && where);
  const auto* vt = PENG_HAL_VTABLE(data, peng_hal_buffer_vtable_t);
  if (!DeviceIsHostUnified()) {
    EXPECT_EQ(vt->map, nullptr) << "a device with memory of its own must not map";
    GTEST_SKIP() << "the OpenCL device has no host-unified memory with fine-grained SVM";
  }
  ASSERT_NE(vt->map, nullptr);
  void *data_ptr = nullptr, *where_ptr = nullptr, *again = nullptr;
  ASSERT_EQ(vt->map(data, &data_ptr), PENG_OK);
  ASSERT_EQ(vt->map(where, &where_ptr), PENG_OK);
  ASSERT_EQ(vt->map(data, &again), PENG_OK);
  EXPECT_EQ(again, data_ptr) << "the mapping lasts the buffer's life";
  auto* words = static_cast<uint32_t*>(data_ptr);
  for (uint32_t i = 0; i < 1000; ++i) words[i] = i * 3 + 1;
  *static_cast<uint64_t*>(where_ptr) = 0;
  peng_hal_executable_t* exe = nullptr;
  ASSERT_EQ(Load(TestKernels(), {EntrySpec("double_and_locate", 64)}, &exe), PENG_OK) << t_error;
  ASSERT_EQ(DoubleAndLocate(q(), queue_, exe, data, where, 1000), PENG_OK) << t_error;
  EXPECT_EQ(*static_cast<uint64_t*>(where_ptr), uint64_t(uintptr_t(data_ptr)))
      << "the kernel worked on other memory than the mapped one";
  for (uint32_t i = 0; i < 1000; ++i) ASSERT_EQ(words[i], (i * 3 + 1) * 2) << i;
  // The copies still work on such buffers and see the same bytes.
  std::vector<uint32_t> back(1000);
  Read(data, back.data(), 4000);
  EXPECT_EQ(std::memcmp(back.data(), words, 4000), 0);
}

// zero_copy = false: the same device keeps memory of its own, buffers do not
// map, and it refuses host memory (space 0), as a device without
// host-unified memory does.
TEST_F(OpenClHal, WithoutZeroCopyBuffersAreCopied) {
  Reopen({{"zero_copy", "false"}});
  peng_hal_buffer_t* b = Allocate(64);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(PENG_HAL_VTABLE(b, peng_hal_buffer_vtable_t)->map, nullptr);
  std::vector<uint8_t> data(64), back(64, 0);
  for (int i = 0; i < 64; ++i) data[i] = uint8_t(i * 5);
  Write(b, data.data(), 64);
  Read(b, back.data(), 64);
  EXPECT_EQ(back, data);
  const peng_hal_setting_t off = {"zero_copy", "off"};
  peng_hal_device_params_t p{};
  p.name = "opencl:host";
  p.memory_space = 0;
  p.set_error = CaptureError;
  p.settings = &off;
  p.setting_count = 1;
  peng_hal_device_t* host_device = nullptr;
  EXPECT_EQ(factory_->create_device(0, &p, &host_device), PENG_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(t_error.find("memory = \"discrete\""), std::string::npos) << t_error;
  EXPECT_EQ(host_device, nullptr);
}

// A host-unified device in host memory (space 0) runs kernels on the
// runtime's host buffers in place: the kernel sees the host's address, the
// binding slot holds it, and the results are in host memory at completion.
TEST_F(OpenClHal, DeviceInHostMemoryWorksInPlace) {
  if (!DeviceIsHostUnified()) {
    GTEST_SKIP() << "the OpenCL device has no host-unified memory with fine-grained SVM";
  }
  Close();
  peng_hal_device_params_t p{};
  p.name = "opencl:host";
  p.kind = PENG_DEVICE_NPU;
  p.memory_space = 0;
  p.set_error = CaptureError;
  ASSERT_EQ(factory_->create_device(0, &p, &device_), PENG_OK) << t_error;
  ASSERT_EQ(dev()->create_queue(device_, &queue_), PENG_OK) << t_error;
  peng_device_info_t info;
  ASSERT_EQ(dev()->query_info(device_, &info), PENG_OK);
  EXPECT_EQ(info.memory_space, 0u);
  // Its own buffers map, as hal.h requires of space 0.
  peng_hal_buffer_t* own = Allocate(16);
  ASSERT_NE(own, nullptr);
  EXPECT_NE(PENG_HAL_VTABLE(own, peng_hal_buffer_vtable_t)->map, nullptr);

  const int64_t n = 777;  // not a multiple of the work-group
  constexpr size_t kAlign = 128;  // PoCL's CL_DEVICE_MEM_BASE_ADDR_ALIGN
  auto* words = static_cast<uint32_t*>(std::aligned_alloc(kAlign, 4 * 832));
  auto* where = static_cast<uint64_t*>(std::aligned_alloc(kAlign, kAlign));
  for (int64_t i = 0; i < n; ++i) words[i] = uint32_t(i * 7 + 2);
  *where = 0;
  HostMemory data_memory{{&kHostMemoryVtable}, words}, where_memory{{&kHostMemoryVtable}, where};
  peng_hal_executable_t* exe = nullptr;
  ASSERT_EQ(Load(TestKernels(), {EntrySpec("double_and_locate", 64)}, &exe), PENG_OK) << t_error;
  void* slots[2] = {};
  ASSERT_EQ(DoubleAndLocate(q(), queue_, exe, &data_memory.base, &where_memory.base, n, slots),
            PENG_OK)
      << t_error;
  EXPECT_EQ(*where, uint64_t(uintptr_t(words))) << "the kernel worked on a copy";
  EXPECT_EQ(slots[0], words);
  EXPECT_EQ(slots[1], where);
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(words[i], uint32_t(i * 7 + 2) * 2) << i;
  // Launches on one queue chain through host memory too.
  ASSERT_EQ(DoubleAndLocate(q(), queue_, exe, &data_memory.base, &where_memory.base, n), PENG_OK);
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(words[i], uint32_t(i * 7 + 2) * 4) << i;
  EXPECT_EQ(q()->wait_idle(queue_, PENG_WAIT_FOREVER), PENG_OK);
  std::free(words);
  std::free(where);
}

TEST_F(OpenClHal, WorkGroupBeyondTheDeviceIsRefusedAtLoad) {
  peng_hal_executable_t* exe = nullptr;
  EXPECT_EQ(Load(TestKernels(), {EntrySpec("axpb", 1u << 20)}, &exe), PENG_ERROR_UNSUPPORTED);
  EXPECT_NE(t_error.find("work-group 1048576x1x1"), std::string::npos) << t_error;
}

uint32_t Lcg(uint32_t seed, int64_t rounds) {
  for (int64_t r = 0; r < rounds; ++r) seed = seed * 1664525u + 1013904223u;
  return seed;
}

// A slow producer and its consumer enqueued back to back, the consumer
// naming the producer in its waits: the device runs them in order (the
// consumer starts after the producer ends) and the consumer sees its data.
TEST_F(OpenClHal, DispatchWaitsOrderLaunchesOnTheDevice) {
  peng_hal_executable_t* exe = nullptr;
  ASSERT_EQ(Load(TestKernels(), {EntrySpec("lcg_fill", 64), EntrySpec("xor_key", 64)}, &exe),
            PENG_OK)
      << t_error;
  const int64_t n = 4096, rounds = 20000, key = 0x5a5a1234;
  peng_hal_buffer_t* mid = Allocate(n * 4);
  peng_hal_buffer_t* out = Allocate(n * 4);
  for (int round = 0; round < 3; ++round) {
    Launch produce(exe, 0, {mid}, {{n}}, {rounds + round}, n / 64);
    Launch consume(exe, 1, {mid, out}, {{n}, {n}}, {key}, n / 64);
    produce.d.id = 10 + 2 * round;
    consume.d.id = 11 + 2 * round;
    uint64_t waits[] = {produce.d.id, 999999 /* unknown: complete long ago */};
    consume.d.wait_count = 2;
    consume.d.waits = waits;
    Done p, c;
    ASSERT_EQ(q()->enqueue_dispatch(queue_, &produce.d, p.Completion()), PENG_OK) << t_error;
    ASSERT_EQ(q()->enqueue_dispatch(queue_, &consume.d, c.Completion()), PENG_OK) << t_error;
    ASSERT_EQ(c.Wait(), PENG_OK) << t_error;
    ASSERT_EQ(p.Wait(), PENG_OK) << t_error;
    std::vector<uint32_t> got(n);
    Read(out, got.data(), n * 4);
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(got[i], Lcg(uint32_t(i), rounds + round) ^ uint32_t(key)) << "element " << i;
    }
    ASSERT_NE(produce.timestamps[1], 0u);
    EXPECT_GE(consume.timestamps[0], produce.timestamps[1]);
  }
}

// ------------------------------------------------------------ program cache

uint64_t Counter(const char* name) { return peng_test_opencl_counter(name); }

// A fresh folder under the test's temp dir, removed at the end.
struct TempDir {
  std::string path;
  TempDir() {
    std::string pattern =
        std::filesystem::temp_directory_path().string() + "/peng-ocl-cache-XXXXXX";
    path = mkdtemp(pattern.data()) ? pattern : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::vector<std::string> Entries() const {
    std::vector<std::string> names;
    std::error_code ec;
    for (auto& e : std::filesystem::directory_iterator(path, ec)) {
      names.push_back(e.path().string());
    }
    return names;
  }
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

class OpenClCache : public OpenClHal {
 protected:
  void SetUp() override {}  // each test opens the device with its settings

  // Loads axpb (work-group 64) and runs it on 1000 elements, checked.
  void LoadAndRun() {
    peng_hal_executable_t* exe = nullptr;
    ASSERT_EQ(Load(TestKernels(), {EntrySpec("axpb", 64)}, &exe), PENG_OK) << t_error;
    RunAxpb(exe, 1000, (1000 + 63) / 64);
    Unload(exe);
  }

 public:
  void RunAxpb(peng_hal_executable_t* exe, int64_t n, uint32_t groups, uint64_t id = 1) {
    std::vector<float> a(n), b(n), c(n, -1.0f);
    for (int64_t i = 0; i < n; ++i) a[i] = float(i % 13) - 6, b[i] = float(i) / 8;
    peng_hal_buffer_t* ba = Allocate(n * 4);
    peng_hal_buffer_t* bb = Allocate(n * 4);
    peng_hal_buffer_t* bc = Allocate(n * 4);
    Write(ba, a.data(), n * 4);
    Write(bb, b.data(), n * 4);
    Write(bc, c.data(), n * 4);
    Launch l(exe, 0, {ba, bb, bc}, {{n}, {n}, {n}}, {2, 7}, groups);
    l.d.id = id;
    Done done;
    ASSERT_EQ(q()->enqueue_dispatch(queue_, &l.d, done.Completion()), PENG_OK) << t_error;
    ASSERT_EQ(done.Wait(), PENG_OK) << t_error;
    Read(bc, c.data(), n * 4);
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(c[i], a[i] * 2.0f + b[i] + 7.0f) << "element " << i;
    }
  }
};

TEST_F(OpenClCache, SecondLoadComesFromTheCache) {
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  Open({{"cache_dir", dir.path.c_str()}});
  uint64_t hits = Counter("cache_hits"), writes = Counter("cache_writes");
  LoadAndRun();
  EXPECT_EQ(Counter("cache_hits"), hits);
  EXPECT_EQ(Counter("cache_writes"), writes + 1);
  auto files = dir.Entries();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].substr(files[0].size() - 4), ".bin");
  EXPECT_NE(ReadFile(files[0]).find("driver version: "), std::string::npos);  // the key
  // Again, on a device opened anew (as another process would): from the file.
  Reopen({{"cache_dir", dir.path.c_str()}});
  LoadAndRun();
  EXPECT_EQ(Counter("cache_hits"), hits + 1);
  EXPECT_EQ(Counter("cache_writes"), writes + 1);
  EXPECT_EQ(dir.Entries().size(), 1u);  // no temp file left behind
  // Other source is another entry.
  std::string other = TestKernels() + "\n// changed\n";
  peng_hal_executable_t* exe = nullptr;
  ASSERT_EQ(Load(other, {EntrySpec("axpb", 64)}, &exe), PENG_OK) << t_error;
  EXPECT_EQ(Counter("cache_hits"), hits + 1);
  EXPECT_EQ(dir.Entries().size(), 2u);
}

// A damaged entry is never trusted: it is rebuilt from source, rewritten, and
// the kernel still computes the right thing; the rewritten entry then serves.
TEST_F(OpenClCache, DamagedEntriesAreRebuilt) {
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  Open({{"cache_dir", dir.path.c_str()}});
  LoadAndRun();
  ASSERT_EQ(dir.Entries().size(), 1u);
  const std::string path = dir.Entries()[0], good = ReadFile(path);
  const size_t header = 40;  // magic, version, key size, binary size, checksum
  uint32_t key_size = 0;
  std::memcpy(&key_size, good.data() + 12, 4);
  const size_t binary_at = header + key_size;
  ASSERT_GT(good.size(), binary_at);
  // A binary of the right size and checksum that is not one: the driver
  // refuses it (as it would a stale one from another compiler build).
  std::string garbage = good;
  for (size_t i = binary_at; i < garbage.size(); ++i) garbage[i] = char(i * 31 + 7);
  auto sum = peng::opencl::HashBytes(garbage.data() + binary_at, garbage.size() - binary_at);
  std::memcpy(garbage.data() + 24, &sum.lo, 8);
  std::memcpy(garbage.data() + 32, &sum.hi, 8);

  struct Damage {
    const char* what;
    std::string data;
  };
  std::string flipped_binary = good, flipped_magic = good, flipped_key = good, bad_version = good;
  flipped_binary[binary_at + (good.size() - binary_at) / 2] ^= 0x40;
  flipped_magic[0] ^= 0x01;
  flipped_key[header + 3] ^= 0x20;
  bad_version[8] = 99;
  std::vector<Damage> damages = {
      {"a flipped byte in the binary", flipped_binary},
      {"a flipped byte in the magic", flipped_magic},
      {"a flipped byte in the key", flipped_key},
      {"another format version", bad_version},
      {"truncated in the binary", good.substr(0, good.size() - 17)},
      {"truncated in the header", good.substr(0, 20)},
      {"empty", ""},
      {"a binary the driver refuses", garbage},
  };
  for (const Damage& d : damages) {
    SCOPED_TRACE(d.what);
    WriteFile(path, d.data);
    uint64_t hits = Counter("cache_hits"), rejected = Counter("cache_rejected");
    uint64_t writes = Counter("cache_writes");
    Reopen({{"cache_dir", dir.path.c_str()}});
    LoadAndRun();
    EXPECT_EQ(Counter("cache_hits"), hits);
    EXPECT_EQ(Counter("cache_rejected"), rejected + 1);
    EXPECT_EQ(Counter("cache_writes"), writes + 1);
    EXPECT_EQ(ReadFile(path).size(), good.size());  // rewritten whole
    // The rewritten entry serves the next load.
    Reopen({{"cache_dir", dir.path.c_str()}});
    LoadAndRun();
    EXPECT_EQ(Counter("cache_hits"), hits + 1);
  }
}

// A folder that cannot be made or written is no cache, not an error.
TEST_F(OpenClCache, UnwritableFolderMeansNoCache) {
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  // Below a regular file: no one can make it, root included.
  std::string file = dir.path + "/not-a-folder";
  WriteFile(file, "x");
  std::string below = file + "/cache";
  uint64_t hits = Counter("cache_hits"), writes = Counter("cache_writes");
  for (int round = 0; round < 2; ++round) {
    Reopen({{"cache_dir", below.c_str()}});
    LoadAndRun();
  }
  // A folder without write permission (root may write there anyway).
  std::string locked = dir.path + "/locked";
  ASSERT_EQ(mkdir(locked.c_str(), 0555), 0);
  for (int round = 0; round < 2; ++round) {
    Reopen({{"cache_dir", locked.c_str()}});
    LoadAndRun();
  }
  EXPECT_EQ(Counter("cache_hits"), hits + (geteuid() == 0 ? 1 : 0));
  EXPECT_EQ(Counter("cache_writes"), writes + (geteuid() == 0 ? 1 : 0));
  // A folder that does not exist yet is made.
  std::string deep = dir.path + "/a/b/c";
  Reopen({{"cache_dir", deep.c_str()}});
  LoadAndRun();
  EXPECT_TRUE(std::filesystem::is_directory(deep));
  EXPECT_EQ(Counter("cache_writes"), writes + (geteuid() == 0 ? 2 : 1));
}

TEST_F(OpenClCache, CanBeTurnedOff) {
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  uint64_t hits = Counter("cache_hits"), writes = Counter("cache_writes");
  for (int round = 0; round < 2; ++round) {
    Reopen({{"cache_dir", dir.path.c_str()}, {"cache", "false"}});
    LoadAndRun();
  }
  EXPECT_EQ(Counter("cache_hits"), hits);
  EXPECT_EQ(Counter("cache_writes"), writes);
  EXPECT_TRUE(dir.Entries().empty());
}

// Where the cache lives by default, and PENG_OPENCL_CACHE=0.
TEST(OpenClCacheDir, FollowsTheEnvironment) {
  auto saved = [](const char* name) {
    const char* v = getenv(name);
    return std::pair<bool, std::string>(v != nullptr, v ? v : "");
  };
  const char* names[] = {"PENG_CACHE_DIR", "XDG_CACHE_HOME", "HOME", "PENG_OPENCL_CACHE"};
  std::vector<std::pair<bool, std::string>> old;
  for (const char* n : names) old.push_back(saved(n));
  setenv("HOME", "/home/someone", 1);
  setenv("XDG_CACHE_HOME", "/xdg", 1);
  setenv("PENG_CACHE_DIR", "/peng", 1);
  unsetenv("PENG_OPENCL_CACHE");
  EXPECT_EQ(peng::opencl::ProgramCacheDir(), "/peng/opencl");
  unsetenv("PENG_CACHE_DIR");
  EXPECT_EQ(peng::opencl::ProgramCacheDir(), "/xdg/peng/opencl");
  unsetenv("XDG_CACHE_HOME");
  EXPECT_EQ(peng::opencl::ProgramCacheDir(), "/home/someone/.cache/peng/opencl");
  setenv("PENG_OPENCL_CACHE", "0", 1);
  EXPECT_EQ(peng::opencl::ProgramCacheDir(), "");
  setenv("PENG_OPENCL_CACHE", "1", 1);
  EXPECT_EQ(peng::opencl::ProgramCacheDir(), "/home/someone/.cache/peng/opencl");
  for (size_t i = 0; i < old.size(); ++i) {
    if (old[i].first) {
      setenv(names[i], old[i].second.c_str(), 1);
    } else {
      unsetenv(names[i]);
    }
  }
}

// MurmurHash3 x64-128's published values (SMHasher's reference code).
TEST(OpenClCacheHash, MatchesMurmurHash3) {
  auto h = peng::opencl::HashBytes("", 0);
  EXPECT_EQ(h.lo, 0u);
  EXPECT_EQ(h.hi, 0u);
  std::string fox = "The quick brown fox jumps over the lazy dog";
  h = peng::opencl::HashBytes(fox.data(), fox.size());
  EXPECT_EQ(h.lo, 0xe34bbc7bbc071b6cull);
  EXPECT_EQ(h.hi, 0x7a433ca9c49a9347ull);
}

// ------------------------------------------------- CL_OUT_OF_RESOURCES retry

// The first 3 attempts fail as if the device lacked the resources for a
// work-group of 64: the launch runs with 8 and computes the same result.
TEST_F(OpenClCache, OutOfResourcesRetriesWithSmallerGroups) {
  Reopen({{"cache", "off"}, {"force_out_of_resources", "3"}});
  peng_hal_executable_t* exe = nullptr;
  ASSERT_EQ(Load(TestKernels(), {EntrySpec("axpb", 64)}, &exe), PENG_OK) << t_error;
  uint64_t retries = Counter("launch_retries");
  RunAxpb(exe, 1000, (1000 + 63) / 64);  // 1000 is not a multiple of 64
  EXPECT_EQ(Counter("launch_retries"), retries + 3);
  RunAxpb(exe, 1000, (1000 + 63) / 64, 2);  // the forced failures are used up
  EXPECT_EQ(Counter("launch_retries"), retries + 3);
}

// Two dimensions: 8x4 halves along the larger one each time (4x4, 2x4, 2x2).
TEST_F(OpenClCache, OutOfResourcesRetriesInTwoDimensions) {
  Reopen({{"cache", "off"}, {"force_out_of_resources", "3"}});
  peng_hal_executable_t* exe = nullptr;
  ASSERT_EQ(Load(TestKernels(), {EntrySpec("transpose_scale", 8, 4)}, &exe), PENG_OK) << t_error;
  const int64_t rows = 37, cols = 29;  // odd both ways
  std::vector<float> in(rows * cols), out(rows * cols, -1.0f);
  for (int64_t i = 0; i < rows * cols; ++i) in[i] = float(i % 101) - 50;
  peng_hal_buffer_t* bi = Allocate(in.size() * 4);
  peng_hal_buffer_t* bo = Allocate(out.size() * 4);
  Write(bi, in.data(), in.size() * 4);
  Write(bo, out.data(), out.size() * 4);
  // x runs along in's columns, y along its rows.
  Launch l(exe, 0, {bi, bo}, {{rows, cols}, {cols, rows}}, {3}, (cols + 7) / 8);
  l.d.state.workgroup_count[1] = (rows + 3) / 4;
  l.d.id = 1;
  uint64_t retries = Counter("launch_retries");
  Done done;
  ASSERT_EQ(q()->enqueue_dispatch(queue_, &l.d, done.Completion()), PENG_OK) << t_error;
  ASSERT_EQ(done.Wait(), PENG_OK) << t_error;
  EXPECT_EQ(Counter("launch_retries"), retries + 3);
  Read(bo, out.data(), out.size() * 4);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      ASSERT_EQ(out[c * rows + r], in[r * cols + c] * 3.0f) << "in[" << r << "][" << c << "]";
    }
  }
}

// Refused down to work-groups of one item: the launch fails with the
// driver's error and what was tried, and never completes.
TEST_F(OpenClCache, OutOfResourcesAtEverySizeIsReported) {
  Reopen({{"cache", "off"}, {"force_out_of_resources", "1000"}});
  peng_hal_executable_t* exe = nullptr;
  ASSERT_EQ(Load(TestKernels(), {EntrySpec("axpb", 64), EntrySpec("axpb", 0)}, &exe), PENG_OK)
      << t_error;
  const int64_t n = 100;
  peng_hal_buffer_t* ba = Allocate(n * 4);
  peng_hal_buffer_t* bb = Allocate(n * 4);
  peng_hal_buffer_t* bc = Allocate(n * 4);
  uint64_t retries = Counter("launch_retries");
  Launch l(exe, 0, {ba, bb, bc}, {{n}, {n}, {n}}, {1, 0}, 2);
  l.d.id = 1;
  Done never;
  EXPECT_EQ(q()->enqueue_dispatch(queue_, &l.d, never.Completion()), PENG_ERROR_OUT_OF_MEMORY);
  EXPECT_NE(t_error.find("CL_OUT_OF_RESOURCES"), std::string::npos) << t_error;
  EXPECT_NE(t_error.find("local 1x1x1, after 6 retries"), std::string::npos) << t_error;
  EXPECT_EQ(Counter("launch_retries"), retries + 6);  // 64 down to 1
  // The driver's own local size ({0, 0, 0}): nothing to shrink, no retry.
  Launch d(exe, 1, {ba, bb, bc}, {{n}, {n}, {n}}, {1, 0}, n);
  d.d.id = 2;
  EXPECT_EQ(q()->enqueue_dispatch(queue_, &d.d, never.Completion()), PENG_ERROR_OUT_OF_MEMORY);
  EXPECT_NE(t_error.find("the driver's choice"), std::string::npos) << t_error;
  EXPECT_EQ(Counter("launch_retries"), retries + 6);
  EXPECT_EQ(q()->wait_idle(queue_, PENG_WAIT_FOREVER), PENG_OK);
  EXPECT_EQ(never.calls, 0);
}

TEST_F(OpenClCache, ForcedFailureCountMustBeACount) {
  factory_ = peng_backend_opencl_factory();
  uint32_t count = 0;
  ASSERT_EQ(factory_->enumerate(&count), PENG_OK);
  if (count == 0) GTEST_SKIP() << "this machine has no OpenCL device";
  peng_hal_setting_t bad[] = {{"force_out_of_resources", "three"}};
  peng_hal_device_params_t p{};
  p.name = "opencl:0";
  p.kind = PENG_DEVICE_NPU;
  p.memory_space = 1;
  p.set_error = CaptureError;
  p.settings = bad;
  p.setting_count = 1;
  peng_hal_device_t* d = nullptr;
  EXPECT_EQ(factory_->create_device(0, &p, &d), PENG_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(t_error.find("'three' is not a count"), std::string::npos) << t_error;
}

}  // namespace
