// The device-interface conformance suite: the contract of peng/hal.h checked
// through a backend's factory and vtables, with no runtime in between. Every
// test runs once per backend of AllBackends() (backend_registry.h).
//
// Contract points checked here (peng/hal.h):
//   - the factory: ABI version, name, enumerate >= 1, create/destroy;
//   - query_info reports the name and memory space it was given; describe
//     (optional) gives "Name: value" lines within the room given;
//   - supports()/load_executable for the backend's own kernel images, and
//     "host" kernels only where it runs them; queues;
//   - copies host -> buffer -> buffer -> host, byte-exact, odd sizes;
//   - dispatch over a 3-D grid: each workgroup runs exactly once;
//   - a kernel returning non-zero completes with PENG_ERROR_KERNEL_FAILED;
//   - each completion is called exactly once, maybe from another thread, and
//     never by an enqueue that fails;
//   - wait_idle returns once everything enqueued has completed;
//   - help (optional) runs only what its caller accepts, on the caller, each
//     completion once, and keeps thread indices in range and unique;
//   - a backend without a capability refuses with UNIMPLEMENTED/UNSUPPORTED.
// Tests marked [tag] need that capability; on a backend without it they check
// the clean refusal instead (HalConformanceTest::Capable). Kernels come from
// the backend's images (cts_kernel_images.h); a kernel whose contract its
// code cannot keep skips the test with the reason. Code compiled by pengc
// goes through the same vtables in compiled_kernels_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <numeric>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "backend_registry.h"
#include "cts_kernels.h"
#include "peng/hal.h"

namespace peng_cts {
namespace {

constexpr uint64_t kWaitNs = 30ull * 1000 * 1000 * 1000;  // a hang is a failure, not a stall
constexpr auto kWait = std::chrono::seconds(30);

bool IsRefusal(peng_status_t st) {
  return st == PENG_ERROR_UNIMPLEMENTED || st == PENG_ERROR_UNSUPPORTED;
}

// ------------------------------------------------------------- completions

// Counts completions per operation: how often each was called, with which
// status, on which thread.
class Completions {
 public:
  struct Op {
    Completions* owner = nullptr;
    std::atomic<int> calls{0};
    std::atomic<int> status{-1};
    std::thread::id thread;
  };

  // A completion for a new operation; returns its index.
  peng_hal_completion_t Next(size_t* out_index = nullptr) {
    std::lock_guard<std::mutex> lock(mutex_);
    ops_.emplace_back();
    ops_.back().owner = this;
    if (out_index) *out_index = ops_.size() - 1;
    return peng_hal_completion_t{&Fn, &ops_.back()};
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mutex_);
    return ops_.size();
  }
  const Op& op(size_t i) {
    std::lock_guard<std::mutex> lock(mutex_);
    return ops_[i];
  }
  uint64_t total_calls() const { return total_.load(); }

  // Waits until at least `count` completions have been called.
  bool WaitForCalls(uint64_t count) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, kWait, [&] { return total_.load() >= count; });
  }

  // Every operation but those in `never` completed exactly once; those never.
  void ExpectEachOnce(const std::set<size_t>& never = {}) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < ops_.size(); ++i) {
      int expected = never.count(i) ? 0 : 1;
      EXPECT_EQ(ops_[i].calls.load(), expected) << "operation " << i;
    }
  }

 private:
  static void Fn(void* user, peng_status_t status) {
    Op* op = static_cast<Op*>(user);
    op->thread = std::this_thread::get_id();
    op->status.store(int(status));
    op->calls.fetch_add(1);
    Completions* self = op->owner;
    std::lock_guard<std::mutex> lock(self->mutex_);
    self->total_.fetch_add(1);
    self->cv_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Op> ops_;  // stable addresses
  std::atomic<uint64_t> total_{0};
};

// ------------------------------------------------------------ poison objects

// A buffer or executable no backend made: a backend that refuses an operation
// must not touch it.
std::atomic<int> g_poison_touched{0};
void PoisonBufferDestroy(peng_hal_buffer_t*) { g_poison_touched.fetch_add(1); }
peng_status_t PoisonBufferMap(peng_hal_buffer_t*, void** out) {
  g_poison_touched.fetch_add(1);
  *out = nullptr;
  return PENG_ERROR_INTERNAL;
}
const peng_hal_buffer_vtable_t kPoisonBufferVtable = {PoisonBufferDestroy, PoisonBufferMap};
void PoisonExecutableDestroy(peng_hal_executable_t*) { g_poison_touched.fetch_add(1); }
const peng_hal_executable_vtable_t kPoisonExecutableVtable = {PoisonExecutableDestroy};

// --------------------------------------------------------------- dispatches

// A dispatch record and everything it points to; it must outlive the
// completion, so tests keep these until the queue is idle. Each binding is
// described as a rank-1 tensor of bytes.
struct DispatchRecord {
  std::vector<peng_hal_buffer_t*> buffers;
  std::vector<void*> slots;
  std::vector<uint64_t> sizes;
  std::vector<std::vector<int64_t>> shape_storage;
  std::vector<const int64_t*> shapes;
  std::vector<uint32_t> ranks;
  std::vector<int64_t> constants;
  uint64_t timestamps[2] = {0, 0};
  peng_hal_dispatch_t dispatch{};

  DispatchRecord(peng_hal_executable_t* exe, std::vector<peng_hal_buffer_t*> bufs,
                 std::vector<uint64_t> byte_sizes, std::vector<int64_t> consts,
                 const uint32_t grid[3])
      : buffers(std::move(bufs)), sizes(std::move(byte_sizes)), constants(std::move(consts)) {
    slots.assign(buffers.size(), nullptr);
    for (uint64_t s : sizes) shape_storage.push_back({int64_t(s)});
    for (auto& s : shape_storage) shapes.push_back(s.data());
    ranks.assign(buffers.size(), 1);
    dispatch.executable = exe;
    dispatch.state.abi_version = PENG_KERNEL_ABI_VERSION;
    std::memcpy(dispatch.state.workgroup_count, grid, 3 * sizeof(uint32_t));
    dispatch.state.binding_count = uint32_t(buffers.size());
    dispatch.state.bindings = slots.data();
    dispatch.state.binding_sizes = sizes.data();
    dispatch.state.shapes = shapes.data();
    dispatch.state.ranks = ranks.data();
    dispatch.state.constant_count = uint32_t(constants.size());
    dispatch.state.constants = constants.data();
    dispatch.buffers = buffers.data();
    dispatch.binding_slots = slots.data();
    dispatch.timestamps = timestamps;
    dispatch.flops = 1;
    dispatch.bytes = 1;
  }
  // The dispatch points into this object: it stays where it was made.
  DispatchRecord(const DispatchRecord&) = delete;
  DispatchRecord& operator=(const DispatchRecord&) = delete;
};

// A "native" executable with one entry, as the runtime makes for native
// kernels, whatever the backend's own images are. The spec points at the
// entry: it stays where it was made.
struct HostCode {
  peng_hal_entry_spec_t entry{};
  peng_hal_executable_spec_t spec{};
  HostCode(const char* name, peng_kernel_fn_t fn) {
    entry.name = name;
    entry.fn = fn;
    entry.workgroup_size[0] = entry.workgroup_size[1] = entry.workgroup_size[2] = 1;
    spec.target = "host";
    spec.format = "native";
    spec.features = "";
    spec.entry_count = 1;
    spec.entries = &entry;
  }
  HostCode(const HostCode&) = delete;
  HostCode& operator=(const HostCode&) = delete;
};

// ------------------------------------------------------------------ fixture

class HalConformanceTest : public ::testing::TestWithParam<BackendConfig> {
 protected:
  const BackendConfig& backend() const { return GetParam(); }

  void SetUp() override {
    if (std::string why = backend().Unavailable(); !why.empty()) GTEST_SKIP() << why;
    std::string error;
    factory_ = backend().Factory(&error);
    ASSERT_NE(factory_, nullptr) << error;
  }

  void TearDown() override {
    // Whatever a test left in flight completes before its records go away.
    if (queue_) {
      EXPECT_EQ(QueueVt()->wait_idle(queue_, kWaitNs), PENG_OK);
      for (peng_hal_buffer_t* b : buffers_) BufferVt(b)->destroy(b);
      for (peng_hal_executable_t* e : executables_) {
        PENG_HAL_VTABLE(e, peng_hal_executable_vtable_t)->destroy(e);
      }
      QueueVt()->destroy(queue_);
    }
    if (device_) DeviceVt()->destroy(device_);
  }

  // Opens the backend's device 0 and a queue on it.
  void Open() {
    peng_hal_device_params_t params = backend().Params();
    ASSERT_EQ(factory_->create_device(0, &params, &device_), PENG_OK);
    ASSERT_NE(device_, nullptr);
    ASSERT_EQ(DeviceVt()->create_queue(device_, &queue_), PENG_OK);
    ASSERT_NE(queue_, nullptr);
    ASSERT_EQ(DeviceVt()->query_info(device_, &info_), PENG_OK);
  }

  const peng_hal_device_vtable_t* DeviceVt() const {
    return PENG_HAL_VTABLE(device_, peng_hal_device_vtable_t);
  }
  const peng_hal_queue_vtable_t* QueueVt() const {
    return PENG_HAL_VTABLE(queue_, peng_hal_queue_vtable_t);
  }
  static const peng_hal_buffer_vtable_t* BufferVt(peng_hal_buffer_t* b) {
    return PENG_HAL_VTABLE(b, peng_hal_buffer_vtable_t);
  }

  peng_hal_buffer_t* Allocate(uint64_t size) {
    peng_hal_buffer_t* b = nullptr;
    EXPECT_EQ(DeviceVt()->allocate(device_, size, &b), PENG_OK) << size << " bytes";
    if (b) buffers_.push_back(b);
    return b;
  }
  // Why the backend's images cannot keep `kernel`'s contract on this device
  // ("" when they can): the test then skips with it.
  std::string Missing(CtsKernel kernel) const {
    HalKernelCode code;
    return backend().kernels->HalCode(kernel, info_, &code);
  }
  peng_hal_executable_t* Load(CtsKernel kernel) {
    HalKernelCode code;
    std::string why = backend().kernels->HalCode(kernel, info_, &code);
    EXPECT_EQ(why, "") << "the test should have checked Missing()";
    if (!why.empty()) return nullptr;
    peng_hal_executable_t* e = nullptr;
    EXPECT_EQ(DeviceVt()->load_executable(device_, &code.spec, &e), PENG_OK) << code.name;
    if (e) executables_.push_back(e);
    return e;
  }

  // Synchronous copies through the queue, checking the completion.
  void CopyAndWait(const peng_hal_copy_t& copy) {
    size_t index;
    uint64_t before = completions_.total_calls();
    peng_hal_completion_t c = completions_.Next(&index);
    ASSERT_EQ(QueueVt()->enqueue_copy(queue_, &copy, c), PENG_OK);
    ASSERT_TRUE(completions_.WaitForCalls(before + 1)) << "copy never completed";
    EXPECT_EQ(completions_.op(index).status.load(), PENG_OK);
  }
  void Upload(peng_hal_buffer_t* dst, uint64_t offset, const void* src, uint64_t size) {
    peng_hal_copy_t copy{};
    copy.src_host = src;
    copy.dst_buffer = dst;
    copy.dst_offset = offset;
    copy.size = size;
    CopyAndWait(copy);
  }
  void Download(void* dst, peng_hal_buffer_t* src, uint64_t offset, uint64_t size) {
    peng_hal_copy_t copy{};
    copy.src_buffer = src;
    copy.src_offset = offset;
    copy.dst_host = dst;
    copy.size = size;
    CopyAndWait(copy);
  }

  // Runs a dispatch and waits for it; returns its completion status.
  peng_status_t DispatchAndWait(DispatchRecord* record) {
    size_t index;
    uint64_t before = completions_.total_calls();
    peng_hal_completion_t c = completions_.Next(&index);
    peng_status_t st = QueueVt()->enqueue_dispatch(queue_, &record->dispatch, c);
    EXPECT_EQ(st, PENG_OK);
    if (st != PENG_OK) return st;
    EXPECT_TRUE(completions_.WaitForCalls(before + 1)) << "dispatch never completed";
    return peng_status_t(completions_.op(index).status.load());
  }

  // The capability gate of every tagged test: true if the backend has `cap`;
  // otherwise checks that it refuses the capability's operations cleanly (an
  // UNIMPLEMENTED or UNSUPPORTED status, no completion, nothing touched) and
  // returns false, and the test ends there.
  bool Capable(const char* cap) {
    if (backend().Has(cap)) return true;
    std::string c = cap;
    if (c == kAllocate) ExpectAllocateRefused();
    if (c == kCopy) ExpectCopyRefused();
    if (c == kDispatch) ExpectDispatchRefused();
    if (c == kHelp && QueueVt()->help) {
      // Optional: a backend without it may leave the slot NULL, or run nothing.
      EXPECT_EQ(QueueVt()->help(queue_, &TakeAll, nullptr), 0u);
    }
    return false;
  }

  void ExpectAllocateRefused() {
    for (uint64_t size : {uint64_t(1), uint64_t(4097)}) {
      peng_hal_buffer_t* b = nullptr;
      peng_status_t st = DeviceVt()->allocate(device_, size, &b);
      EXPECT_TRUE(IsRefusal(st)) << "allocate: " << peng_status_string(st);
      if (st == PENG_OK && b) buffers_.push_back(b);
    }
  }

  void ExpectCopyRefused() {
    peng_hal_buffer_t poison{&kPoisonBufferVtable};
    int touched_before = g_poison_touched.load();
    uint8_t host[32] = {};
    peng_hal_copy_t up{};
    up.src_host = host;
    up.dst_buffer = &poison;
    up.size = sizeof(host);
    peng_hal_copy_t down{};
    down.src_buffer = &poison;
    down.dst_host = host;
    down.size = sizeof(host);
    peng_hal_copy_t within{};
    within.src_buffer = &poison;
    within.dst_buffer = &poison;
    within.dst_offset = 16;
    within.size = 16;
    size_t first = completions_.size();
    for (const peng_hal_copy_t* c : {&up, &down, &within}) {
      peng_status_t st = QueueVt()->enqueue_copy(queue_, c, completions_.Next());
      EXPECT_TRUE(IsRefusal(st)) << "enqueue_copy: " << peng_status_string(st);
    }
    ExpectNoCompletionsFrom(first);
    EXPECT_EQ(g_poison_touched.load(), touched_before) << "a refused copy touched its buffer";
  }

  void ExpectDispatchRefused() {
    HalKernelCode code;
    ASSERT_EQ(backend().kernels->HalCode(CtsKernel::kWorkgroupIds, info_, &code), "");
    peng_hal_executable_t* exe = nullptr;
    peng_status_t st = DeviceVt()->load_executable(device_, &code.spec, &exe);
    EXPECT_TRUE(IsRefusal(st)) << "load_executable: " << peng_status_string(st);
    if (st == PENG_OK && exe) executables_.push_back(exe);

    int touched_before = g_poison_touched.load();
    peng_hal_executable_t poison_exe{&kPoisonExecutableVtable};
    peng_hal_buffer_t poison_buffer{&kPoisonBufferVtable};
    const uint32_t grid[3] = {3, 5, 2};
    DispatchRecord with_buffer(&poison_exe, {&poison_buffer}, {64}, {3, 5, 2}, grid);
    DispatchRecord without_buffer(&poison_exe, {}, {}, {}, grid);
    size_t first = completions_.size();
    for (DispatchRecord* r : {&with_buffer, &without_buffer}) {
      st = QueueVt()->enqueue_dispatch(queue_, &r->dispatch, completions_.Next());
      EXPECT_TRUE(IsRefusal(st)) << "enqueue_dispatch: " << peng_status_string(st);
    }
    ExpectNoCompletionsFrom(first);
    EXPECT_EQ(g_poison_touched.load(), touched_before) << "a refused dispatch touched its objects";
  }

  static int TakeAll(void*, const peng_hal_completion_t*) { return 1; }

  // Operations from `first` on were refused: their completions never run.
  void ExpectNoCompletionsFrom(size_t first) {
    EXPECT_EQ(QueueVt()->wait_idle(queue_, kWaitNs), PENG_OK);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a late call would show
    for (size_t i = first; i < completions_.size(); ++i) {
      EXPECT_EQ(completions_.op(i).calls.load(), 0) << "refused operation " << i << " completed";
    }
  }

  const peng_hal_factory_t* factory_ = nullptr;
  peng_hal_device_t* device_ = nullptr;
  peng_hal_queue_t* queue_ = nullptr;
  peng_device_info_t info_{};
  std::vector<peng_hal_buffer_t*> buffers_;
  std::vector<peng_hal_executable_t*> executables_;
  Completions completions_;
};

// ------------------------------------------------------------------ factory

TEST_P(HalConformanceTest, FactoryFieldsAreSane) {
  EXPECT_EQ(factory_->abi_version, uint32_t(PENG_HAL_ABI_VERSION));
  ASSERT_NE(factory_->name, nullptr);
  EXPECT_STREQ(factory_->name, backend().factory_name.c_str());
  ASSERT_NE(factory_->enumerate, nullptr);
  ASSERT_NE(factory_->create_device, nullptr);
  uint32_t count = 0;
  ASSERT_EQ(factory_->enumerate(&count), PENG_OK);
  if (!backend().Has(kProfileDevices)) EXPECT_GE(count, 1u);
}

TEST_P(HalConformanceTest, CreateAndDestroyDevice) {
  for (int round = 0; round < 3; ++round) {
    peng_hal_device_params_t params = backend().Params();
    peng_hal_device_t* device = nullptr;
    ASSERT_EQ(factory_->create_device(0, &params, &device), PENG_OK);
    ASSERT_NE(device, nullptr);
    const auto* vt = PENG_HAL_VTABLE(device, peng_hal_device_vtable_t);
    ASSERT_NE(vt, nullptr);
    // Every required slot is filled; check_health is optional.
    EXPECT_NE(vt->destroy, nullptr);
    EXPECT_NE(vt->query_info, nullptr);
    EXPECT_NE(vt->supports, nullptr);
    EXPECT_NE(vt->allocate, nullptr);
    EXPECT_NE(vt->load_executable, nullptr);
    EXPECT_NE(vt->create_queue, nullptr);
    if (vt->check_health) EXPECT_EQ(vt->check_health(device), PENG_OK);
    vt->destroy(device);
  }
}

TEST_P(HalConformanceTest, TwoDevicesAtOnce) {
  peng_hal_device_params_t a = backend().Params(), b = backend().Params();
  a.name = "first";
  b.name = "second";
  peng_hal_device_t *da = nullptr, *db = nullptr;
  ASSERT_EQ(factory_->create_device(0, &a, &da), PENG_OK);
  ASSERT_EQ(factory_->create_device(0, &b, &db), PENG_OK);
  peng_device_info_t ia{}, ib{};
  EXPECT_EQ(PENG_HAL_VTABLE(da, peng_hal_device_vtable_t)->query_info(da, &ia), PENG_OK);
  EXPECT_EQ(PENG_HAL_VTABLE(db, peng_hal_device_vtable_t)->query_info(db, &ib), PENG_OK);
  EXPECT_STREQ(ia.name, "first");
  EXPECT_STREQ(ib.name, "second");
  PENG_HAL_VTABLE(db, peng_hal_device_vtable_t)->destroy(db);
  PENG_HAL_VTABLE(da, peng_hal_device_vtable_t)->destroy(da);
}

TEST_P(HalConformanceTest, QueryInfoIsSane) {
  Open();
  peng_device_info_t info;
  std::memset(&info, 0xAB, sizeof(info));  // every field must be written
  ASSERT_EQ(DeviceVt()->query_info(device_, &info), PENG_OK);
  ASSERT_NE(std::memchr(info.name, 0, sizeof(info.name)), nullptr) << "name not terminated";
  ASSERT_NE(std::memchr(info.backend, 0, sizeof(info.backend)), nullptr);
  ASSERT_NE(std::memchr(info.target, 0, sizeof(info.target)), nullptr);
  EXPECT_STREQ(info.name, backend().device_name.c_str());
  EXPECT_GT(std::strlen(info.backend), 0u);
  EXPECT_GT(std::strlen(info.target), 0u);
  EXPECT_EQ(info.memory_space, backend().memory_space);
  if (backend().reports_own_kind) {
    EXPECT_TRUE(info.kind == PENG_DEVICE_CPU || info.kind == PENG_DEVICE_GPU ||
                info.kind == PENG_DEVICE_NPU || info.kind == PENG_DEVICE_DPU)
        << "kind " << int(info.kind);
  } else {
    EXPECT_EQ(info.kind, backend().kind);
  }
  EXPECT_EQ(info.lost, 0u);
  EXPECT_GE(info.peak_gflops, 0.0);
  if (backend().Has(kDispatch)) {
    EXPECT_GE(info.compute_units, 1u);
    EXPECT_GE(info.max_workgroups, 1u);
  }
  if (backend().Has(kHostKernels)) EXPECT_NE(std::strstr(info.target, "host"), nullptr);
}

// describe (optional): "Name: value" lines; the full length whatever the
// room; never more than `size` bytes, always terminated.
TEST_P(HalConformanceTest, DescribeIsSane) {
  Open();
  auto describe = DeviceVt()->describe;
  if (!describe) GTEST_SKIP() << "no describe (optional)";
  size_t length = 0;
  ASSERT_EQ(describe(device_, nullptr, 0, &length), PENG_OK);
  std::string text(length + 8, '#');
  size_t again = 0;
  ASSERT_EQ(describe(device_, &text[0], length + 1, &again), PENG_OK);
  EXPECT_EQ(again, length);
  EXPECT_EQ(text[length], '\0');
  EXPECT_EQ(text[length + 1], '#') << "wrote past the size given";
  text.resize(length);
  EXPECT_EQ(text.find('\0'), std::string::npos);
  for (size_t start = 0; start < text.size();) {
    size_t end = std::min(text.find('\n', start), text.size());
    EXPECT_NE(text.substr(start, end - start).find(": "), std::string::npos)
        << "line '" << text.substr(start, end - start) << "' is not 'Name: value'";
    start = end + 1;
  }
  char small[5] = "####";
  ASSERT_EQ(describe(device_, small, 3, &again), PENG_OK);
  EXPECT_EQ(small[2], '\0');
  EXPECT_EQ(small[3], '#');
}

// ------------------------------------------------------------------- queues

TEST_P(HalConformanceTest, CreateAndDestroyQueues) {
  Open();
  // A fresh queue is idle; more queues than one may exist.
  EXPECT_EQ(QueueVt()->wait_idle(queue_, 0), PENG_OK);
  EXPECT_EQ(QueueVt()->wait_idle(queue_, PENG_WAIT_FOREVER), PENG_OK);
  peng_hal_queue_t* second = nullptr;
  ASSERT_EQ(DeviceVt()->create_queue(device_, &second), PENG_OK);
  ASSERT_NE(second, nullptr);
  const auto* vt = PENG_HAL_VTABLE(second, peng_hal_queue_vtable_t);
  EXPECT_NE(vt->destroy, nullptr);
  EXPECT_NE(vt->enqueue_copy, nullptr);
  EXPECT_NE(vt->enqueue_dispatch, nullptr);
  EXPECT_NE(vt->wait_idle, nullptr);
  EXPECT_EQ(vt->wait_idle(second, 0), PENG_OK);
  vt->destroy(second);
}

// ------------------------------------------------------------------ kernels

// [host-kernels]
TEST_P(HalConformanceTest, SupportsHostKernel) {
  Open();
  HostCode code("ids", cts_write_workgroup_ids);
  int supported = -1;
  ASSERT_EQ(DeviceVt()->supports(device_, &code.spec, &supported), PENG_OK);
  EXPECT_EQ(supported, backend().Has(kHostKernels) ? 1 : 0);

  // Its own images it runs exactly when it dispatches.
  HalKernelCode own;
  ASSERT_EQ(backend().kernels->HalCode(CtsKernel::kWorkgroupIds, info_, &own), "");
  supported = -1;
  ASSERT_EQ(DeviceVt()->supports(device_, &own.spec, &supported), PENG_OK);
  EXPECT_EQ(supported, backend().Has(kDispatch) ? 1 : 0);

  // No device runs a target nobody has heard of.
  HostCode alien("ids", cts_write_workgroup_ids);
  alien.spec.target = "no-such-target";
  supported = -1;
  ASSERT_EQ(DeviceVt()->supports(device_, &alien.spec, &supported), PENG_OK);
  EXPECT_EQ(supported, 0);
}

// [dispatch]
TEST_P(HalConformanceTest, LoadExecutable) {
  Open();
  if (!Capable(kDispatch)) return;
  HalKernelCode code;
  ASSERT_EQ(backend().kernels->HalCode(CtsKernel::kWorkgroupIds, info_, &code), "");
  peng_hal_executable_t* exe = nullptr;
  peng_status_t st = DeviceVt()->load_executable(device_, &code.spec, &exe);
  ASSERT_EQ(st, PENG_OK);
  ASSERT_NE(exe, nullptr);
  const auto* vt = PENG_HAL_VTABLE(exe, peng_hal_executable_vtable_t);
  ASSERT_NE(vt, nullptr);
  ASSERT_NE(vt->destroy, nullptr);
  vt->destroy(exe);

  // A spec the device does not support is not loaded.
  HalKernelCode alien;
  ASSERT_EQ(backend().kernels->HalCode(CtsKernel::kWorkgroupIds, info_, &alien), "");
  alien.spec.target = "no-such-target";
  exe = nullptr;
  st = DeviceVt()->load_executable(device_, &alien.spec, &exe);
  EXPECT_NE(st, PENG_OK);
  if (st == PENG_OK && exe) PENG_HAL_VTABLE(exe, peng_hal_executable_vtable_t)->destroy(exe);
}

// ------------------------------------------------------------------- memory

// [allocate, map]
TEST_P(HalConformanceTest, AllocateAndMap) {
  Open();
  if (!Capable(kAllocate)) return;
  for (uint64_t size : {uint64_t(1), uint64_t(64), uint64_t(4097), uint64_t(1) << 20}) {
    peng_hal_buffer_t* b = Allocate(size);
    ASSERT_NE(b, nullptr);
    const auto* vt = BufferVt(b);
    ASSERT_NE(vt, nullptr);
    ASSERT_NE(vt->destroy, nullptr);
    if (backend().memory_space == 0) {
      // Host memory: map is required and gives the whole buffer.
      ASSERT_NE(vt->map, nullptr) << "devices in memory space 0 must implement map";
    }
    if (vt->map) {
      void* ptr = nullptr;
      ASSERT_EQ(vt->map(b, &ptr), PENG_OK);
      ASSERT_NE(ptr, nullptr);
      std::memset(ptr, 0x5A, size);  // ASan checks the extent
      void* again = nullptr;
      ASSERT_EQ(vt->map(b, &again), PENG_OK);
      EXPECT_EQ(again, ptr) << "map must be stable";
    }
  }
  // A zero-byte buffer is allowed and must be destroyable.
  peng_hal_buffer_t* empty = nullptr;
  if (DeviceVt()->allocate(device_, 0, &empty) == PENG_OK && empty) buffers_.push_back(empty);
}

// -------------------------------------------------------------------- copies

// [allocate, copy]
TEST_P(HalConformanceTest, CopyRoundTripIsExact) {
  Open();
  if (!Capable(kCopy)) return;
  for (uint64_t size :
       {uint64_t(1), uint64_t(7), uint64_t(4096), uint64_t(4097), uint64_t(65537)}) {
    SCOPED_TRACE("size " + std::to_string(size));
    std::vector<uint8_t> src(size), back(size + 2, 0xEE), mid(size, 0);
    for (uint64_t i = 0; i < size; ++i) src[i] = uint8_t((i * 131 + size) ^ (i >> 8));
    peng_hal_buffer_t* a = Allocate(size);
    peng_hal_buffer_t* b = Allocate(size);
    ASSERT_TRUE(a && b);
    Upload(a, 0, src.data(), size);
    // Buffer to buffer on the same device.
    peng_hal_copy_t copy{};
    copy.src_buffer = a;
    copy.dst_buffer = b;
    copy.size = size;
    CopyAndWait(copy);
    // Back to the host at an offset: the bytes around it stay untouched.
    Download(back.data() + 1, b, 0, size);
    EXPECT_EQ(back.front(), 0xEE);
    EXPECT_EQ(back.back(), 0xEE);
    EXPECT_EQ(std::memcmp(back.data() + 1, src.data(), size), 0);
  }
  completions_.ExpectEachOnce();
}

// [allocate, copy]
TEST_P(HalConformanceTest, CopyWithOffsets) {
  Open();
  if (!Capable(kCopy)) return;
  constexpr uint64_t kSize = 4097;
  std::vector<uint8_t> pattern(kSize);
  std::iota(pattern.begin(), pattern.end(), uint8_t(3));
  peng_hal_buffer_t* b = Allocate(kSize);
  ASSERT_NE(b, nullptr);
  std::vector<uint8_t> zeros(kSize, 0);
  Upload(b, 0, zeros.data(), kSize);
  // Write [1000, 1000 + 2001) from pattern[5...], read [999, 999 + 2003).
  Upload(b, 1000, pattern.data() + 5, 2001);
  std::vector<uint8_t> got(2003, 0xEE);
  Download(got.data(), b, 999, 2003);
  EXPECT_EQ(got[0], 0);
  EXPECT_EQ(got[2002], 0);
  EXPECT_EQ(std::memcmp(got.data() + 1, pattern.data() + 5, 2001), 0);
  completions_.ExpectEachOnce();
}

// [copy (any backend: bad arguments are refused)]
TEST_P(HalConformanceTest, CopyWithBadArgumentsFailsWithoutCompletion) {
  Open();
  uint8_t host_a[16] = {1}, host_b[16] = {0};
  peng_hal_buffer_t poison{&kPoisonBufferVtable};
  peng_hal_buffer_t* buffer = backend().Has(kAllocate) ? Allocate(16) : &poison;
  ASSERT_NE(buffer, nullptr);
  int touched_before = g_poison_touched.load();

  std::vector<peng_hal_copy_t> bad;
  peng_hal_copy_t both_src{};  // both sources set
  both_src.src_buffer = buffer;
  both_src.src_host = host_a;
  both_src.dst_host = host_b;
  both_src.size = 16;
  bad.push_back(both_src);
  peng_hal_copy_t both_dst{};  // both destinations set
  both_dst.src_host = host_a;
  both_dst.dst_buffer = buffer;
  both_dst.dst_host = host_b;
  both_dst.size = 16;
  bad.push_back(both_dst);
  peng_hal_copy_t no_src{};  // no source
  no_src.dst_buffer = buffer;
  no_src.size = 16;
  bad.push_back(no_src);
  peng_hal_copy_t no_dst{};  // no destination
  no_dst.src_host = host_a;
  no_dst.size = 16;
  bad.push_back(no_dst);

  std::set<size_t> never;
  for (size_t i = 0; i < bad.size(); ++i) {
    size_t index;
    peng_hal_completion_t c = completions_.Next(&index);
    EXPECT_NE(QueueVt()->enqueue_copy(queue_, &bad[i], c), PENG_OK) << "bad copy " << i;
    never.insert(index);
  }
  EXPECT_EQ(QueueVt()->wait_idle(queue_, kWaitNs), PENG_OK);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a late call would show
  completions_.ExpectEachOnce(never);
  EXPECT_EQ(host_b[0], 0) << "a refused copy wrote its destination";
  EXPECT_EQ(g_poison_touched.load(), touched_before);
}

// --------------------------------------------------------------- dispatches

// [dispatch, copy]
TEST_P(HalConformanceTest, Dispatch3DGridRunsEachWorkgroupOnce) {
  Open();
  if (!Capable(kDispatch)) return;
  const uint32_t grid[3] = {3, 5, 2};
  const uint32_t total = grid[0] * grid[1] * grid[2];
  const uint64_t bytes = total * sizeof(uint32_t);
  peng_hal_executable_t* exe = Load(CtsKernel::kWorkgroupIds);
  peng_hal_buffer_t* ids = Allocate(bytes);
  peng_hal_buffer_t* counts = Allocate(bytes);
  ASSERT_TRUE(exe && ids && counts);
  std::vector<uint32_t> zeros(total, 0);
  Upload(ids, 0, zeros.data(), bytes);
  Upload(counts, 0, zeros.data(), bytes);

  DispatchRecord record(exe, {ids, counts}, {bytes, bytes}, {grid[0], grid[1], grid[2]}, grid);
  ASSERT_EQ(DispatchAndWait(&record), PENG_OK);

  std::vector<uint32_t> got_ids(total), got_counts(total);
  Download(got_ids.data(), ids, 0, bytes);
  Download(got_counts.data(), counts, 0, bytes);
  for (uint32_t z = 0; z < grid[2]; ++z) {
    for (uint32_t y = 0; y < grid[1]; ++y) {
      for (uint32_t x = 0; x < grid[0]; ++x) {
        uint32_t flat = x + grid[0] * (y + grid[1] * z);
        EXPECT_EQ(got_counts[flat], 1u) << "workgroup " << x << "," << y << "," << z;
        EXPECT_EQ(got_ids[flat], cts_workgroup_tag(x, y, z));
      }
    }
  }
  // The device wrote each buffer's address into the binding slots.
  EXPECT_NE(record.slots[0], nullptr);
  EXPECT_NE(record.slots[1], nullptr);
  // Host kernels see the mapped address; an OpenCL device's slot holds its cl_mem.
  if (backend().Has(kMap) && backend().Has(kHostKernels)) {
    void* mapped = nullptr;
    ASSERT_EQ(BufferVt(ids)->map(ids, &mapped), PENG_OK);
    EXPECT_EQ(record.slots[0], mapped);
  }
  // A device that measures writes a sane interval.
  if (record.timestamps[0] || record.timestamps[1]) {
    EXPECT_LE(record.timestamps[0], record.timestamps[1]);
  }
  completions_.ExpectEachOnce();
}

// [dispatch, copy]
TEST_P(HalConformanceTest, DispatchOfLargeGrid) {
  Open();
  if (!Capable(kDispatch)) return;
  const uint32_t grid[3] = {37, 11, 3};  // primes: no power-of-two split lines up
  const uint32_t total = grid[0] * grid[1] * grid[2];
  const uint64_t bytes = total * sizeof(uint32_t);
  peng_hal_executable_t* exe = Load(CtsKernel::kWorkgroupIds);
  peng_hal_buffer_t* ids = Allocate(bytes);
  peng_hal_buffer_t* counts = Allocate(bytes);
  ASSERT_TRUE(exe && ids && counts);
  std::vector<uint32_t> zeros(total, 0);
  Upload(ids, 0, zeros.data(), bytes);
  Upload(counts, 0, zeros.data(), bytes);
  DispatchRecord record(exe, {ids, counts}, {bytes, bytes}, {grid[0], grid[1], grid[2]}, grid);
  ASSERT_EQ(DispatchAndWait(&record), PENG_OK);
  std::vector<uint32_t> got(total);
  Download(got.data(), counts, 0, bytes);
  for (uint32_t i = 0; i < total; ++i) ASSERT_EQ(got[i], 1u) << "workgroup " << i;
}

// [dispatch]
TEST_P(HalConformanceTest, FailingKernelCompletesWithKernelFailed) {
  Open();
  if (!Capable(kDispatch)) return;
  const uint32_t grid[3] = {4, 3, 2};
  if (std::string why = Missing(CtsKernel::kFailOnWorkgroup); !why.empty()) GTEST_SKIP() << why;
  peng_hal_executable_t* exe = Load(CtsKernel::kFailOnWorkgroup);
  ASSERT_NE(exe, nullptr);
  // Fails in the last workgroup, then in a single-workgroup dispatch.
  DispatchRecord many(exe, {}, {}, {4 * 3 * 2 - 1}, grid);
  EXPECT_EQ(DispatchAndWait(&many), PENG_ERROR_KERNEL_FAILED);
  const uint32_t one[3] = {1, 1, 1};
  DispatchRecord single(exe, {}, {}, {0}, one);
  EXPECT_EQ(DispatchAndWait(&single), PENG_ERROR_KERNEL_FAILED);
  // The queue still works after a failure.
  DispatchRecord fine(exe, {}, {}, {-1}, grid);
  EXPECT_EQ(DispatchAndWait(&fine), PENG_OK);
  EXPECT_EQ(QueueVt()->wait_idle(queue_, kWaitNs), PENG_OK);
  completions_.ExpectEachOnce();
}

// ----------------------------------------------------- completions and idle

// [dispatch, copy]
TEST_P(HalConformanceTest, WaitIdleAfterManyOperations) {
  Open();
  bool can_dispatch = Capable(kDispatch), can_copy = Capable(kCopy);
  if (!can_dispatch || !can_copy) {
    // Nothing was accepted, so the queue is idle at once.
    EXPECT_EQ(QueueVt()->wait_idle(queue_, 0), PENG_OK);
    return;
  }
  constexpr int kOps = 1000;
  peng_hal_executable_t* exe = Load(CtsKernel::kIncrement);
  peng_hal_buffer_t* counter = Allocate(sizeof(uint64_t));
  // Operations on one queue may run concurrently and in any order (hal.h
  // promises no order), so each copy gets a slot of its own.
  constexpr uint64_t kSlot = 64;
  peng_hal_buffer_t* scratch = Allocate(kSlot * kOps);
  ASSERT_TRUE(exe && counter && scratch);
  uint64_t zero = 0;
  Upload(counter, 0, &zero, sizeof(zero));
  uint64_t base = completions_.total_calls();

  const uint32_t one[3] = {1, 1, 1};
  std::deque<DispatchRecord> records;
  std::vector<uint8_t> host(kSlot * kOps);
  for (size_t i = 0; i < host.size(); ++i) host[i] = uint8_t(i * 7 + i / kSlot);
  int dispatches = 0;
  for (int i = 0; i < kOps; ++i) {
    if (i % 4 == 3) {  // a copy every fourth operation, into a buffer no kernel reads
      peng_hal_copy_t copy{};
      copy.src_host = host.data() + i * kSlot;
      copy.dst_buffer = scratch;
      copy.dst_offset = i * kSlot;
      copy.size = kSlot;
      ASSERT_EQ(QueueVt()->enqueue_copy(queue_, &copy, completions_.Next()), PENG_OK);
    } else {
      records.emplace_back(exe, std::vector<peng_hal_buffer_t*>{counter},
                           std::vector<uint64_t>{sizeof(uint64_t)}, std::vector<int64_t>{}, one);
      ASSERT_EQ(QueueVt()->enqueue_dispatch(queue_, &records.back().dispatch, completions_.Next()),
                PENG_OK);
      ++dispatches;
    }
  }
  ASSERT_EQ(QueueVt()->wait_idle(queue_, kWaitNs), PENG_OK);
  // Everything enqueued before wait_idle has completed when it returns.
  EXPECT_EQ(completions_.total_calls(), base + kOps);
  uint64_t got = 0;
  Download(&got, counter, 0, sizeof(got));
  EXPECT_EQ(got, uint64_t(dispatches));
  std::vector<uint8_t> back(kSlot * kOps);
  Download(back.data(), scratch, 0, back.size());
  for (int i = 3; i < kOps; i += 4) {
    EXPECT_EQ(std::memcmp(back.data() + i * kSlot, host.data() + i * kSlot, kSlot), 0)
        << "copy " << i;
  }
  completions_.ExpectEachOnce();
  for (size_t i = 0; i < completions_.size(); ++i) {
    EXPECT_EQ(completions_.op(i).status.load(), PENG_OK) << "operation " << i;
  }
}

// [dispatch]
TEST_P(HalConformanceTest, WaitIdleTimesOutWhileBusy) {
  Open();
  if (!Capable(kDispatch)) return;
  if (std::string why = Missing(CtsKernel::kSpinUntilFlag); !why.empty()) GTEST_SKIP() << why;
  peng_hal_executable_t* exe = Load(CtsKernel::kSpinUntilFlag);
  ASSERT_NE(exe, nullptr);
  std::atomic<int> flag{0};
  const uint32_t one[3] = {1, 1, 1};
  DispatchRecord record(exe, {}, {}, {int64_t(reinterpret_cast<intptr_t>(&flag))}, one);
  ASSERT_EQ(QueueVt()->enqueue_dispatch(queue_, &record.dispatch, completions_.Next()), PENG_OK);
  EXPECT_EQ(QueueVt()->wait_idle(queue_, 2 * 1000 * 1000), PENG_ERROR_TIMEOUT);
  EXPECT_EQ(completions_.total_calls(), 0u);
  flag.store(1, std::memory_order_release);
  EXPECT_EQ(QueueVt()->wait_idle(queue_, kWaitNs), PENG_OK);
  completions_.ExpectEachOnce();
}

// The scheduler enqueues the next task from inside a completion, on whatever
// thread the backend calls it: that must work, and not recurse without bound.
struct Chain {
  const peng_hal_queue_vtable_t* vt;
  peng_hal_queue_t* queue;
  DispatchRecord* record;
  std::atomic<int> remaining;
  std::atomic<int> calls{0};
  std::atomic<int> failures{0};
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;

  static void Next(void* user, peng_status_t status) {
    Chain* c = static_cast<Chain*>(user);
    c->calls.fetch_add(1);
    if (status != PENG_OK) c->failures.fetch_add(1);
    if (c->remaining.fetch_sub(1) > 1) {
      if (c->vt->enqueue_dispatch(c->queue, &c->record->dispatch, {&Next, c}) == PENG_OK) return;
      c->failures.fetch_add(1);
    }
    std::lock_guard<std::mutex> lock(c->mutex);
    c->done = true;
    c->cv.notify_all();
  }
};

// [dispatch]
TEST_P(HalConformanceTest, EnqueueFromCompletion) {
  Open();
  if (!Capable(kDispatch)) return;
  constexpr int kLength = 2000;
  peng_hal_executable_t* exe = Load(CtsKernel::kIncrement);
  peng_hal_buffer_t* counter = Allocate(sizeof(uint64_t));
  ASSERT_TRUE(exe && counter);
  uint64_t zero = 0;
  Upload(counter, 0, &zero, sizeof(zero));
  const uint32_t one[3] = {1, 1, 1};
  DispatchRecord record(exe, {counter}, {sizeof(uint64_t)}, {}, one);
  // The record is reused link after link: each enqueue follows the previous completion.
  Chain chain{QueueVt(), queue_, &record, {kLength}};
  ASSERT_EQ(QueueVt()->enqueue_dispatch(queue_, &record.dispatch, {&Chain::Next, &chain}), PENG_OK);
  {
    std::unique_lock<std::mutex> lock(chain.mutex);
    ASSERT_TRUE(chain.cv.wait_for(lock, kWait, [&] { return chain.done; }));
  }
  EXPECT_EQ(QueueVt()->wait_idle(queue_, kWaitNs), PENG_OK);
  EXPECT_EQ(chain.calls.load(), kLength);
  EXPECT_EQ(chain.failures.load(), 0);
  uint64_t got = 0;
  Download(&got, counter, 0, sizeof(got));
  EXPECT_EQ(got, uint64_t(kLength));
}

// [dispatch]
TEST_P(HalConformanceTest, ConcurrentEnqueueFromThreads) {
  Open();
  if (!Capable(kDispatch)) return;
  constexpr int kThreads = 4, kPerThread = 250;
  peng_hal_executable_t* exe = Load(CtsKernel::kIncrement);
  peng_hal_buffer_t* counter = Allocate(sizeof(uint64_t));
  ASSERT_TRUE(exe && counter);
  uint64_t zero = 0;
  Upload(counter, 0, &zero, sizeof(zero));
  uint64_t base = completions_.total_calls();
  const uint32_t one[3] = {1, 1, 1};
  // One record per launch (the device writes its binding slots), and the
  // completions, made up front.
  std::deque<DispatchRecord> records;
  std::vector<peng_hal_completion_t> completions;
  for (int i = 0; i < kThreads * kPerThread; ++i) {
    records.emplace_back(exe, std::vector<peng_hal_buffer_t*>{counter},
                         std::vector<uint64_t>{sizeof(uint64_t)}, std::vector<int64_t>{}, one);
    completions.push_back(completions_.Next());
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        int k = t * kPerThread + i;
        if (QueueVt()->enqueue_dispatch(queue_, &records[k].dispatch, completions[k]) != PENG_OK) {
          failures.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_EQ(QueueVt()->wait_idle(queue_, kWaitNs), PENG_OK);
  EXPECT_EQ(completions_.total_calls(), base + kThreads * kPerThread);
  uint64_t got = 0;
  Download(&got, counter, 0, sizeof(got));
  EXPECT_EQ(got, uint64_t(kThreads * kPerThread));
  completions_.ExpectEachOnce();
}

// [dispatch]
TEST_P(HalConformanceTest, CompletionsMayComeFromAnotherThread) {
  Open();
  if (!Capable(kDispatch)) return;
  // Not a requirement either way; the test records where they come from and
  // checks the enqueue returned before its completion ran (no inline call).
  if (std::string why = Missing(CtsKernel::kSpinUntilFlag); !why.empty()) GTEST_SKIP() << why;
  peng_hal_executable_t* exe = Load(CtsKernel::kSpinUntilFlag);
  ASSERT_NE(exe, nullptr);
  std::atomic<int> flag{0};
  const uint32_t one[3] = {1, 1, 1};
  DispatchRecord record(exe, {}, {}, {int64_t(reinterpret_cast<intptr_t>(&flag))}, one);
  size_t index;
  ASSERT_EQ(QueueVt()->enqueue_dispatch(queue_, &record.dispatch, completions_.Next(&index)),
            PENG_OK);
  EXPECT_EQ(completions_.op(index).calls.load(), 0) << "completion ran inside enqueue";
  flag.store(1, std::memory_order_release);
  ASSERT_TRUE(completions_.WaitForCalls(1));
  EXPECT_EQ(QueueVt()->wait_idle(queue_, kWaitNs), PENG_OK);
  if (completions_.op(index).thread != std::this_thread::get_id()) {
    RecordProperty("completion_thread", "worker");
  }
  completions_.ExpectEachOnce();
}

// [dispatch] [help]
TEST_P(HalConformanceTest, HelpRunsOnlyWhatItsCallerTakes) {
  Open();
  if (!Capable(kDispatch) || !Capable(kHelp)) return;
  ASSERT_NE(QueueVt()->help, nullptr);
  if (std::string why = Missing(CtsKernel::kSpinUntilFlag); !why.empty()) GTEST_SKIP() << why;
  peng_hal_executable_t* exe = Load(CtsKernel::kSpinUntilFlag);
  ASSERT_NE(exe, nullptr);
  std::atomic<int> flag{1};  // set: each dispatch returns at once
  const uint32_t one[3] = {1, 1, 1};
  constexpr int kOps = 16;
  std::deque<DispatchRecord> records;
  for (int i = 0; i < kOps; ++i) {
    records.emplace_back(exe, std::vector<peng_hal_buffer_t*>{}, std::vector<uint64_t>{},
                         std::vector<int64_t>{int64_t(reinterpret_cast<intptr_t>(&flag))}, one);
  }
  struct Taken {
    std::set<void*> accepted;
    static int Take(void* user, const peng_hal_completion_t* c) {
      return static_cast<Taken*>(user)->accepted.count(c->user_data) ? 1 : 0;
    }
  };
  // Whether help finds anything before the backend's own threads do is a
  // race; retry until it ran some, checking each round.
  uint32_t ran_total = 0;
  for (int round = 0; round < 200 && ran_total == 0; ++round) {
    Taken taken;
    size_t first = completions_.size();
    for (int i = 0; i < kOps; ++i) {
      peng_hal_completion_t c = completions_.Next();
      if (i % 2 == 0) taken.accepted.insert(c.user_data);
      ASSERT_EQ(QueueVt()->enqueue_dispatch(queue_, &records[i].dispatch, c), PENG_OK);
    }
    uint32_t ran = QueueVt()->help(queue_, &Taken::Take, &taken);
    ASSERT_TRUE(completions_.WaitForCalls(first + kOps));
    uint32_t here = 0;
    for (size_t i = first; i < first + kOps; ++i) {
      const auto& op = completions_.op(i);
      if (op.thread != std::this_thread::get_id()) continue;
      ++here;
      EXPECT_TRUE(taken.accepted.count(const_cast<void*>(static_cast<const void*>(&op))))
          << "help ran operation " << i - first << ", which its caller did not take";
    }
    EXPECT_EQ(ran, here) << "help's count disagrees with the completions it called";
    ran_total += ran;
  }
  EXPECT_GT(ran_total, 0u) << "help never ran anything in 200 rounds";
  EXPECT_EQ(QueueVt()->wait_idle(queue_, kWaitNs), PENG_OK);
  completions_.ExpectEachOnce();
}

// [dispatch] [help]
TEST_P(HalConformanceTest, HelpKeepsThreadIndicesInRangeAndUnique) {
  Open();
  if (!Capable(kDispatch) || !Capable(kHelp)) return;
  peng_device_info_t info;
  ASSERT_EQ(DeviceVt()->query_info(device_, &info), PENG_OK);
  ASSERT_GT(info.compute_units, 0u);
  if (std::string why = Missing(CtsKernel::kClaimThreadIndex); !why.empty()) GTEST_SKIP() << why;
  peng_hal_executable_t* exe = Load(CtsKernel::kClaimThreadIndex);
  ASSERT_NE(exe, nullptr);
  std::vector<std::atomic<uint32_t>> slots(info.compute_units);
  std::atomic<uint32_t> violations{0};
  std::vector<int64_t> consts = {int64_t(reinterpret_cast<intptr_t>(slots.data())),
                                 int64_t(info.compute_units),
                                 int64_t(reinterpret_cast<intptr_t>(&violations))};
  const uint32_t one[3] = {1, 1, 1};
  const uint32_t many[3] = {4, 3, 1};
  constexpr int kOps = 48;
  std::deque<DispatchRecord> records;
  for (int i = 0; i < kOps; ++i) {
    records.emplace_back(exe, std::vector<peng_hal_buffer_t*>{}, std::vector<uint64_t>{}, consts,
                         i % 3 == 0 ? many : one);
  }
  // Two threads help while the backend's own threads work.
  std::atomic<bool> stop{false};
  std::vector<std::thread> helpers;
  for (int h = 0; h < 2; ++h) {
    helpers.emplace_back([&] {
      while (!stop.load()) QueueVt()->help(queue_, &TakeAll, nullptr);
    });
  }
  size_t first = completions_.size();
  for (int i = 0; i < kOps; ++i) {
    ASSERT_EQ(QueueVt()->enqueue_dispatch(queue_, &records[i].dispatch, completions_.Next()),
              PENG_OK);
  }
  EXPECT_TRUE(completions_.WaitForCalls(first + kOps));
  stop.store(true);
  for (auto& t : helpers) t.join();
  EXPECT_EQ(QueueVt()->wait_idle(queue_, kWaitNs), PENG_OK);
  EXPECT_EQ(violations.load(), 0u) << "a thread_index out of range or used twice at once";
  for (size_t i = first; i < first + kOps; ++i) {
    EXPECT_EQ(completions_.op(i).status.load(), PENG_OK) << "operation " << i - first;
  }
  completions_.ExpectEachOnce();
}

INSTANTIATE_TEST_SUITE_P(Backends, HalConformanceTest, ::testing::ValuesIn(AllBackends()),
                         [](const ::testing::TestParamInfo<BackendConfig>& info) {
                           return TestSuffix(info.param.name);
                         });

}  // namespace
}  // namespace peng_cts
