// The opencl backend through its HAL vtables alone, on the machine's first
// OpenCL device (PoCL in CI): buffers and copies, build failures and their
// log, refusals, the argument convention, device-side ordering through
// dispatch waits, and profiling timestamps on the host's clock. Skips when
// the machine has no OpenCL device.
#include <gtest/gtest.h>

#include <time.h>

#include <condition_variable>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <vector>

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
  void SetUp() override {
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
    ASSERT_EQ(factory_->create_device(0, &p, &device_), PENG_OK) << t_error;
    ASSERT_EQ(dev()->create_queue(device_, &queue_), PENG_OK) << t_error;
  }
  void TearDown() override {
    if (queue_) {
      EXPECT_EQ(q()->wait_idle(queue_, PENG_WAIT_FOREVER), PENG_OK);
      q()->destroy(queue_);
    }
    for (peng_hal_executable_t* x : executables_) {
      PENG_HAL_VTABLE(x, peng_hal_executable_vtable_t)->destroy(x);
    }
    for (peng_hal_buffer_t* b : buffers_) PENG_HAL_VTABLE(b, peng_hal_buffer_vtable_t)->destroy(b);
    if (device_) dev()->destroy(device_);
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
  EXPECT_EQ(info.kind, PENG_DEVICE_NPU);  // what the params said, not the OpenCL type
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

}  // namespace
