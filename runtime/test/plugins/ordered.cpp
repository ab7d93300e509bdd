// A test backend with device-side ordering (PENG_HAL_QUEUE_ORDERING), in its
// own memory space, run by one worker thread that behaves like an accelerator
// with an out-of-order queue: of the operations whose waits are satisfied it
// runs the NEWEST first, so a wait the runtime forgot shows as a wrong result.
// Tests hold the worker, look at what was enqueued (peng_test_ordered_*), and
// let it go. Settings: `lose_after=N` (the device is lost at its N-th
// dispatch), `run_after_failure=true` (run launches whose waits failed instead
// of cancelling them; hal.h allows both).
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "peng/hal.h"

namespace {

uint64_t Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

struct Stats {
  std::mutex mutex;
  std::condition_variable cv;
  bool hold = false;
  uint32_t queued = 0;      // dispatches enqueued and not completed
  uint32_t max_queued = 0;
  uint32_t waited_early = 0;  // dispatches that arrived with a wait not yet complete
  uint32_t with_waits = 0;    // dispatches that arrived with waits
  uint32_t bad_waits = 0;     // waits naming no earlier dispatch of the queue
  uint32_t ran = 0;
};
// Never destroyed: a worker of a leaked device may still wait on it at exit.
Stats& g_stats = *new Stats;

struct Op {
  bool dispatch;
  peng_hal_copy_t copy;
  const peng_hal_dispatch_t* d;
  uint64_t id;
  std::vector<uint64_t> waits;
  peng_hal_completion_t done;
};

struct Device;
struct Buffer {
  peng_hal_buffer_t base;
  void* data;
};
struct Exe {
  peng_hal_executable_t base;
  std::vector<peng_kernel_fn_t> fns;
};
struct Queue {
  peng_hal_queue_t base;
  Device* dev;
};

struct Device {
  peng_hal_device_t base;
  std::string name;
  uint32_t space = 0;
  uint32_t lose_after = 0;
  bool run_after_failure = false;
  uint32_t dispatches = 0;
  bool lost = false;
  // Guarded by g_stats.mutex, the one lock of this plugin.
  std::deque<Op> ops;
  std::set<uint64_t> seen;        // every dispatch id enqueued
  std::set<uint64_t> pending;     // dispatch ids enqueued, not complete
  std::set<uint64_t> failed;
  uint32_t busy = 0;
  bool stop = false;
  std::thread worker;

  void Run();
};

void* Data(peng_hal_buffer_t* b) { return reinterpret_cast<Buffer*>(b)->data; }

int RunDispatch(const peng_hal_dispatch_t* d) {
  for (uint32_t i = 0; i < d->state.binding_count; ++i) d->binding_slots[i] = Data(d->buffers[i]);
  auto fn = reinterpret_cast<Exe*>(d->executable)->fns[d->entry];
  peng_workgroup_state_t wg{};
  int rc = 0;
  for (uint32_t z = 0; z < d->state.workgroup_count[2]; ++z)
    for (uint32_t y = 0; y < d->state.workgroup_count[1]; ++y)
      for (uint32_t x = 0; x < d->state.workgroup_count[0]; ++x) {
        wg.workgroup_id[0] = x, wg.workgroup_id[1] = y, wg.workgroup_id[2] = z;
        rc |= fn(&d->state, &wg);
      }
  return rc;
}

void Device::Run() {
  std::unique_lock<std::mutex> lock(g_stats.mutex);
  while (true) {
    // Held, only copies run: a launch's inputs still arrive.
    auto runnable = [&] {
      for (const Op& o : ops) {
        if (!o.dispatch || !g_stats.hold) return true;
      }
      return false;
    };
    g_stats.cv.wait(lock, [&] { return stop || runnable(); });
    if (stop && ops.empty()) return;
    if (stop) g_stats.hold = false;
    // The newest operation whose waits are all complete.
    auto it = ops.end();
    bool cancel = false;
    for (auto o = ops.rbegin(); o != ops.rend(); ++o) {
      if (o->dispatch && g_stats.hold) continue;
      bool ready = true, failed_wait = false;
      for (uint64_t w : o->waits) {
        if (pending.count(w)) ready = false;
        if (failed.count(w)) failed_wait = true;
      }
      if (ready) {
        it = std::prev(o.base());
        cancel = failed_wait && !run_after_failure;
        break;
      }
    }
    if (it == ops.end()) {
      // Cannot happen with waits on earlier ids only: something waits on itself.
      ++g_stats.bad_waits;
      it = ops.begin();
    }
    Op op = *it;
    ops.erase(it);
    peng_status_t status = PENG_OK;
    if (lost) {
      status = PENG_ERROR_DEVICE_LOST;
    } else if (op.dispatch) {
      if (lose_after && ++dispatches >= lose_after) {
        lost = true;
        status = PENG_ERROR_DEVICE_LOST;
      } else if (cancel) {
        status = PENG_ERROR_CANCELLED;
      } else {
        lock.unlock();
        uint64_t start = Now();
        int rc = RunDispatch(op.d);
        if (op.d->timestamps) op.d->timestamps[0] = start, op.d->timestamps[1] = Now();
        lock.lock();
        status = rc ? PENG_ERROR_KERNEL_FAILED : PENG_OK;
        ++g_stats.ran;
      }
    } else {
      const peng_hal_copy_t& c = op.copy;
      const char* src = c.src_buffer ? static_cast<const char*>(Data(c.src_buffer))
                                     : static_cast<const char*>(c.src_host);
      char* dst = c.dst_buffer ? static_cast<char*>(Data(c.dst_buffer)) : static_cast<char*>(c.dst_host);
      std::memcpy(dst + c.dst_offset, src + c.src_offset, c.size);
    }
    if (op.dispatch) {
      pending.erase(op.id);
      if (status != PENG_OK) failed.insert(op.id);
      --g_stats.queued;
    }
    ++busy;
    lock.unlock();
    op.done.fn(op.done.user_data, status);
    lock.lock();
    --busy;
    g_stats.cv.notify_all();
  }
}

void BufDestroy(peng_hal_buffer_t* b) {
  std::free(reinterpret_cast<Buffer*>(b)->data);
  delete reinterpret_cast<Buffer*>(b);
}
peng_status_t BufMap(peng_hal_buffer_t* b, void** out) {
  *out = reinterpret_cast<Buffer*>(b)->data;
  return PENG_OK;
}
const peng_hal_buffer_vtable_t kBuf = {BufDestroy, BufMap};
void ExeDestroy(peng_hal_executable_t* e) { delete reinterpret_cast<Exe*>(e); }
const peng_hal_executable_vtable_t kExe = {ExeDestroy};

void QDestroy(peng_hal_queue_t* q) { delete reinterpret_cast<Queue*>(q); }
peng_status_t QCopy(peng_hal_queue_t* q, const peng_hal_copy_t* c, peng_hal_completion_t done) {
  Device* dev = reinterpret_cast<Queue*>(q)->dev;
  std::lock_guard<std::mutex> lock(g_stats.mutex);
  if (dev->lost) return PENG_ERROR_DEVICE_LOST;
  dev->ops.push_back(Op{false, *c, nullptr, 0, {}, done});
  g_stats.cv.notify_all();
  return PENG_OK;
}
peng_status_t QDispatch(peng_hal_queue_t* q, const peng_hal_dispatch_t* d,
                        peng_hal_completion_t done) {
  Device* dev = reinterpret_cast<Queue*>(q)->dev;
  std::lock_guard<std::mutex> lock(g_stats.mutex);
  if (dev->lost) return PENG_ERROR_DEVICE_LOST;
  Op op{true, {}, d, d->id, std::vector<uint64_t>(d->waits, d->waits + d->wait_count), done};
  bool early = false;
  for (uint64_t w : op.waits) {
    if (!dev->seen.count(w)) ++g_stats.bad_waits;  // only launches enqueued before
    if (dev->pending.count(w)) early = true;
  }
  if (d->id == 0 || !dev->seen.insert(d->id).second) ++g_stats.bad_waits;  // unique, never 0
  dev->pending.insert(d->id);
  if (early) ++g_stats.waited_early;
  if (d->wait_count) ++g_stats.with_waits;
  if (++g_stats.queued > g_stats.max_queued) g_stats.max_queued = g_stats.queued;
  dev->ops.push_back(std::move(op));
  g_stats.cv.notify_all();
  return PENG_OK;
}
peng_status_t QWait(peng_hal_queue_t* q, uint64_t) {
  Device* dev = reinterpret_cast<Queue*>(q)->dev;
  std::unique_lock<std::mutex> lock(g_stats.mutex);
  g_stats.cv.wait(lock, [&] { return (dev->ops.empty() && dev->busy == 0) || g_stats.hold; });
  return PENG_OK;
}
const peng_hal_queue_vtable_t kQueue = {QDestroy, QCopy, QDispatch, QWait, nullptr,
                                        PENG_HAL_QUEUE_ORDERING};

void DevDestroy(peng_hal_device_t* d) {
  auto* dev = reinterpret_cast<Device*>(d);
  {
    std::lock_guard<std::mutex> lock(g_stats.mutex);
    dev->stop = true;
    g_stats.cv.notify_all();
  }
  dev->worker.join();
  delete dev;
}
peng_status_t DevInfo(peng_hal_device_t* d, peng_device_info_t* out) {
  auto* dev = reinterpret_cast<Device*>(d);
  std::memset(out, 0, sizeof(*out));
  std::strncpy(out->name, dev->name.c_str(), sizeof(out->name) - 1);
  std::strcpy(out->target, "host");
  out->kind = PENG_DEVICE_NPU;
  out->memory_space = dev->space;
  out->compute_units = 1;
  return PENG_OK;
}
peng_status_t DevSupports(peng_hal_device_t*, const peng_hal_executable_spec_t* x, int* out) {
  *out = std::strcmp(x->format, "native") == 0 && std::strcmp(x->target, "host") == 0;
  return PENG_OK;
}
peng_status_t DevAlloc(peng_hal_device_t* d, uint64_t size, peng_hal_buffer_t** out) {
  std::lock_guard<std::mutex> lock(g_stats.mutex);
  if (reinterpret_cast<Device*>(d)->lost) return PENG_ERROR_DEVICE_LOST;
  *out = &(new Buffer{{&kBuf}, std::calloc(1, size ? size : 1)})->base;
  return PENG_OK;
}
peng_status_t DevLoad(peng_hal_device_t*, const peng_hal_executable_spec_t* x,
                      peng_hal_executable_t** out) {
  auto* exe = new Exe{{&kExe}, {}};
  for (uint32_t i = 0; i < x->entry_count; ++i) exe->fns.push_back(x->entries[i].fn);
  *out = &exe->base;
  return PENG_OK;
}
peng_status_t DevQueue(peng_hal_device_t* d, peng_hal_queue_t** out) {
  *out = &(new Queue{{&kQueue}, reinterpret_cast<Device*>(d)})->base;
  return PENG_OK;
}
peng_status_t DevHealth(peng_hal_device_t* d) {
  std::lock_guard<std::mutex> lock(g_stats.mutex);
  return reinterpret_cast<Device*>(d)->lost ? PENG_ERROR_DEVICE_LOST : PENG_OK;
}
const peng_hal_device_vtable_t kDevice = {DevDestroy, DevInfo,  DevSupports, DevAlloc,
                                          DevLoad,    DevQueue, DevHealth};

peng_status_t Enumerate(uint32_t* n) {
  *n = 1;
  return PENG_OK;
}
peng_status_t Create(uint32_t, const peng_hal_device_params_t* p, peng_hal_device_t** out) {
  auto* dev = new Device();
  dev->base.resource.vtable = &kDevice;
  dev->name = p->name;
  dev->space = p->memory_space;
  const char* lose = peng_hal_setting(p, "lose_after");
  dev->lose_after = lose ? uint32_t(std::strtoul(lose, nullptr, 10)) : 0;
  const char* raf = peng_hal_setting(p, "run_after_failure");
  dev->run_after_failure = raf && std::strcmp(raf, "true") == 0;
  dev->worker = std::thread([dev] { dev->Run(); });
  *out = &dev->base;
  return PENG_OK;
}
const peng_hal_factory_t kFactory = {PENG_HAL_ABI_VERSION, "ordered", Enumerate, Create};

}  // namespace

extern "C" PENG_HAL_EXPORT const peng_hal_factory_t* peng_hal_plugin_register(void) {
  return &kFactory;
}

// Test controls: hold the worker (nothing runs until released), and what the
// queue saw. Reset clears the counters.
extern "C" PENG_HAL_EXPORT void peng_test_ordered_hold(int hold) {
  std::lock_guard<std::mutex> lock(g_stats.mutex);
  g_stats.hold = hold != 0;
  g_stats.cv.notify_all();
}
extern "C" PENG_HAL_EXPORT void peng_test_ordered_reset(void) {
  std::lock_guard<std::mutex> lock(g_stats.mutex);
  g_stats.max_queued = g_stats.waited_early = g_stats.with_waits = g_stats.bad_waits = g_stats.ran = 0;
}
// Waits until `n` dispatches are queued at once (1) or `timeout_ms` passed (0).
extern "C" PENG_HAL_EXPORT int peng_test_ordered_wait_queued(uint32_t n, uint32_t timeout_ms) {
  std::unique_lock<std::mutex> lock(g_stats.mutex);
  return g_stats.cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                             [&] { return g_stats.queued >= n; });
}
extern "C" PENG_HAL_EXPORT void peng_test_ordered_stats(uint32_t* max_queued, uint32_t* waited_early,
                                                        uint32_t* with_waits, uint32_t* bad_waits,
                                                        uint32_t* ran) {
  std::lock_guard<std::mutex> lock(g_stats.mutex);
  *max_queued = g_stats.max_queued;
  *waited_early = g_stats.waited_early;
  *with_waits = g_stats.with_waits;
  *bad_waits = g_stats.bad_waits;
  *ran = g_stats.ran;
}
