// The CPU backend: runs kernels given through the CPU kernel ABI on oneTBB,
// one task_arena per device, splitting a dispatch's workgroups across the
// arena's threads.
//
// A device in memory space 0 works on host memory directly. With its own
// ("discrete") memory space it keeps separate allocations and copies to and
// from the host, which is how a platform profile models an accelerator before
// the hardware exists; a timing model then stretches each dispatch and copy to
// the modelled board's duration.
//
// Completions run on the worker that finished the work. When a completion
// enqueues the next dispatch of the same device, that dispatch runs next on
// the same worker without a round trip through the arena: a dependent chain
// costs no thread hand-off.
#if PENG_CPU_EXECUTOR_THREADS
#include <condition_variable>
#include <deque>
#include <functional>
#include <vector>
#else
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "elf_loader.h"
#include "isa_features.h"
#include "peng/hal.h"

// Compiled kernels read these fields at fixed offsets
// (backends/cpu/compiler/lib/EntryPoints.cpp).
static_assert(PENG_KERNEL_ABI_VERSION == 2);
static_assert(offsetof(peng_dispatch_state_t, bindings) == 24);
static_assert(offsetof(peng_dispatch_state_t, workspace_size) == 72);
static_assert(offsetof(peng_workgroup_state_t, workspace) == 24);

namespace {

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

struct CpuDevice;

struct CpuBuffer {
  peng_hal_buffer_t base;
  void* data;
  uint64_t size;
};

struct CpuExecutable {
  peng_hal_executable_t base;
  std::vector<peng_kernel_fn_t> fns;  // by entry
  std::vector<std::string> names;     // by entry, for messages
  peng_elf_image_t* image = nullptr;  // compiled code from module.peng, else null
};

// ELF images mapped so far, by every CPU device: tests check one load per
// executable and device (peng_cpu_images_loaded).
std::atomic<uint64_t> g_images_loaded{0};

struct CpuQueue {
  peng_hal_queue_t base;
  CpuDevice* device;
};

// One unit of work for a worker: a dispatch or a copy. Passed by value, so
// the hot path allocates nothing of its own.
struct Work {
  const peng_hal_dispatch_t* dispatch = nullptr;
  peng_hal_copy_t copy{};
  peng_hal_completion_t completion{};
};

// Where a device's work runs. Normally a oneTBB arena. ThreadSanitizer
// cannot see the synchronisation inside Debian's uninstrumented libtbb and
// reports every hand-off to a worker as a race, so the tsan preset builds
// this backend with PENG_CPU_EXECUTOR_THREADS: a plain std::thread pool with
// the same three operations, which TSan sees through. Every other build runs
// on oneTBB.
#if PENG_CPU_EXECUTOR_THREADS
thread_local int t_pool_index = -1;

class Executor {
 public:
  explicit Executor(int threads) {
    for (int i = 0; i < threads; ++i) workers_.emplace_back([this, i] { Loop(i); });
  }
  ~Executor() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }
  void Enqueue(std::function<void()> f) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(f));
    }
    cv_.notify_one();
  }
  // Runs body(i) for i in [0, n) on this thread and idle workers; returns
  // when all are done.
  template <typename Body>
  void ParallelFor(uint64_t n, Body&& body) {
    struct State {
      std::atomic<uint64_t> next{0};
      std::mutex mutex;
      std::condition_variable cv;
      uint64_t done = 0;
    };
    auto state = std::make_shared<State>();
    std::function<void(uint64_t)> fn = body;
    auto drain = [state, fn, n] {
      uint64_t finished = 0;
      for (uint64_t i; (i = state->next.fetch_add(1)) < n; ++finished) fn(i);
      if (finished) {
        std::lock_guard<std::mutex> lock(state->mutex);
        state->done += finished;
        if (state->done == n) state->cv.notify_all();
      }
    };
    for (size_t k = 1; k < workers_.size() && k < n; ++k) Enqueue(drain);
    drain();
    std::unique_lock<std::mutex> lock(state->mutex);
    state->cv.wait(lock, [&] { return state->done == n; });
  }
  static int ThreadIndex() { return t_pool_index; }

 private:
  void Loop(int index) {
    t_pool_index = index;
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      auto f = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      f();
      lock.lock();
    }
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};
void AddWorkers(long) {}
#else
// Keeps TBB's worker pool as large as all CPU devices' threads together: by
// default it has one thread fewer than the machine, and our arenas have no
// application thread joining them.
struct WorkerPool {
  std::mutex mutex;
  size_t total = 0;
  std::unique_ptr<tbb::global_control> control;

  void Add(long delta) {
    std::lock_guard<std::mutex> lock(mutex);
    total += delta;
    control.reset();
    if (total > 0) {
      size_t hw = std::max<size_t>(1, std::thread::hardware_concurrency());
      control = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                      std::max(total + 1, hw));
    }
  }
};
void AddWorkers(long delta) {
  static WorkerPool* pool = new WorkerPool();
  pool->Add(delta);
}

class Executor {
 public:
  // No slot reserved for application threads: only TBB workers serve it.
  explicit Executor(int threads) : arena_(threads, 0) {}
  template <typename F>
  void Enqueue(F&& f) {
    arena_.enqueue(std::forward<F>(f));
  }
  template <typename Body>
  void ParallelFor(uint64_t n, Body&& body) {
    tbb::parallel_for(tbb::blocked_range<uint64_t>(0, n), [&](const tbb::blocked_range<uint64_t>& r) {
      for (uint64_t i = r.begin(); i != r.end(); ++i) body(i);
    });
  }
  static int ThreadIndex() { return tbb::this_task_arena::current_thread_index(); }

 private:
  tbb::task_arena arena_;
};
#endif

struct CpuDevice {
  peng_hal_device_t base;
  std::string name;
  std::string targets;  // comma-separated
  peng_device_kind_t kind;
  uint32_t memory_space;
  uint32_t threads;
  uint64_t memory_bytes;
  double gflops, mem_gbps, launch_us, link_gbps, link_latency_us;
  peng_status_t (*set_error)(peng_status_t, const char*);
  std::unique_ptr<Executor> executor;
  std::atomic<uint64_t> allocated{0};

  // Operations enqueued and not yet completed. wait_idle polls it: a worker
  // that drops it to zero must be free to stop touching the device at once,
  // so there is no condition variable to notify afterwards.
  std::atomic<int64_t> outstanding{0};
};

// The device whose work this thread is running, and the next dispatch it
// should run inline (see the header comment).
thread_local CpuDevice* t_device = nullptr;
thread_local bool t_has_next = false;
thread_local Work t_next;

void SleepUntil(uint64_t deadline_ns) {
  uint64_t now = NowNs();
  if (deadline_ns > now) std::this_thread::sleep_for(std::chrono::nanoseconds(deadline_ns - now));
}

// Set once per RunWork: the arena slot of this worker.
thread_local uint32_t t_thread_index = 0;

// Each thread's scratch for the workgroups it runs, grown to the largest
// workspace a kernel asked for. A workgroup runs to completion on one thread
// before the thread takes another, so one buffer per thread never overlaps.
struct Scratch {
  void* data = nullptr;
  uint64_t size = 0;
  ~Scratch() { std::free(data); }
  void* Get(uint64_t want) {
    if (want <= size) return data;
    std::free(data);
    data = std::aligned_alloc(64, (want + 63) & ~uint64_t(63));
    size = data ? want : 0;
    return data;
  }
};
thread_local Scratch t_scratch;

peng_status_t RunDispatch(CpuDevice* dev, const peng_hal_dispatch_t* d) {
  // The clock only when someone reads it: a timing model or timestamps.
  const bool timed = dev->gflops > 0 || d->timestamps;
  uint64_t start = timed ? NowNs() : 0;
  const peng_dispatch_state_t& state = d->state;
  for (uint32_t i = 0; i < state.binding_count; ++i) {
    d->binding_slots[i] = reinterpret_cast<CpuBuffer*>(d->buffers[i])->data;
  }
  const auto* exe = reinterpret_cast<const CpuExecutable*>(d->executable);
  if (d->entry >= exe->fns.size()) {
    return dev->set_error(PENG_ERROR_INVALID_ARGUMENT, "dispatch names an entry the executable lacks");
  }
  peng_kernel_fn_t fn = exe->fns[d->entry];
  uint64_t nx = state.workgroup_count[0], ny = state.workgroup_count[1],
           nz = state.workgroup_count[2];
  uint64_t total = nx * ny * nz;
  std::atomic<int> failed{0};
  const uint64_t workspace = state.workspace_size;
  std::atomic<int> no_memory{0};
  auto run_one = [&](uint64_t flat) {
    peng_workgroup_state_t wg{};
    wg.workgroup_id[0] = uint32_t(flat % nx);
    wg.workgroup_id[1] = uint32_t((flat / nx) % ny);
    wg.workgroup_id[2] = uint32_t(flat / (nx * ny));
    int idx = Executor::ThreadIndex();
    wg.thread_index = idx < 0 ? 0 : uint32_t(idx);
    if (workspace && !(wg.workspace = t_scratch.Get(workspace))) {
      no_memory.store(1, std::memory_order_relaxed);
      return;
    }
    if (fn(&state, &wg) != 0) failed.store(1, std::memory_order_relaxed);
  };
  if (total == 1) {
    peng_workgroup_state_t wg{};
    wg.thread_index = t_thread_index;
    if (workspace && !(wg.workspace = t_scratch.Get(workspace))) {
      no_memory.store(1, std::memory_order_relaxed);
    } else if (fn(&state, &wg) != 0) {
      failed.store(1, std::memory_order_relaxed);
    }
  } else if (total > 1) {
    dev->executor->ParallelFor(total, run_one);
  }
  if (dev->gflops > 0) {
    double us = dev->launch_us + d->flops / (dev->gflops * 1e3);
    if (dev->mem_gbps > 0) us = std::max(us, dev->launch_us + d->bytes / (dev->mem_gbps * 1e3));
    SleepUntil(start + uint64_t(us * 1e3));
  }
  if (d->timestamps) {
    d->timestamps[0] = start;
    d->timestamps[1] = NowNs();
  }
  if (no_memory.load()) {
    return dev->set_error(PENG_ERROR_OUT_OF_MEMORY,
                          ("no memory for a workspace of " + std::to_string(workspace) +
                           " bytes per workgroup")
                              .c_str());
  }
  if (failed.load()) {
    // Compiled kernels fail when the dispatch state does not match what they
    // were compiled for, such as a workspace smaller than module.peng asked.
    return dev->set_error(PENG_ERROR_KERNEL_FAILED,
                          ("kernel '" + exe->names[d->entry] +
                           "' refused its dispatch state (kernel ABI " +
                           std::to_string(state.abi_version) + ", workspace " +
                           std::to_string(workspace) + " bytes)")
                              .c_str());
  }
  return PENG_OK;
}

peng_status_t RunCopy(CpuDevice* dev, const peng_hal_copy_t& c) {
  uint64_t start = NowNs();
  const char* src = c.src_buffer ? static_cast<const char*>(
                                       reinterpret_cast<CpuBuffer*>(c.src_buffer)->data)
                                 : static_cast<const char*>(c.src_host);
  char* dst = c.dst_buffer ? static_cast<char*>(reinterpret_cast<CpuBuffer*>(c.dst_buffer)->data)
                           : static_cast<char*>(c.dst_host);
  std::memcpy(dst + c.dst_offset, src + c.src_offset, c.size);
  if (dev->link_gbps > 0) {
    SleepUntil(start + uint64_t((dev->link_latency_us + c.size / (dev->link_gbps * 1e3)) * 1e3));
  }
  if (c.timestamps) {
    c.timestamps[0] = start;
    c.timestamps[1] = NowNs();
  }
  return PENG_OK;
}

void RunWork(CpuDevice* dev, Work work) {
  CpuDevice* saved_device = t_device;
  bool saved_has_next = t_has_next;
  Work saved_next = t_next;
  t_device = dev;
  {
    int idx = Executor::ThreadIndex();
    t_thread_index = idx < 0 ? 0 : uint32_t(idx);
  }
  while (true) {
    t_has_next = false;
    peng_status_t st = work.dispatch ? RunDispatch(dev, work.dispatch) : RunCopy(dev, work.copy);
    work.completion.fn(work.completion.user_data, st);
    bool more = t_has_next;  // the completion enqueued more work here: dev stays alive
    if (more) work = t_next;
    dev->outstanding.fetch_sub(1, std::memory_order_release);
    if (!more) break;
  }
  t_device = saved_device;
  t_has_next = saved_has_next;
  t_next = saved_next;
}

peng_status_t Submit(CpuDevice* dev, const Work& work) {
  dev->outstanding.fetch_add(1, std::memory_order_relaxed);
  if (t_device == dev && !t_has_next) {
    t_next = work;
    t_has_next = true;
    return PENG_OK;
  }
  dev->executor->Enqueue([dev, work] { RunWork(dev, work); });
  return PENG_OK;
}

// ------------------------------------------------------------------ vtables

void BufferDestroy(peng_hal_buffer_t* b) {
  auto* buf = reinterpret_cast<CpuBuffer*>(b);
  std::free(buf->data);
  delete buf;
}
peng_status_t BufferMap(peng_hal_buffer_t* b, void** out) {
  *out = reinterpret_cast<CpuBuffer*>(b)->data;
  return PENG_OK;
}
const peng_hal_buffer_vtable_t kBufferVtable = {
    /*.destroy = */ BufferDestroy,
    /*.map = */ BufferMap,
};

void ExecutableDestroy(peng_hal_executable_t* e) {
  auto* exe = reinterpret_cast<CpuExecutable*>(e);
  peng_elf_unload(exe->image);
  delete exe;
}
const peng_hal_executable_vtable_t kExecutableVtable = {
    /*.destroy = */ ExecutableDestroy,
};

void QueueDestroy(peng_hal_queue_t* q) { delete reinterpret_cast<CpuQueue*>(q); }
peng_status_t QueueEnqueueCopy(peng_hal_queue_t* q, const peng_hal_copy_t* copy,
                               peng_hal_completion_t completion) {
  if (!copy || !completion.fn) return PENG_ERROR_INVALID_ARGUMENT;
  if ((!copy->src_buffer == !copy->src_host) || (!copy->dst_buffer == !copy->dst_host)) {
    return PENG_ERROR_INVALID_ARGUMENT;
  }
  Work work;
  work.copy = *copy;
  work.completion = completion;
  return Submit(reinterpret_cast<CpuQueue*>(q)->device, work);
}
peng_status_t QueueEnqueueDispatch(peng_hal_queue_t* q, const peng_hal_dispatch_t* dispatch,
                                   peng_hal_completion_t completion) {
  if (!dispatch || !dispatch->executable || !completion.fn) return PENG_ERROR_INVALID_ARGUMENT;
  Work work;
  work.dispatch = dispatch;
  work.completion = completion;
  return Submit(reinterpret_cast<CpuQueue*>(q)->device, work);
}
peng_status_t QueueWaitIdle(peng_hal_queue_t* q, uint64_t timeout_ns) {
  CpuDevice* dev = reinterpret_cast<CpuQueue*>(q)->device;
  // Waiting from one of the device's own workers would wait for itself.
  if (t_device == dev) return PENG_ERROR_INVALID_ARGUMENT;
  // Polls with a growing sleep: waiting for idle is rare (teardown), and it
  // keeps the per-operation path free of locks.
  uint64_t deadline = timeout_ns == PENG_WAIT_FOREVER ? UINT64_MAX : NowNs() + timeout_ns;
  uint64_t sleep_ns = 1000;
  while (dev->outstanding.load(std::memory_order_acquire) != 0) {
    if (NowNs() >= deadline) return PENG_ERROR_TIMEOUT;
    std::this_thread::sleep_for(std::chrono::nanoseconds(sleep_ns));
    sleep_ns = std::min<uint64_t>(sleep_ns * 2, 1000000);
  }
  return PENG_OK;
}
const peng_hal_queue_vtable_t kQueueVtable = {
    /*.destroy = */ QueueDestroy,
    /*.enqueue_copy = */ QueueEnqueueCopy,
    /*.enqueue_dispatch = */ QueueEnqueueDispatch,
    /*.wait_idle = */ QueueWaitIdle,
};

void DeviceDestroy(peng_hal_device_t* d) {
  auto* dev = reinterpret_cast<CpuDevice*>(d);
  long threads = long(dev->threads);
  delete dev;
  AddWorkers(-threads);
}

// The widest vector unit this CPU has, read at run time: a binary built for
// a baseline ISA still reports what the machine offers.
uint32_t VectorBits() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return 512;
  if (__builtin_cpu_supports("avx2") || __builtin_cpu_supports("avx")) return 256;
  return 128;
#elif defined(__riscv_vector)
  unsigned long vlenb;
  asm volatile("csrr %0, vlenb" : "=r"(vlenb));
  return uint32_t(vlenb * 8);
#elif defined(__aarch64__)
  return 128;
#else
  return 0;
#endif
}

peng_status_t DeviceQueryInfo(peng_hal_device_t* d, peng_device_info_t* out) {
  auto* dev = reinterpret_cast<CpuDevice*>(d);
  std::memset(out, 0, sizeof(*out));
  std::snprintf(out->name, sizeof(out->name), "%s", dev->name.c_str());
  std::snprintf(out->backend, sizeof(out->backend), "cpu");
  std::snprintf(out->target, sizeof(out->target), "%s", dev->targets.c_str());
  out->kind = dev->kind;
  out->memory_space = dev->memory_space;
  out->memory_bytes = dev->memory_bytes;
  out->compute_units = dev->threads;
  out->max_workgroups = UINT32_MAX;
  out->peak_gflops = dev->gflops;
  out->vector_bits = VectorBits();
  return PENG_OK;
}

// Features named by PENG_CPU_ISA_DISABLE ("avx512f,avx2"): the device acts
// as if the CPU lacked them, to test the code for a smaller machine here.
bool IsaDisabled(const char* feature) {
  static const std::string disabled = [] {
    const char* env = std::getenv("PENG_CPU_ISA_DISABLE");
    return "," + std::string(env ? env : "") + ",";
  }();
  return disabled.find("," + std::string(feature) + ",") != std::string::npos;
}

// Whether this CPU has an ISA feature that module.peng names (see
// backends/cpu/common/isa_features.h); unknown names are not had.
bool CpuHasFeature(const std::string& f) {
  if (IsaDisabled(f.c_str())) return false;
#if defined(__x86_64__)
  bool known = false;
  for (const char* k : peng::cpu_isa::kX86Features) known |= f == k;
  if (!known) return false;
  __builtin_cpu_init();
  // __builtin_cpu_supports takes literals only.
  if (f == "sse4.2") return __builtin_cpu_supports("sse4.2");
  if (f == "popcnt") return __builtin_cpu_supports("popcnt");
  if (f == "avx") return __builtin_cpu_supports("avx");
  if (f == "avx2") return __builtin_cpu_supports("avx2");
  if (f == "fma") return __builtin_cpu_supports("fma");
  if (f == "bmi") return __builtin_cpu_supports("bmi");
  if (f == "bmi2") return __builtin_cpu_supports("bmi2");
  if (f == "avx512f") return __builtin_cpu_supports("avx512f");
  if (f == "avx512cd") return __builtin_cpu_supports("avx512cd");
  if (f == "avx512bw") return __builtin_cpu_supports("avx512bw");
  if (f == "avx512dq") return __builtin_cpu_supports("avx512dq");
  if (f == "avx512vl") return __builtin_cpu_supports("avx512vl");
  return false;
#elif defined(__riscv)
#if defined(__riscv_vector)
  // This runtime itself runs vector code, so the hart has V.
  if (f == "v") return true;
#endif
  return false;
#else
  return false;
#endif
}

// The features of a comma-separated list this CPU lacks, or "".
std::string MissingFeatures(const char* features) {
  std::string missing;
  std::string list = features ? features : "";
  size_t start = 0;
  while (start < list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    std::string f = list.substr(start, end - start);
    if (!f.empty() && !CpuHasFeature(f)) missing += (missing.empty() ? "" : ", ") + f;
    start = end + 1;
  }
  return missing;
}

bool HasTarget(const CpuDevice* dev, const char* target) {
  const std::string& t = dev->targets;
  size_t start = 0;
  while (start <= t.size()) {
    size_t end = t.find(',', start);
    if (end == std::string::npos) end = t.size();
    if (t.compare(start, end - start, target) == 0 && std::strlen(target) == end - start) {
      return true;
    }
    start = end + 1;
  }
  return false;
}

// Whether this device runs `x`: a target it accepts, and native functions or
// an ELF for this machine whose ISA features the CPU has and, for
// VLEN-specialised RVV code, whose VLEN range holds this hart's. When not,
// *why says so for the user (empty when the target is simply not ours).
bool CanRun(const CpuDevice* dev, const peng_hal_executable_spec_t* x, std::string* why) {
  if (!x || !x->target || !x->format || !HasTarget(dev, x->target)) return false;
  if (std::strcmp(x->format, "native") == 0) {
    for (uint32_t i = 0; i < x->entry_count; ++i) {
      if (!x->entries || !x->entries[i].fn) {
        *why = "a native entry without a function";
        return false;
      }
    }
    return true;
  }
  if (std::strcmp(x->format, "elf") != 0 || !x->code) {
    *why = std::string("format '") + x->format + "' is not one the cpu backend runs";
    return false;
  }
  if (x->arch && std::strcmp(x->arch, peng_elf_host_arch()) != 0) {
    *why = std::string("code for ") + x->arch + ", this machine is " + peng_elf_host_arch();
    return false;
  }
  std::string missing = MissingFeatures(x->features);
  if (!missing.empty()) {
    const char* disabled = std::getenv("PENG_CPU_ISA_DISABLE");
    *why = "needs " + missing + ", which this CPU lacks" +
           (disabled && *disabled ? std::string(" (PENG_CPU_ISA_DISABLE is '") + disabled + "')"
                                  : std::string());
    return false;
  }
  uint32_t vlen = VectorBits();
  if ((x->min_vlen && vlen < x->min_vlen) || (x->max_vlen && vlen > x->max_vlen)) {
    *why = "built for VLEN " + std::to_string(x->min_vlen) + "-" + std::to_string(x->max_vlen) +
           ", this hart has " + std::to_string(vlen);
    return false;
  }
  return true;
}

peng_status_t DeviceSupports(peng_hal_device_t* d, const peng_hal_executable_spec_t* x, int* out) {
  auto* dev = reinterpret_cast<CpuDevice*>(d);
  std::string why;
  *out = CanRun(dev, x, &why) ? 1 : 0;
  if (!*out && !why.empty()) dev->set_error(PENG_ERROR_UNSUPPORTED, why.c_str());
  return PENG_OK;
}

peng_status_t DeviceAllocate(peng_hal_device_t* d, uint64_t size, peng_hal_buffer_t** out) {
  auto* dev = reinterpret_cast<CpuDevice*>(d);
  if (dev->memory_bytes) {
    uint64_t used = dev->allocated.fetch_add(size) + size;
    if (used > dev->memory_bytes) {
      dev->allocated.fetch_sub(size);
      return PENG_ERROR_OUT_OF_MEMORY;
    }
  }
  // 64-byte aligned: vector loads and cache lines.
  size_t rounded = (std::max<uint64_t>(size, 1) + 63) & ~uint64_t(63);
  void* data = std::aligned_alloc(64, rounded);
  if (!data) return PENG_ERROR_OUT_OF_MEMORY;
  *out = &(new CpuBuffer{{{&kBufferVtable}}, data, size})->base;
  return PENG_OK;
}

peng_status_t DeviceLoadExecutable(peng_hal_device_t* d, const peng_hal_executable_spec_t* x,
                                   peng_hal_executable_t** out) {
  auto* dev = reinterpret_cast<CpuDevice*>(d);
  std::string why;
  if (!CanRun(dev, x, &why)) {
    return dev->set_error(PENG_ERROR_UNSUPPORTED,
                          why.empty() ? "not a target of this device" : why.c_str());
  }
  auto exe = std::make_unique<CpuExecutable>();
  exe->base.resource.vtable = &kExecutableVtable;
  for (uint32_t i = 0; i < x->entry_count; ++i) {
    exe->names.push_back(x->entries[i].name ? x->entries[i].name : "?");
  }
  if (std::strcmp(x->format, "native") == 0) {
    for (uint32_t i = 0; i < x->entry_count; ++i) exe->fns.push_back(x->entries[i].fn);
    *out = &exe.release()->base;
    return PENG_OK;
  }
  // One image per executable, however many kernels it holds.
  char error[256];
  if (peng_elf_load(x->code, size_t(x->code_size), &exe->image, error, sizeof error) != 0) {
    return dev->set_error(PENG_ERROR_CORRUPT_DATA, error);
  }
  g_images_loaded.fetch_add(1, std::memory_order_relaxed);
  for (uint32_t i = 0; i < x->entry_count; ++i) {
    const char* symbol = x->entries[i].symbol;
    void* fn = symbol ? peng_elf_symbol(exe->image, symbol) : nullptr;
    if (!fn) {
      std::string message = "kernel '" + exe->names[i] + "': no symbol '" +
                            (symbol ? symbol : "") + "' in its code";
      peng_elf_unload(exe->image);
      return dev->set_error(PENG_ERROR_CORRUPT_DATA, message.c_str());
    }
    exe->fns.push_back(reinterpret_cast<peng_kernel_fn_t>(fn));
  }
  *out = &exe.release()->base;
  return PENG_OK;
}

peng_status_t DeviceCreateQueue(peng_hal_device_t* d, peng_hal_queue_t** out) {
  *out = &(new CpuQueue{{{&kQueueVtable}}, reinterpret_cast<CpuDevice*>(d)})->base;
  return PENG_OK;
}

const peng_hal_device_vtable_t kDeviceVtable = {
    /*.destroy = */ DeviceDestroy,
    /*.query_info = */ DeviceQueryInfo,
    /*.supports = */ DeviceSupports,
    /*.allocate = */ DeviceAllocate,
    /*.load_executable = */ DeviceLoadExecutable,
    /*.create_queue = */ DeviceCreateQueue,
    /*.check_health = */ nullptr,  // (optional) a CPU is never lost
};

peng_status_t Enumerate(uint32_t* out_count) {
  *out_count = 1;
  return PENG_OK;
}

peng_status_t CreateDevice(uint32_t, const peng_hal_device_params_t* p,
                           peng_hal_device_t** out) {
  if (!p || !out) return PENG_ERROR_INVALID_ARGUMENT;
  auto dev = std::make_unique<CpuDevice>();
  dev->base.resource.vtable = &kDeviceVtable;
  dev->name = p->name ? p->name : "cpu";
  // "host" runs native functions of this process; "rvv" runs pengc's RISC-V
  // vector code (the ELF arch check keeps x86 code off a riscv64 hart).
#if defined(__riscv_vector)
  dev->targets = p->targets ? p->targets : "host,rvv";
#else
  dev->targets = p->targets ? p->targets : "host";
#endif
  dev->kind = p->kind;
  dev->memory_space = p->memory_space;
  uint32_t hw = std::max(1u, std::thread::hardware_concurrency());
  dev->threads = p->threads ? p->threads : hw;
  dev->memory_bytes = p->memory_bytes;
  dev->gflops = p->model_gflops;
  dev->mem_gbps = p->model_mem_gbps;
  dev->launch_us = p->model_launch_us;
  dev->link_gbps = p->memory_space != 0 ? p->link_gbps : 0;
  dev->link_latency_us = p->memory_space != 0 ? p->link_latency_us : 0;
  dev->set_error = p->set_error ? p->set_error : [](peng_status_t code, const char*) { return code; };
  AddWorkers(long(dev->threads));
  dev->executor = std::make_unique<Executor>(int(dev->threads));
  *out = &dev.release()->base;
  return PENG_OK;
}

const peng_hal_factory_t kFactory = {
    /*.abi_version = */ PENG_HAL_ABI_VERSION,
    /*.name = */ "cpu",
    /*.enumerate = */ Enumerate,
    /*.create_device = */ CreateDevice,
};

}  // namespace

extern "C" const peng_hal_factory_t* peng_backend_cpu_factory(void) { return &kFactory; }

// For tests that link the runtime statically; not part of any public API.
extern "C" uint64_t peng_cpu_images_loaded(void) { return g_images_loaded.load(); }
