// The CPU backend: runs kernels given through the CPU kernel ABI on the
// device's own threads (oneTBB workers, one task_arena per device), and on a
// runtime thread that waits for them (the queue's `help` slot).
//
// A device in memory space 0 works on host memory directly. With its own
// ("discrete") memory space it keeps separate allocations and copies to and
// from the host, which is how a platform profile models an accelerator before
// the hardware exists; a timing model then stretches each dispatch and copy to
// the modelled board's duration.
//
// Who runs what: enqueued operations wait in the device's queue. A thread runs
// them only while it holds one of the device's `threads` thread indices, so at
// most `threads` threads work for the device at once and each workgroup's
// thread_index is its own. Pool threads come through tickets, posted while an
// index is free and work waits; a thread waiting for the work comes through
// help() and takes only what its caller accepts. That waiter is why: it would
// otherwise sleep while a pool thread wakes up, which costs more than a small
// graph's whole run. A dispatch of several workgroups is shared: the thread
// that starts it claims workgroups until none is left, and the other index
// holders join in.
//
// Completions run on the thread that finished the work. When a completion
// enqueues the next operation of the same device, that operation runs next on
// the same thread without going through the queue: a dependent chain costs no
// thread hand-off.
#if PENG_CPU_EXECUTOR_THREADS
#include <deque>
#include <functional>
#else
#include <oneapi/tbb/global_control.h>
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
#include <vector>

#include "base/adaptive_mutex.h"
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

// One operation: a dispatch or a copy. Passed by value, so the hot path
// allocates nothing of its own.
struct Work {
  const peng_hal_dispatch_t* dispatch = nullptr;
  peng_hal_copy_t copy{};
  peng_hal_completion_t completion{};
};

// What a helping thread may take (help()'s `take`); null for pool threads,
// which take anything.
struct Filter {
  int (*take)(void* user, const peng_hal_completion_t* completion);
  void* user;
};
bool Accepts(const Filter* filter, const Work& work) {
  return !filter || filter->take(filter->user, &work.completion) != 0;
}

// Operations waiting to start, oldest first, each with the time before which
// pool threads leave it to a helper (0: none; kUnseen: not started yet). A
// ring that only grows: the steady state allocates nothing.
class WorkQueue {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  const Work& at(size_t i) const { return items_[index(i)].work; }
  uint64_t not_before(size_t i) const { return items_[index(i)].not_before; }
  void set_not_before(size_t i, uint64_t t) { items_[index(i)].not_before = t; }
  void push_back(const Work& work, uint64_t not_before) {
    if (size_ == items_.size()) Grow();
    items_[index(size_)] = Item{work, not_before};
    ++size_;
  }
  // Removes the i-th oldest; the older ones move up one place.
  Work take(size_t i) {
    Work work = at(i);
    for (size_t k = i; k > 0; --k) items_[index(k)] = items_[index(k - 1)];
    head_ = (head_ + 1) & (items_.size() - 1);
    --size_;
    return work;
  }

 private:
  struct Item {
    Work work;
    uint64_t not_before;
  };
  size_t index(size_t i) const { return (head_ + i) & (items_.size() - 1); }
  void Grow() {
    std::vector<Item> bigger(std::max<size_t>(16, 2 * items_.size()));  // a power of two
    for (size_t i = 0; i < size_; ++i) bigger[i] = items_[index(i)];
    items_.swap(bigger);
    head_ = 0;
  }
  std::vector<Item> items_;
  size_t head_ = 0;
  size_t size_ = 0;
};

// A dispatch of several workgroups, shared by the index holders: each claims
// the next workgroup until none is left. Lives on its opener's stack; the
// opener waits for the joiners to leave before it completes the dispatch.
struct Group {
  const Work* work = nullptr;
  uint64_t total = 0;
  std::atomic<uint64_t> next{0};
  std::atomic<int> failed{0};
  std::atomic<int> no_memory{0};
  std::atomic<uint32_t> joiners{0};  // threads in it besides the opener; raised under the device lock
  Group* next_open = nullptr;
  uint64_t unclaimed() const {
    uint64_t n = next.load(std::memory_order_relaxed);
    return n < total ? total - n : 0;
  }
};

// The threads a device's tickets run on. Normally a oneTBB arena.
// ThreadSanitizer cannot see the synchronisation inside Debian's uninstrumented
// libtbb and reports every hand-off to a worker as a race, so the tsan preset
// builds this backend with PENG_CPU_EXECUTOR_THREADS: a plain std::thread pool,
// which TSan sees through. Every other build runs on oneTBB.
#if PENG_CPU_EXECUTOR_THREADS
class Pool {
 public:
  explicit Pool(int threads) {
    for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { Loop(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }
  void Post(std::function<void()> f) {
    // Notified under the lock: once a worker has run f, the work it finishes
    // may let another thread destroy this pool, and this thread must be out
    // of cv_ by then.
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(f));
    cv_.notify_one();
  }

 private:
  void Loop() {
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

class Pool {
 public:
  // No slot reserved for application threads: only TBB workers serve it.
  explicit Pool(int threads) : arena_(threads, 0) {}
  template <typename F>
  void Post(F&& f) {
    arena_.enqueue(std::forward<F>(f));
  }

 private:
  tbb::task_arena arena_;
};
#endif

using peng::rt::AdaptiveMutex;
using peng::rt::CpuRelax;
using DeviceLock = std::unique_lock<AdaptiveMutex>;

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
  std::unique_ptr<Pool> pool;
  std::atomic<uint64_t> allocated{0};

  AdaptiveMutex mutex;  // guards the fields up to `has_work`
  WorkQueue waiting;
  Group* open = nullptr;               // groups with workgroups left to claim
  std::vector<uint32_t> free_indices;  // thread indices no thread holds
  uint32_t tickets = 0;                // posted to the pool, not started yet
  uint32_t lingering = 0;              // pool threads waiting a moment for work (AwaitWork)
  std::condition_variable_any group_left;  // a group's last joiner left
  // Whether anything waits or is open, for help() to skip the lock when not.
  std::atomic<bool> has_work{false};
  // Whether a pool thread may take something now: a group is open or an
  // operation waits that is not left to a helper. Work left to a helper does
  // not show here: in the steady state of a helped graph nothing writes this,
  // and lingering pool threads read it without taking the cache line from
  // the thread that works (they look for aged work under the lock, rarely).
  // On its own cache line for the same reason.
  alignas(64) std::atomic<bool> pool_work{false};
  char pool_work_pad[64 - sizeof(std::atomic<bool>)];

  // Operations enqueued and not yet completed, plus tickets posted and not
  // finished; guarded by `mutex`, which every change happens under anyway.
  // wait_idle polls it: a thread that drops it to zero must be free to stop
  // touching the device once it unlocks, so there is no condition variable
  // to notify afterwards.
  int64_t outstanding = 0;
};

// The device whose work this thread runs, what it may take (helpers), and
// the next operation it should run inline (see the header comment).
thread_local CpuDevice* t_device = nullptr;
thread_local const Filter* t_filter = nullptr;
thread_local bool t_has_next = false;
thread_local Work t_next;
thread_local bool t_pool_thread = false;  // runs the device pools' tickets

void SleepUntil(uint64_t deadline_ns) {
  uint64_t now = NowNs();
  if (deadline_ns > now) std::this_thread::sleep_for(std::chrono::nanoseconds(deadline_ns - now));
}

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

// ------------------------------------------------------------------ the queue

// How long a pool thread leaves work to a thread that helps (or may be about
// to: the submitting thread usually waits next). A helper takes it within a
// microsecond or so; a pool thread taking it instead shares every cache line
// of a small graph between two cores, which costs more than it saves, and
// waking one costs more than the whole run. Work still waiting after this is
// more than the helper gets to, and pool threads take it.
constexpr uint64_t kLeaveToHelperNs = 5 * 1000;
// not_before of work left to a helper that no pool thread has seen yet: the
// first pool thread to see it starts its kLeaveToHelperNs. Reading the clock
// at every enqueue instead would cost the helper more than the wait is worth.
constexpr uint64_t kUnseen = 1;

// Whether something waits that a pool thread may take without waiting: an
// open group or an operation not left to a helper.
bool PoolWorkLocked(CpuDevice* dev) {
  if (dev->open) return true;
  for (size_t i = 0; i < dev->waiting.size(); ++i) {
    if (!dev->waiting.not_before(i)) return true;
  }
  return false;
}

// Updates the hints after the queue or the open groups changed; writes only
// what changed (each write takes a cache line from the threads reading it).
void NoteWorkLocked(CpuDevice* dev) {
  bool work = !dev->waiting.empty() || dev->open;
  if (dev->has_work.load(std::memory_order_relaxed) != work) {
    dev->has_work.store(work, std::memory_order_relaxed);
  }
  bool pool = work && PoolWorkLocked(dev);
  if (dev->pool_work.load(std::memory_order_relaxed) != pool) {
    dev->pool_work.store(pool, std::memory_order_relaxed);
  }
}

// The first group `filter` accepts with workgroups left to claim.
Group* JoinableLocked(CpuDevice* dev, const Filter* filter) {
  for (Group* g = dev->open; g; g = g->next_open) {
    if (g->unclaimed() && Accepts(filter, *g->work)) return g;
  }
  return nullptr;
}

// The oldest waiting operation this thread may take: what `filter` accepts,
// or, for a pool thread (no filter), what is no longer left to a helper.
bool FindWaitingLocked(CpuDevice* dev, const Filter* filter, size_t* out) {
  uint64_t now = 0;
  for (size_t i = 0; i < dev->waiting.size(); ++i) {
    if (filter) {
      if (!Accepts(filter, dev->waiting.at(i))) continue;
    } else if (uint64_t not_before = dev->waiting.not_before(i)) {
      if (!now) now = NowNs();
      if (not_before == kUnseen) dev->waiting.set_not_before(i, now + kLeaveToHelperNs);
      if (not_before == kUnseen || now < not_before) continue;
    }
    *out = i;
    return true;
  }
  return false;
}

// When the helper on this thread began its current stretch of work (0: not
// helping). A helper that has worked longer than kLeaveToHelperNs is in a
// large graph and brings pool threads in like anyone else.
thread_local uint64_t t_helping_since = 0;

// Whether to post a ticket: work waits, an index is free and no ticket or
// lingering thread is on its way. One at a time: the thread a ticket brings
// posts the next one if work still waits, so a submitting thread pays for one
// wake-up, not one per free index, and a helper that takes the index does not
// leave a second thread woken for nothing. A helper in a small graph posts
// none: it runs the work itself. Counts the ticket as posted; post it after
// unlocking.
uint32_t TicketsToPostLocked(CpuDevice* dev) {
  if (dev->tickets || dev->lingering || dev->free_indices.empty()) return 0;
  bool work = !dev->waiting.empty();
  for (Group* g = dev->open; g && !work; g = g->next_open) work = g->unclaimed() > 0;
  if (!work) return 0;
  if (t_helping_since && !dev->open) {
    uint64_t now = NowNs();
    if (now - t_helping_since < kLeaveToHelperNs) {
      bool old = false;  // work a pool thread may take now: the helper left it
      for (size_t i = 0; i < dev->waiting.size() && !old; ++i) {
        uint64_t not_before = dev->waiting.not_before(i);
        old = not_before == 0 || (not_before != kUnseen && now >= not_before);
      }
      if (!old) return 0;
    }
  }
  dev->tickets = 1;
  ++dev->outstanding;
  return 1;
}

void RunTicket(CpuDevice* dev);
void PostTickets(CpuDevice* dev, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i) dev->pool->Post([dev] { RunTicket(dev); });
}

// `fresh`: a new operation, not yet counted in `outstanding`.
void Enqueue(CpuDevice* dev, const Work& work, bool fresh) {
  // Work from a thread that is not a pool thread is left to a helper a
  // moment, unless it is work that thread's own help does not take.
  uint64_t not_before = 0;
  if (!t_pool_thread && (!t_filter || Accepts(t_filter, work))) not_before = kUnseen;
  uint32_t tickets;
  {
    std::lock_guard<AdaptiveMutex> lock(dev->mutex);
    dev->waiting.push_back(work, not_before);
    if (fresh) ++dev->outstanding;
    NoteWorkLocked(dev);
    tickets = TicketsToPostLocked(dev);
  }
  PostTickets(dev, tickets);
}

// ------------------------------------------------------------------ running

void RunWorkgroup(const peng_dispatch_state_t& state, peng_kernel_fn_t fn, uint64_t flat,
                  uint32_t index, std::atomic<int>* failed, std::atomic<int>* no_memory) {
  uint64_t nx = state.workgroup_count[0], ny = state.workgroup_count[1];
  peng_workgroup_state_t wg{};
  if (flat) {  // divisions cost more than a small kernel: not for a grid of one
    wg.workgroup_id[0] = uint32_t(flat % nx);
    wg.workgroup_id[1] = uint32_t((flat / nx) % ny);
    wg.workgroup_id[2] = uint32_t(flat / (nx * ny));
  }
  wg.thread_index = index;
  if (state.workspace_size && !(wg.workspace = t_scratch.Get(state.workspace_size))) {
    no_memory->store(1, std::memory_order_relaxed);
    return;
  }
  if (fn(&state, &wg) != 0) failed->store(1, std::memory_order_relaxed);
}

// Claims and runs the group's workgroups until none is left.
void RunShare(Group* g, uint32_t index) {
  const peng_dispatch_state_t& state = g->work->dispatch->state;
  const peng_hal_dispatch_t* d = g->work->dispatch;
  peng_kernel_fn_t fn = reinterpret_cast<const CpuExecutable*>(d->executable)->fns[d->entry];
  for (uint64_t i; (i = g->next.fetch_add(1, std::memory_order_relaxed)) < g->total;) {
    RunWorkgroup(state, fn, i, index, &g->failed, &g->no_memory);
  }
}

// Runs a dispatch of several workgroups with whichever index holders join.
void RunGroup(CpuDevice* dev, const Work& work, uint64_t total, uint32_t index,
              std::atomic<int>* failed, std::atomic<int>* no_memory) {
  Group g;
  g.work = &work;
  g.total = total;
  uint32_t tickets;
  {
    std::lock_guard<AdaptiveMutex> lock(dev->mutex);
    g.next_open = dev->open;
    dev->open = &g;
    NoteWorkLocked(dev);
    tickets = TicketsToPostLocked(dev);
  }
  PostTickets(dev, tickets);
  RunShare(&g, index);
  DeviceLock lock(dev->mutex);
  for (Group** p = &dev->open; *p; p = &(*p)->next_open) {
    if (*p == &g) {
      *p = g.next_open;
      break;
    }
  }
  NoteWorkLocked(dev);
  // The joiners are finishing their last workgroups, usually within
  // microseconds of this thread: spin that long before sleeping.
  if (g.joiners.load(std::memory_order_acquire)) {
    lock.unlock();
    for (uint64_t until = NowNs() + 20 * 1000;
         g.joiners.load(std::memory_order_acquire) && NowNs() < until;) {
      CpuRelax();
    }
    lock.lock();
  }
  dev->group_left.wait(lock, [&] { return g.joiners.load(std::memory_order_acquire) == 0; });
  if (g.failed.load(std::memory_order_relaxed)) failed->store(1, std::memory_order_relaxed);
  if (g.no_memory.load(std::memory_order_relaxed)) no_memory->store(1, std::memory_order_relaxed);
}

peng_status_t RunDispatch(CpuDevice* dev, const Work& work, uint32_t index) {
  const peng_hal_dispatch_t* d = work.dispatch;
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
  uint64_t total = uint64_t(state.workgroup_count[0]) * state.workgroup_count[1] *
                   state.workgroup_count[2];
  std::atomic<int> failed{0};
  std::atomic<int> no_memory{0};
  if (total == 1) {
    RunWorkgroup(state, fn, 0, index, &failed, &no_memory);
  } else if (total > 1) {
    RunGroup(dev, work, total, index, &failed, &no_memory);
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
                          ("no memory for a workspace of " + std::to_string(state.workspace_size) +
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
                           std::to_string(state.workspace_size) + " bytes)")
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

// Runs one operation and the chain its completions enqueue inline (what
// `filter` accepts of it; the rest goes back to the queue). Returns how many
// ran; the caller takes the last one off `outstanding` (*finished, 0 or 1).
// The thread running this holds a ticket (counted in `outstanding`) or was
// sent by the owner of the device, so the device outlives it.
uint32_t RunWork(CpuDevice* dev, Work work, uint32_t index, const Filter* filter,
                 int* finished) {
  CpuDevice* saved_device = t_device;
  const Filter* saved_filter = t_filter;
  bool saved_has_next = t_has_next;
  Work saved_next = t_next;
  t_device = dev;
  t_filter = filter;
  uint32_t ran = 0;
  while (true) {
    t_has_next = false;
    peng_status_t st = work.dispatch ? RunDispatch(dev, work, index) : RunCopy(dev, work.copy);
    work.completion.fn(work.completion.user_data, st);
    ++ran;
    if (!t_has_next) {
      *finished = 1;
      break;
    }
    // The next operation takes over this one's count in `outstanding`.
    work = t_next;
    if (!Accepts(filter, work)) {
      Enqueue(dev, work, /*fresh=*/false);
      *finished = 0;
      break;
    }
  }
  t_device = saved_device;
  t_filter = saved_filter;
  t_has_next = saved_has_next;
  t_next = saved_next;
  return ran;
}


// A pool thread with nothing it may take waits a moment before it leaves:
// more usually follows within microseconds (a graph's next layer, the next
// run of the same graph, work a helper did not get to), and taking it here
// beats a new ticket and a wake-up. It stays while work is there that it may
// take soon, and up to kLingerNs after the last it saw. Returns whether there
// is work it may take now. Entered and left with `lock` held.
bool AwaitWork(CpuDevice* dev, DeviceLock& lock) {
  constexpr uint64_t kLingerNs = 20 * 1000;
  // How often it looks at pool_work (about once a microsecond), and how often
  // under the lock for work a helper has left too long.
  constexpr int kPausesPerLook = 50;
  constexpr uint64_t kLockedLookNs = 2 * kLeaveToHelperNs;
  ++dev->lingering;
  uint64_t now = NowNs();
  uint64_t deadline = now + kLingerNs;
  bool work;
  while (true) {
    size_t i;
    if ((work = JoinableLocked(dev, nullptr) || FindWaitingLocked(dev, nullptr, &i))) break;
    if (!dev->waiting.empty()) deadline = std::max(deadline, now + kLingerNs);  // work is around
    if (now >= deadline) break;
    lock.unlock();
    uint64_t locked_look = now + kLockedLookNs;
    while (!dev->pool_work.load(std::memory_order_relaxed) && now < locked_look && now < deadline) {
      for (int k = 0; k < kPausesPerLook; ++k) CpuRelax();
      now = NowNs();
    }
    lock.lock();
  }
  --dev->lingering;
  return work;
}

// Runs waiting work this thread may take, and joins open groups, while
// holding thread index `index`, until none is left; then gives the index
// back. A helper takes what `filter` accepts; a pool thread (no filter) what
// is not left to a helper, and waits for more without its index (AwaitWork).
// Entered with `lock` held, returns with it released.
uint32_t Serve(CpuDevice* dev, uint32_t index, const Filter* filter, DeviceLock& lock) {
  uint64_t saved_since = t_helping_since;
  if (filter) t_helping_since = NowNs();
  uint32_t ran = 0;
  while (true) {
    if (Group* g = JoinableLocked(dev, filter)) {
      g->joiners.fetch_add(1, std::memory_order_relaxed);
      uint32_t tickets = TicketsToPostLocked(dev);
      lock.unlock();
      PostTickets(dev, tickets);
      RunShare(g, index);
      lock.lock();
      if (g->joiners.fetch_sub(1, std::memory_order_release) == 1) dev->group_left.notify_all();
      continue;
    }
    size_t i;
    if (FindWaitingLocked(dev, filter, &i)) {
      Work work = dev->waiting.take(i);
      NoteWorkLocked(dev);
      uint32_t tickets = TicketsToPostLocked(dev);  // more work: bring the next thread
      lock.unlock();
      PostTickets(dev, tickets);
      int finished = 0;
      ran += RunWork(dev, work, index, filter, &finished);
      lock.lock();
      dev->outstanding -= finished;
      continue;
    }
    if (filter) break;
    dev->free_indices.push_back(index);  // a helper may want it meanwhile
    index = UINT32_MAX;
    if (!AwaitWork(dev, lock) || dev->free_indices.empty()) break;
    index = dev->free_indices.back();
    dev->free_indices.pop_back();
  }
  if (index != UINT32_MAX) dev->free_indices.push_back(index);
  // A helper leaves work it does not take; a thread must come for it.
  uint32_t tickets = TicketsToPostLocked(dev);
  lock.unlock();
  PostTickets(dev, tickets);
  t_helping_since = saved_since;
  return ran;
}

void RunTicket(CpuDevice* dev) {
  bool saved_pool = t_pool_thread;
  t_pool_thread = true;
  DeviceLock lock(dev->mutex);
  --dev->tickets;
  if (!dev->free_indices.empty() && (!dev->waiting.empty() || JoinableLocked(dev, nullptr))) {
    uint32_t index = dev->free_indices.back();
    dev->free_indices.pop_back();
    Serve(dev, index, nullptr, lock);  // returns unlocked, after posting what it had to
    lock.lock();
  }
  t_pool_thread = saved_pool;
  --dev->outstanding;
  lock.unlock();  // the last touch of dev
}

peng_status_t Submit(CpuDevice* dev, const Work& work) {
  if (t_device == dev && !t_has_next) {
    t_next = work;  // counted when the operation running now completes
    t_has_next = true;
    return PENG_OK;
  }
  Enqueue(dev, work, /*fresh=*/true);
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
  auto busy = [dev] {
    std::lock_guard<AdaptiveMutex> lock(dev->mutex);
    return dev->outstanding != 0;
  };
  while (busy()) {
    if (NowNs() >= deadline) return PENG_ERROR_TIMEOUT;
    std::this_thread::sleep_for(std::chrono::nanoseconds(sleep_ns));
    sleep_ns = std::min<uint64_t>(sleep_ns * 2, 1000000);
  }
  return PENG_OK;
}
uint32_t QueueHelp(peng_hal_queue_t* q, int (*take)(void*, const peng_hal_completion_t*),
                   void* user) {
  CpuDevice* dev = reinterpret_cast<CpuQueue*>(q)->device;
  if (!take || !dev->has_work.load(std::memory_order_relaxed)) return 0;
  Filter filter{take, user};
  DeviceLock lock(dev->mutex);
  // With every index held, the device already runs as wide as it may.
  if (dev->free_indices.empty()) return 0;
  size_t i;
  if (!JoinableLocked(dev, &filter) && !FindWaitingLocked(dev, &filter, &i)) return 0;
  uint32_t index = dev->free_indices.back();
  dev->free_indices.pop_back();
  return Serve(dev, index, &filter, lock);
}
const peng_hal_queue_vtable_t kQueueVtable = {
    /*.destroy = */ QueueDestroy,
    /*.enqueue_copy = */ QueueEnqueueCopy,
    /*.enqueue_dispatch = */ QueueEnqueueDispatch,
    /*.wait_idle = */ QueueWaitIdle,
    /*.help = */ QueueHelp,
};

void DeviceDestroy(peng_hal_device_t* d) {
  auto* dev = reinterpret_cast<CpuDevice*>(d);
  // Tickets that found nothing to do may still be on their way out.
  while (true) {
    {
      std::lock_guard<AdaptiveMutex> lock(dev->mutex);
      if (dev->outstanding == 0) break;
    }
    std::this_thread::yield();
  }
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
  __builtin_cpu_init();
  // __builtin_cpu_supports takes literals only: one test per listed name.
#define PENG_CPU_HAS(name) \
  if (f == name) return __builtin_cpu_supports(name);
  PENG_X86_FEATURES(PENG_CPU_HAS)
#undef PENG_CPU_HAS
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

// The ISA features module.peng's host code may ask for that this CPU has
// (what the loader checks), and the device's threads.
peng_status_t DeviceDescribe(peng_hal_device_t* d, char* out, size_t size, size_t* out_length) {
  auto* dev = reinterpret_cast<CpuDevice*>(d);
  std::string features, disabled;
#if defined(__x86_64__)
  for (const char* f : peng::cpu_isa::kX86Features) {
    if (CpuHasFeature(f)) features += (features.empty() ? "" : ",") + std::string(f);
    if (IsaDisabled(f)) disabled += (disabled.empty() ? "" : ",") + std::string(f);
  }
#elif defined(__riscv)
  if (CpuHasFeature("v")) features = "v";
#endif
  std::string text = "Threads: " + std::to_string(dev->threads) + "\nISA features: " +
                     (features.empty() ? std::string("(none checked)") : features) + "\n";
  if (!disabled.empty()) text += "ISA features disabled: " + disabled + " (PENG_CPU_ISA_DISABLE)\n";
  return peng_hal_write_text(text.data(), text.size(), out, size, out_length);
}

bool HasTarget(const CpuDevice* dev, const char* target) {
  return peng_hal_list_contains(dev->targets.c_str(), target) != 0;
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
    /*.describe = */ DeviceDescribe,
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
  dev->pool = std::make_unique<Pool>(int(dev->threads));
  for (uint32_t i = dev->threads; i-- > 0;) dev->free_indices.push_back(i);
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
