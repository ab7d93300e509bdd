// The emu HAL backend: each device is a device server under qemu-riscv64
// (emu_channel.h), with device memory of its own in the shared region.
//
// Devices come only from platform profiles (backend = "emu"); keys:
//   kind = "npu" | "dpu", memory_mb (default 64), vlen (default 256), harts
//   (default 1), qemu (default: PENG_QEMU, else qemu-riscv64 in PATH), server
//   (default: PENG_EMU_SERVER, else the one this build made), watchdog_ms
//   (default 30000; 0: none), qemu_args (more QEMU options, space-separated:
//   a TCG plugin, -d logging), the profile's [device.link] (the link model),
//   and the test hook test_hang_dispatch = N (the server's N-th dispatch hangs).
//
// Buffers are ranges of device memory, handed out by a first-fit allocator on
// the host. Host<->device copies are memcpy into or out of the region followed
// by a NOP through the ring, so that every operation completes from the
// device's completion thread and fails with PENG_ERROR_DEVICE_LOST once the
// server is gone; device<->device copies are COPY commands.
//
// A server that cannot start makes create_device fail with DEVICE_LOST and
// the reason: the runtime lists the device as absent and starts without it.
//
// Kernels: the rvv executables of module.peng (ELF for riscv64, the kernel
// ABI of peng.h), VLEN-agnostic or specialised for a range that holds the
// device's VLEN. LOAD copies the image into device memory for the server to
// map; DISPATCH passes the dispatch state through the command's argument
// slot, with device memory offsets for the bindings.
//
// Watchdog: a command that stays at the front of the ring (the one the
// server is running) longer than watchdog_ms is taken for a hung device: the
// server is killed and the device lost, like a crash.
//
// Link model: with link_gbps set, a host<->device copy completes no earlier
// than latency + size / bandwidth after the link is free, one copy at a time.
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "emu_channel.h"
#include "peng/hal.h"

namespace peng::emu {
namespace {

constexpr uint64_t kBufferAlign = 256;  // cache lines and any RVV load

struct EmuQueue;

uint64_t NowNs() {
  return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::steady_clock::now().time_since_epoch())
                      .count());
}

// An operation the host has accepted and not yet completed.
struct Pending {
  peng_emu_command_t command;
  peng_hal_completion_t completion;
  EmuQueue* queue;
  const peng_hal_dispatch_t* dispatch = nullptr;  // DISPATCH: its arguments, valid until done
  uint64_t* timestamps = nullptr;                 // [start, end], or null
  uint64_t submit_ns = 0;
  uint64_t link_ns = 0;        // the link model's time for this transfer
  uint64_t not_before_ns = 0;  // its end on the link (Submit places it)
};

// First fit over [0, size), free blocks coalesced: simple, and good enough
// for the few large buffers a graph keeps on an accelerator.
class Allocator {
 public:
  explicit Allocator(uint64_t size) : size_(size) {
    if (size) free_[0] = size;
  }
  bool Allocate(uint64_t size, uint64_t* out_offset) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (size > size_) return false;  // also keeps the rounding below from overflowing
    uint64_t need = peng_emu_align_up(std::max<uint64_t>(size, 1), kBufferAlign);
    for (auto it = free_.begin(); it != free_.end(); ++it) {
      if (it->second < need) continue;
      *out_offset = it->first;
      uint64_t rest = it->second - need;
      uint64_t rest_at = it->first + need;
      free_.erase(it);
      if (rest) free_[rest_at] = rest;
      used_ += need;
      return true;
    }
    return false;
  }
  void Free(uint64_t offset, uint64_t size) {
    std::lock_guard<std::mutex> lock(mutex_);
    uint64_t n = peng_emu_align_up(std::max<uint64_t>(size, 1), kBufferAlign);
    used_ -= n;
    auto next = free_.lower_bound(offset);
    if (next != free_.end() && offset + n == next->first) {
      n += next->second;
      next = free_.erase(next);
    }
    if (next != free_.begin()) {
      auto prev = std::prev(next);
      if (prev->first + prev->second == offset) {
        prev->second += n;
        return;
      }
    }
    free_[offset] = n;
  }
  uint64_t largest_free() {
    std::lock_guard<std::mutex> lock(mutex_);
    uint64_t best = 0;
    for (auto& [offset, size] : free_) best = std::max(best, size);
    return best;
  }
  uint64_t used() {
    std::lock_guard<std::mutex> lock(mutex_);
    return used_;
  }

 private:
  std::mutex mutex_;
  std::map<uint64_t, uint64_t> free_;  // offset -> size
  uint64_t size_;
  uint64_t used_ = 0;
};

struct EmuExecutable;

struct EmuQueue {
  peng_hal_queue_t base;
  struct EmuDevice* device;
  uint64_t pending = 0;  // under device->mutex
};

struct EmuDevice {
  peng_hal_device_t base;  // first: the runtime sees the vtable through it
  std::string name;
  peng_device_kind_t kind = PENG_DEVICE_NPU;
  uint32_t memory_space = 0;
  peng_status_t (*set_error)(peng_status_t code, const char* message) = nullptr;
  EmuServerConfig config;
  std::string targets = "rvv";  // kernel targets it accepts
  uint32_t watchdog_ms = 30000;
  double link_gbps = 0;
  double link_latency_us = 0;

  std::unique_ptr<EmuChannel> channel;  // a device exists only with its server started
  std::unique_ptr<Allocator> allocator;

  std::mutex mutex;  // guards everything below
  std::condition_variable idle;
  std::condition_variable lost_work;  // wakes the completer of a lost device
  std::unordered_map<uint64_t, Pending> in_ring;  // by command id
  std::deque<Pending> backlog;                    // waiting for room in the ring
  uint64_t next_id = 1;
  uint64_t front_since_ns = 0;  // when the command at the ring's front became so
  uint64_t last_done_ns = 0;    // the last completion: the next command's start
  uint64_t link_free_ns = 0;    // link model: when the link takes the next copy
  uint64_t next_executable = 1;
  uint64_t executables = 0;     // loaded now
  uint64_t dispatches = 0;      // completed
  EmuQueue control{};           // LOAD and UNLOAD, on no user queue
  bool stopping = false;
  std::atomic<bool> lost{false};
  std::string lost_reason;  // set once, before `lost`

  std::thread completer;  // pops completions and calls the HAL completions
  std::thread watcher;    // polls the server's pidfd
  int stop_fd = -1;       // an eventfd that ends the watcher

  peng_status_t Error(peng_status_t code, const std::string& message) {
    return set_error(code, (name + ": " + message).c_str());
  }
  std::string LostMessage() {
    return "device lost: " + lost_reason;
  }
  // Queues an operation; the completer completes it (with DEVICE_LOST once lost).
  void Submit(Pending p);
  void SubmitBacklogLocked();
  void CompleteLoop();
  void WatchLoop();
  std::string FailureMessage(const Pending& p, peng_status_t status);
};

struct EmuBuffer {
  peng_hal_buffer_t base;
  EmuDevice* device;
  uint64_t offset;
  uint64_t size;
};

struct EmuExecutable {
  peng_hal_executable_t base;
  EmuDevice* device;
  uint64_t id;                     // the server's name for it
  std::vector<std::string> names;  // by entry, for messages
};

// DISPATCH's argument slot, from the HAL record (checked at enqueue).
void WriteDispatchArgs(const peng_hal_dispatch_t* d, uint8_t* slot) {
  auto* a = reinterpret_cast<peng_emu_dispatch_t*>(slot);
  std::memset(a, 0, sizeof(*a));
  const peng_dispatch_state_t& s = d->state;
  a->abi_version = s.abi_version;
  std::memcpy(a->workgroup_count, s.workgroup_count, sizeof(a->workgroup_count));
  a->binding_count = s.binding_count;
  a->constant_count = s.constant_count;
  a->workspace_size = s.workspace_size;
  for (uint32_t i = 0; i < s.binding_count; ++i) {
    a->binding_offset[i] = reinterpret_cast<const EmuBuffer*>(d->buffers[i])->offset;
    a->binding_size[i] = s.binding_sizes ? s.binding_sizes[i]
                                         : reinterpret_cast<const EmuBuffer*>(d->buffers[i])->size;
    a->rank[i] = s.ranks ? s.ranks[i] : 0;
    for (uint32_t k = 0; k < a->rank[i]; ++k) a->shape[i][k] = s.shapes[i][k];
  }
  for (uint32_t i = 0; i < s.constant_count; ++i) a->constants[i] = s.constants[i];
}

void EmuDevice::Submit(Pending p) {
  std::lock_guard<std::mutex> lock(mutex);
  ++p.queue->pending;
  p.submit_ns = NowNs();
  if (p.link_ns) {
    // The link model: this copy's time on the link starts when the link is free.
    link_free_ns = std::max(p.submit_ns, link_free_ns) + p.link_ns;
    p.not_before_ns = link_free_ns;
  }
  backlog.push_back(p);
  if (lost.load(std::memory_order_acquire)) {
    lost_work.notify_one();  // the completer fails it
    return;
  }
  SubmitBacklogLocked();
}

// At most ring_entries commands in the ring, so the completion ring (as large)
// can never overflow on the server's side.
void EmuDevice::SubmitBacklogLocked() {
  while (!backlog.empty() && in_ring.size() < channel->ring_entries()) {
    Pending p = backlog.front();
    p.command.id = next_id++;
    if (p.dispatch) WriteDispatchArgs(p.dispatch, channel->next_args());
    if (in_ring.empty()) front_since_ns = NowNs();
    if (!channel->TrySubmit(p.command)) break;  // cannot happen: see the bound above
    backlog.pop_front();
    in_ring.emplace(p.command.id, p);
  }
}

void EmuDevice::CompleteLoop() {
  std::vector<std::pair<Pending, peng_status_t>> done;
  for (;;) {
    done.clear();
    bool stop = false;
    {
      std::lock_guard<std::mutex> lock(mutex);
      peng_emu_completion_t c;
      bool popped = false;
      while (channel->PopCompletion(&c)) {
        popped = true;
        auto it = in_ring.find(c.id);
        if (it == in_ring.end()) continue;  // SHUTDOWN's, or a server bug: nothing waits on it
        // The server runs commands in ring order: each started when the one
        // before it completed, or when it was submitted.
        uint64_t now = NowNs();
        Pending& p = it->second;
        if (p.timestamps) {
          p.timestamps[0] = std::max(p.submit_ns, last_done_ns);
          p.timestamps[1] = std::max(now, p.not_before_ns);
        }
        last_done_ns = now;
        if (p.command.op == PENG_EMU_OP_DISPATCH && c.status == PENG_EMU_STATUS_OK) ++dispatches;
        done.push_back({p, peng_status_t(c.status)});
        in_ring.erase(it);
      }
      if (popped) front_since_ns = NowNs();
      if (lost.load(std::memory_order_acquire)) {
        // The server is gone: what it had not completed never will be.
        for (auto& [id, p] : in_ring) done.push_back({p, PENG_ERROR_DEVICE_LOST});
        in_ring.clear();
        for (Pending& p : backlog) done.push_back({p, PENG_ERROR_DEVICE_LOST});
        backlog.clear();
      } else {
        SubmitBacklogLocked();
      }
      stop = stopping && in_ring.empty() && backlog.empty();
    }
    // Completions run unlocked: they may enqueue more work on this device.
    for (auto& [p, status] : done) {
      if (status == PENG_ERROR_DEVICE_LOST) {
        Error(status, LostMessage());
      } else if (status != PENG_OK) {
        Error(status, FailureMessage(p, status));
      } else if (p.not_before_ns) {
        // The link model: the transfer is not over before its modelled end.
        uint64_t now = NowNs();
        if (p.not_before_ns > now) {
          std::this_thread::sleep_for(std::chrono::nanoseconds(p.not_before_ns - now));
        }
      }
      p.completion.fn(p.completion.user_data, status);
    }
    if (!done.empty()) {
      std::lock_guard<std::mutex> lock(mutex);
      for (auto& [p, status] : done) --p.queue->pending;
      idle.notify_all();
      continue;
    }
    if (stop) return;
    if (lost.load(std::memory_order_acquire)) {
      // The ring is dead (and Interrupt() made its wait return at once): sleep
      // until more work arrives to fail, or the device is destroyed.
      std::unique_lock<std::mutex> lock(mutex);
      lost_work.wait(lock, [&] { return stopping || !backlog.empty(); });
      continue;
    }
    channel->WaitForCompletion();
  }
}

std::string EmuDevice::FailureMessage(const Pending& p, peng_status_t status) {
  if (p.command.op != PENG_EMU_OP_DISPATCH) {
    return "the device server rejected a command (op " + std::to_string(p.command.op) +
           ", status " + std::to_string(status) + ")";
  }
  const auto* x = reinterpret_cast<const EmuExecutable*>(p.dispatch->executable);
  std::string kernel = "kernel '" + x->names[p.dispatch->entry] + "'";
  switch (status) {
    case PENG_ERROR_KERNEL_FAILED:
      return kernel + " refused its dispatch state (kernel ABI " +
             std::to_string(p.dispatch->state.abi_version) + ", workspace " +
             std::to_string(p.dispatch->state.workspace_size) + " bytes)";
    case PENG_ERROR_OUT_OF_MEMORY:
      return kernel + ": the server has no memory for a workspace of " +
             std::to_string(p.dispatch->state.workspace_size) + " bytes per hart";
    default:
      return kernel + ": the device server rejected the dispatch (status " +
             std::to_string(status) + ")";
  }
}

void EmuDevice::WatchLoop() {
  struct pollfd fds[2] = {{channel->pidfd(), POLLIN, 0}, {stop_fd, POLLIN, 0}};
  // The watchdog looks a few times per period; without one, only exits wake us.
  int tick_ms = watchdog_ms ? int(std::clamp<uint32_t>(watchdog_ms / 4, 1, 100)) : -1;
  for (;;) {
    int n = poll(fds, 2, tick_ms);
    if (n < 0) continue;  // EINTR
    if (fds[1].revents) return;
    if (fds[0].revents && channel->Exited()) break;
    if (n == 0 && watchdog_ms) {
      std::string hung;
      {
        std::lock_guard<std::mutex> lock(mutex);
        uint64_t now = NowNs();
        if (!in_ring.empty() && now - front_since_ns > uint64_t(watchdog_ms) * 1000000) {
          const Pending* front = nullptr;  // the oldest: the one the server runs
          for (auto& [id, p] : in_ring) {
            if (!front || id < front->command.id) front = &p;
          }
          std::string what = "a command (op " + std::to_string(front->command.op) + ")";
          if (front->dispatch) {
            const auto* x = reinterpret_cast<const EmuExecutable*>(front->dispatch->executable);
            what = "a dispatch of kernel '" + x->names[front->dispatch->entry] + "'";
          }
          lost_reason = "watchdog: " + what + " ran longer than watchdog_ms = " +
                        std::to_string(watchdog_ms) + "; its server (pid " +
                        std::to_string(channel->pid()) + ") was killed";
          hung = lost_reason;
        }
      }
      if (!hung.empty()) {
        channel->Kill();
        break;
      }
    }
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (lost_reason.empty()) {
      lost_reason = "its server (" + channel->qemu_path() + ", pid " +
                    std::to_string(channel->pid()) + ") " + channel->exit_reason();
    }
  }
  lost.store(true, std::memory_order_release);
  channel->Interrupt();
}

// ----------------------------------------------------------------- buffers

void BufferDestroy(peng_hal_buffer_t* buffer) {
  auto* b = reinterpret_cast<EmuBuffer*>(buffer);
  b->device->allocator->Free(b->offset, b->size);
  delete b;
}

const peng_hal_buffer_vtable_t kBufferVtable = {
    /*.destroy = */ BufferDestroy,
    /*.map = */ nullptr,  // device memory: the runtime copies through the queue
};

// ------------------------------------------------------------------- queue

peng_status_t QueueWaitIdle(peng_hal_queue_t* queue, uint64_t timeout_ns);

// The completion thread touches the queue (its pending count) after the
// completions ran: wait for that before the queue goes.
void QueueDestroy(peng_hal_queue_t* queue) {
  QueueWaitIdle(queue, PENG_WAIT_FOREVER);
  delete reinterpret_cast<EmuQueue*>(queue);
}

peng_status_t QueueEnqueueCopy(peng_hal_queue_t* queue, const peng_hal_copy_t* copy,
                               peng_hal_completion_t completion) {
  auto* q = reinterpret_cast<EmuQueue*>(queue);
  EmuDevice* d = q->device;
  if (!copy || !completion.fn) return d->Error(PENG_ERROR_INVALID_ARGUMENT, "copy: no record");
  if (bool(copy->src_buffer) == bool(copy->src_host) ||
      bool(copy->dst_buffer) == bool(copy->dst_host)) {
    return d->Error(PENG_ERROR_INVALID_ARGUMENT,
                    "copy: give exactly one of src_buffer/src_host and of dst_buffer/dst_host");
  }
  auto* src = reinterpret_cast<EmuBuffer*>(copy->src_buffer);
  auto* dst = reinterpret_cast<EmuBuffer*>(copy->dst_buffer);
  auto fits = [&](EmuBuffer* b, uint64_t offset) {
    return !b || (offset <= b->size && copy->size <= b->size - offset);
  };
  if ((src && src->device != d) || (dst && dst->device != d)) {
    return d->Error(PENG_ERROR_INVALID_ARGUMENT, "copy: a buffer of another device");
  }
  if (!fits(src, copy->src_offset) || !fits(dst, copy->dst_offset)) {
    return d->Error(PENG_ERROR_INVALID_ARGUMENT,
                    "copy of " + std::to_string(copy->size) + " bytes runs past a buffer's end");
  }
  Pending p{};
  p.queue = q;
  p.completion = completion;
  p.timestamps = copy->timestamps;
  peng_emu_command_t& c = p.command;
  if (src && dst) {
    c.op = PENG_EMU_OP_COPY;
    c.src = src->offset + copy->src_offset;
    c.dst = dst->offset + copy->dst_offset;
    c.size = copy->size;
  } else {
    // The host side of a transfer is a memcpy on the region; the NOP behind
    // it makes the device's completion thread report it, in ring order.
    uint8_t* memory = d->channel->memory();
    if (dst) {
      std::memcpy(memory + dst->offset + copy->dst_offset,
                  static_cast<const uint8_t*>(copy->src_host) + copy->src_offset, copy->size);
    } else {
      std::memcpy(static_cast<uint8_t*>(copy->dst_host) + copy->dst_offset,
                  memory + src->offset + copy->src_offset, copy->size);
    }
    c.op = PENG_EMU_OP_NOP;
    if (d->link_gbps > 0) {
      p.link_ns = std::max<uint64_t>(
          1, uint64_t((d->link_latency_us + copy->size / (d->link_gbps * 1e3)) * 1e3));
    }
  }
  d->Submit(p);
  return PENG_OK;
}

peng_status_t QueueEnqueueDispatch(peng_hal_queue_t* queue, const peng_hal_dispatch_t* dispatch,
                                   peng_hal_completion_t completion) {
  auto* q = reinterpret_cast<EmuQueue*>(queue);
  EmuDevice* d = q->device;
  if (!dispatch || !completion.fn || !dispatch->executable) {
    return d->Error(PENG_ERROR_INVALID_ARGUMENT, "dispatch: no record or no executable");
  }
  const auto* x = reinterpret_cast<const EmuExecutable*>(dispatch->executable);
  const peng_dispatch_state_t& s = dispatch->state;
  if (x->device != d) return d->Error(PENG_ERROR_INVALID_ARGUMENT, "dispatch: an executable of another device");
  if (dispatch->entry >= x->names.size()) {
    return d->Error(PENG_ERROR_INVALID_ARGUMENT, "dispatch names an entry the executable lacks");
  }
  std::string kernel = "kernel '" + x->names[dispatch->entry] + "'";
  if (s.binding_count > PENG_EMU_MAX_BINDINGS || s.constant_count > PENG_EMU_MAX_CONSTANTS) {
    return d->Error(PENG_ERROR_UNSUPPORTED,
                    kernel + ": " + std::to_string(s.binding_count) + " tensors and " +
                        std::to_string(s.constant_count) + " scalars; an emu device takes at most " +
                        std::to_string(PENG_EMU_MAX_BINDINGS) + " and " +
                        std::to_string(PENG_EMU_MAX_CONSTANTS));
  }
  if ((s.binding_count && (!dispatch->buffers || !s.ranks || !s.shapes)) ||
      (s.constant_count && !s.constants)) {
    return d->Error(PENG_ERROR_INVALID_ARGUMENT, kernel + ": dispatch state without its arrays");
  }
  for (uint32_t i = 0; i < s.binding_count; ++i) {
    auto* b = reinterpret_cast<EmuBuffer*>(dispatch->buffers[i]);
    if (!b || b->device != d) {
      return d->Error(PENG_ERROR_INVALID_ARGUMENT,
                      kernel + ": argument " + std::to_string(i) + " is not a buffer of this device");
    }
    if (s.ranks[i] > PENG_EMU_MAX_RANK || (s.binding_sizes && s.binding_sizes[i] > b->size)) {
      return d->Error(PENG_ERROR_INVALID_ARGUMENT,
                      kernel + ": argument " + std::to_string(i) + " does not fit its buffer");
    }
    // A device address means nothing to the host here: the region's mapping.
    if (dispatch->binding_slots) dispatch->binding_slots[i] = d->channel->memory() + b->offset;
  }
  Pending p{};
  p.queue = q;
  p.completion = completion;
  p.dispatch = dispatch;
  p.timestamps = dispatch->timestamps;
  p.command.op = PENG_EMU_OP_DISPATCH;
  p.command.value = x->id;
  p.command.pattern_size = dispatch->entry;
  d->Submit(p);
  return PENG_OK;
}

peng_status_t QueueWaitIdle(peng_hal_queue_t* queue, uint64_t timeout_ns) {
  auto* q = reinterpret_cast<EmuQueue*>(queue);
  EmuDevice* d = q->device;
  std::unique_lock<std::mutex> lock(d->mutex);
  auto done = [&] { return q->pending == 0; };
  if (timeout_ns == PENG_WAIT_FOREVER) {
    d->idle.wait(lock, done);
    return PENG_OK;
  }
  if (!d->idle.wait_for(lock, std::chrono::nanoseconds(timeout_ns), done)) {
    return PENG_ERROR_TIMEOUT;
  }
  return PENG_OK;
}

const peng_hal_queue_vtable_t kQueueVtable = {
    /*.destroy = */ QueueDestroy,
    /*.enqueue_copy = */ QueueEnqueueCopy,
    /*.enqueue_dispatch = */ QueueEnqueueDispatch,
    /*.wait_idle = */ QueueWaitIdle,
    /*.help = */ nullptr,  // the work runs in the server, not on host threads
    /*.flags = */ 0,
};

// ------------------------------------------------------------------ device

void DeviceDestroy(peng_hal_device_t* device) {
  auto* d = reinterpret_cast<EmuDevice*>(device);
  uint64_t one = 1;
  ssize_t ignored = write(d->stop_fd, &one, sizeof(one));
  (void)ignored;
  d->watcher.join();
  {
    std::lock_guard<std::mutex> lock(d->mutex);
    d->stopping = true;
  }
  d->lost_work.notify_all();
  d->channel->Interrupt();
  d->completer.join();
  d->channel.reset();  // SHUTDOWN, or SIGKILL; reaps the server
  close(d->stop_fd);
  delete d;
}

peng_status_t DeviceQueryInfo(peng_hal_device_t* device, peng_device_info_t* out) {
  auto* d = reinterpret_cast<EmuDevice*>(device);
  std::memset(out, 0, sizeof(*out));
  std::snprintf(out->name, sizeof(out->name), "%s", d->name.c_str());
  std::snprintf(out->backend, sizeof(out->backend), "emu");
  std::snprintf(out->target, sizeof(out->target), "rvv");
  out->kind = d->kind;
  out->memory_space = d->memory_space;
  out->memory_bytes = d->channel->memory_size();
  out->compute_units = d->config.harts;
  out->vector_bits = d->config.vlen;
  out->max_workgroups = UINT32_MAX;
  return PENG_OK;
}

// What `qemu-riscv64 -cpu rv64,v=true` gives the guest (QEMU 7.2 and later):
// code that names another extension is not for this device.
bool GuestHasFeature(const std::string& f, uint32_t vlen) {
  static const char* const kBase[] = {"i", "m", "a", "f", "d", "c", "v", "zicsr", "zifencei",
                                      "zve32x", "zve32f", "zve64x", "zve64f", "zve64d"};
  for (const char* b : kBase) {
    if (f == b) return true;
  }
  // zvl<N>b: a VLEN of at least N.
  if (f.size() > 4 && f.compare(0, 3, "zvl") == 0 && f.back() == 'b') {
    char* end = nullptr;
    unsigned long n = std::strtoul(f.c_str() + 3, &end, 10);
    return end == f.c_str() + f.size() - 1 && n <= vlen;
  }
  return false;
}

// Whether the device runs `x`: rvv ELF code for riscv64 with features QEMU
// gives it and a VLEN range that holds the device's. *why says why not (empty
// when the target is simply not ours).
bool CanRun(const EmuDevice* d, const peng_hal_executable_spec_t* x, std::string* why) {
  if (!x || !x->target || !x->format || !peng_hal_list_contains(d->targets.c_str(), x->target)) return false;
  if (std::strcmp(x->format, "elf") != 0 || !x->code || !x->code_size) {
    *why = std::string("format '") + x->format + "' is not one an emu device runs";
    return false;
  }
  if (!x->arch || std::strcmp(x->arch, "riscv64") != 0) {
    *why = std::string("code for ") + (x->arch ? x->arch : "an unknown machine") +
           ", an emu device runs riscv64";
    return false;
  }
  std::string features = x->features ? x->features : "";
  for (size_t begin = 0; begin < features.size();) {
    size_t end = features.find(',', begin);
    if (end == std::string::npos) end = features.size();
    std::string f = features.substr(begin, end - begin);
    if (!f.empty() && !GuestHasFeature(f, d->config.vlen)) {
      *why = "needs " + f + ", which the emulated hart (rv64gcv, VLEN " +
             std::to_string(d->config.vlen) + ") lacks";
      return false;
    }
    begin = end + 1;
  }
  uint32_t vlen = d->config.vlen;
  if ((x->min_vlen && vlen < x->min_vlen) || (x->max_vlen && vlen > x->max_vlen)) {
    *why = "built for VLEN " + std::to_string(x->min_vlen) + "-" + std::to_string(x->max_vlen) +
           ", this device has " + std::to_string(vlen);
    return false;
  }
  return true;
}

peng_status_t DeviceSupports(peng_hal_device_t* device, const peng_hal_executable_spec_t* x,
                             int* out) {
  auto* d = reinterpret_cast<EmuDevice*>(device);
  std::string why;
  *out = CanRun(d, x, &why) ? 1 : 0;
  if (!*out && !why.empty()) d->Error(PENG_ERROR_UNSUPPORTED, why);
  return PENG_OK;
}

peng_status_t DeviceAllocate(peng_hal_device_t* device, uint64_t size, peng_hal_buffer_t** out) {
  auto* d = reinterpret_cast<EmuDevice*>(device);
  if (d->lost.load(std::memory_order_acquire)) {
    return d->Error(PENG_ERROR_DEVICE_LOST, d->LostMessage());
  }
  uint64_t offset = 0;
  if (!d->allocator->Allocate(size, &offset)) {
    return d->Error(PENG_ERROR_OUT_OF_MEMORY,
                    "out of device memory: " + std::to_string(size) + " bytes asked, the largest "
                    "free block has " + std::to_string(d->allocator->largest_free()) + " of " +
                    std::to_string(d->channel->memory_size()));
  }
  auto* b = new EmuBuffer{};
  b->base.resource.vtable = &kBufferVtable;
  b->device = d;
  b->offset = offset;
  b->size = size;
  *out = &b->base;
  return PENG_OK;
}

void NoCompletion(void*, peng_status_t) {}

void ExecutableDestroy(peng_hal_executable_t* executable) {
  auto* x = reinterpret_cast<EmuExecutable*>(executable);
  EmuDevice* d = x->device;
  if (!d->lost.load(std::memory_order_acquire)) {
    Pending p{};
    p.queue = &d->control;
    p.completion = {NoCompletion, nullptr};
    p.command.op = PENG_EMU_OP_UNLOAD;
    p.command.value = x->id;
    d->Submit(p);
  }
  {
    std::lock_guard<std::mutex> lock(d->mutex);
    --d->executables;
  }
  delete x;
}

const peng_hal_executable_vtable_t kExecutableVtable = {/*.destroy = */ ExecutableDestroy};

// A LOAD's outcome, waited for by the loading thread.
struct LoadWait {
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  peng_status_t status = PENG_OK;
  static void Done(void* user, peng_status_t status) {
    auto* w = static_cast<LoadWait*>(user);
    std::lock_guard<std::mutex> lock(w->mutex);
    w->status = status;
    w->done = true;
    w->done_cv.notify_all();
  }
};

peng_status_t DeviceLoadExecutable(peng_hal_device_t* device, const peng_hal_executable_spec_t* x,
                                   peng_hal_executable_t** out) {
  auto* d = reinterpret_cast<EmuDevice*>(device);
  std::string why;
  if (!CanRun(d, x, &why)) {
    return d->Error(PENG_ERROR_UNSUPPORTED, why.empty() ? "not a target of this device" : why);
  }
  if (d->lost.load(std::memory_order_acquire)) {
    return d->Error(PENG_ERROR_DEVICE_LOST, d->LostMessage());
  }
  auto exe = std::make_unique<EmuExecutable>();
  exe->base.resource.vtable = &kExecutableVtable;
  exe->device = d;
  std::string names;  // the entry symbols, NUL-separated
  for (uint32_t i = 0; i < x->entry_count; ++i) {
    const peng_hal_entry_spec_t& e = x->entries[i];
    exe->names.push_back(e.name ? e.name : "?");
    if (!e.symbol || !*e.symbol) {
      return d->Error(PENG_ERROR_CORRUPT_DATA, "kernel '" + exe->names.back() + "' has no symbol");
    }
    names += e.symbol;
    names += '\0';
  }
  // The image and the names go through device memory, for the LOAD only.
  uint64_t names_at = peng_emu_align_up(x->code_size, 64);
  uint64_t staging_size = names_at + std::max<uint64_t>(names.size(), PENG_EMU_LOAD_ERROR_BYTES);
  uint64_t staging = 0;
  if (!d->allocator->Allocate(staging_size, &staging)) {
    return d->Error(PENG_ERROR_OUT_OF_MEMORY,
                    "out of device memory for a kernel image of " + std::to_string(x->code_size) +
                        " bytes");
  }
  uint8_t* memory = d->channel->memory();
  std::memcpy(memory + staging, x->code, x->code_size);
  std::memcpy(memory + staging + names_at, names.data(), names.size());
  {
    std::lock_guard<std::mutex> lock(d->mutex);
    exe->id = d->next_executable++;
  }
  LoadWait wait;
  Pending p{};
  p.queue = &d->control;
  p.completion = {LoadWait::Done, &wait};
  p.command.op = PENG_EMU_OP_LOAD;
  p.command.value = exe->id;
  p.command.src = staging;
  p.command.size = x->code_size;
  p.command.dst = staging + names_at;
  p.command.pattern_size = x->entry_count;
  d->Submit(p);
  {
    // The completer always completes it: with the server's answer, or with
    // DEVICE_LOST when the server dies (or the watchdog kills it).
    std::unique_lock<std::mutex> lock(wait.mutex);
    wait.done_cv.wait(lock, [&] { return wait.done; });
  }
  std::string server_error;
  if (wait.status == PENG_ERROR_CORRUPT_DATA) {
    const char* text = reinterpret_cast<const char*>(memory + staging + names_at);
    server_error.assign(text, strnlen(text, PENG_EMU_LOAD_ERROR_BYTES - 1));
  }
  d->allocator->Free(staging, staging_size);
  if (wait.status != PENG_OK) {
    if (wait.status == PENG_ERROR_DEVICE_LOST) return d->Error(wait.status, d->LostMessage());
    return d->Error(wait.status, "the device server could not load the kernels: " +
                                     (server_error.empty() ? "status " + std::to_string(wait.status)
                                                           : server_error));
  }
  {
    std::lock_guard<std::mutex> lock(d->mutex);
    ++d->executables;
  }
  *out = &exe.release()->base;
  return PENG_OK;
}

peng_status_t DeviceCreateQueue(peng_hal_device_t* device, peng_hal_queue_t** out) {
  auto* q = new EmuQueue{};
  q->base.resource.vtable = &kQueueVtable;
  q->device = reinterpret_cast<EmuDevice*>(device);
  *out = &q->base;
  return PENG_OK;
}

peng_status_t DeviceCheckHealth(peng_hal_device_t* device) {
  auto* d = reinterpret_cast<EmuDevice*>(device);
  if (d->lost.load(std::memory_order_acquire)) {
    return d->Error(PENG_ERROR_DEVICE_LOST, d->LostMessage());
  }
  return PENG_OK;
}

peng_status_t DeviceDescribe(peng_hal_device_t* device, char* out, size_t size,
                             size_t* out_length) {
  auto* d = reinterpret_cast<EmuDevice*>(device);
  std::string text;
  text += "VLEN: " + std::to_string(d->config.vlen) + " bits";
  text += " (the guest reads vlenb = " + std::to_string(d->channel->header().vlenb) + ")";
  text += "\nHarts: " + std::to_string(d->config.harts);
  text += "\nMemory: " + std::to_string(d->config.memory_bytes >> 20) + " MiB (" +
          std::to_string(d->allocator->used()) + " bytes allocated)";
  text += "\nQEMU: " + d->channel->qemu_path();
  text += "\nServer: " + d->config.server;
  text += "\nServer pid: " + std::to_string(d->channel->pid());
  text += "\nCommands done: " +
          std::to_string(__atomic_load_n(&d->channel->header().commands_done, __ATOMIC_RELAXED));
  if (d->lost.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(d->mutex);
    text += "\nError: " + d->lost_reason;
  }
  {
    std::lock_guard<std::mutex> lock(d->mutex);
    text += "\nKernels: " + d->targets + " code; " + std::to_string(d->executables) +
            " executable(s) loaded, " + std::to_string(d->dispatches) + " dispatch(es) done";
  }
  text += "\nWatchdog: " + (d->watchdog_ms ? std::to_string(d->watchdog_ms) + " ms" : "off");
  if (d->link_gbps > 0) {
    char link[96];
    std::snprintf(link, sizeof(link), "%g GB/s, %g us latency", d->link_gbps, d->link_latency_us);
    text += std::string("\nLink model: ") + link;
  }
  text += "\n";
  return peng_hal_write_text(text.data(), text.size(), out, size, out_length);
}

const peng_hal_device_vtable_t kDeviceVtable = {
    /*.destroy = */ DeviceDestroy,
    /*.query_info = */ DeviceQueryInfo,
    /*.supports = */ DeviceSupports,
    /*.allocate = */ DeviceAllocate,
    /*.load_executable = */ DeviceLoadExecutable,
    /*.create_queue = */ DeviceCreateQueue,
    /*.check_health = */ DeviceCheckHealth,
    /*.describe = */ DeviceDescribe,
};

// ----------------------------------------------------------------- factory

peng_status_t Enumerate(uint32_t* out_count) {
  *out_count = 0;  // devices come from platform profiles only
  return PENG_OK;
}

peng_status_t KeepStatus(peng_status_t code, const char*) { return code; }

// A whole number in [low, high] from a setting, or *error.
bool ParseSetting(const peng_hal_device_params_t* p, const char* key, uint32_t low, uint32_t high,
                  uint32_t* value, std::string* error) {
  const char* text = peng_hal_setting(p, key);
  if (!text) return true;
  char* end = nullptr;
  errno = 0;
  unsigned long v = std::strtoul(text, &end, 10);
  if (!*text || *end || errno || v < low || v > high) {
    *error = std::string(key) + " = \"" + text + "\": expected a whole number in [" +
             std::to_string(low) + ", " + std::to_string(high) + "]";
    return false;
  }
  *value = uint32_t(v);
  return true;
}

peng_status_t CreateDevice(uint32_t, const peng_hal_device_params_t* p, peng_hal_device_t** out) {
  if (!p || !out) return PENG_ERROR_INVALID_ARGUMENT;
  auto d = std::make_unique<EmuDevice>();
  d->base.resource.vtable = &kDeviceVtable;
  d->name = p->name ? p->name : "emu";
  d->kind = p->kind;
  d->memory_space = p->memory_space;
  d->set_error = p->set_error ? p->set_error : KeepStatus;
  if (p->memory_space == 0) {
    return d->Error(PENG_ERROR_INVALID_ARGUMENT,
                    "an emu device has memory of its own: give it memory = \"discrete\"");
  }
  EmuServerConfig& c = d->config;
  c.name = d->name;
  c.memory_bytes = p->memory_bytes ? p->memory_bytes : 64ull << 20;
  std::string error;
  uint32_t hang_dispatch = 0;
  if (!ParseSetting(p, "vlen", 128, 1024, &c.vlen, &error) ||
      !ParseSetting(p, "harts", 1, 256, &c.harts, &error) ||
      !ParseSetting(p, "watchdog_ms", 0, 24 * 3600 * 1000, &d->watchdog_ms, &error) ||
      !ParseSetting(p, "test_hang_dispatch", 0, UINT32_MAX, &hang_dispatch, &error)) {
    return d->Error(PENG_ERROR_INVALID_ARGUMENT, error);
  }
  if (hang_dispatch) c.server_args = {"--hang-dispatch", std::to_string(hang_dispatch)};
  if (const char* extra = peng_hal_setting(p, "qemu_args")) {
    std::string text = extra;
    for (size_t begin = 0; begin < text.size();) {
      size_t end = text.find(' ', begin);
      if (end == std::string::npos) end = text.size();
      if (end > begin) c.qemu_args.push_back(text.substr(begin, end - begin));
      begin = end + 1;
    }
  }
  if (p->targets && *p->targets) d->targets = p->targets;
  d->link_gbps = p->link_gbps;
  d->link_latency_us = p->link_latency_us;
  d->control.base.resource.vtable = nullptr;  // internal: never handed out
  d->control.device = d.get();
  if (c.vlen & (c.vlen - 1)) {
    return d->Error(PENG_ERROR_INVALID_ARGUMENT,
                    "vlen = " + std::to_string(c.vlen) + ": QEMU takes powers of two only");
  }
  const char* env_qemu = std::getenv("PENG_QEMU");
  const char* qemu = peng_hal_setting(p, "qemu");
  c.qemu = env_qemu && *env_qemu ? env_qemu : qemu ? qemu : "qemu-riscv64";
  const char* env_server = std::getenv("PENG_EMU_SERVER");
  const char* server = peng_hal_setting(p, "server");
  c.server = env_server && *env_server ? env_server
             : server                  ? server
             : access(PENG_EMU_SERVER_BUILD_PATH, R_OK) == 0 ? PENG_EMU_SERVER_BUILD_PATH
                                                             : PENG_EMU_SERVER_INSTALL_PATH;

  d->channel = EmuChannel::Start(c, &error);
  if (!d->channel) {
    // The device is absent (DEVICE_LOST from create_device): the runtime
    // starts without it, and peng-info says why.
    return d->Error(PENG_ERROR_DEVICE_LOST, "the device server could not start: " + error);
  }
  d->allocator = std::make_unique<Allocator>(d->channel->memory_size());
  d->stop_fd = eventfd(0, EFD_CLOEXEC);
  if (d->stop_fd < 0) return d->Error(PENG_ERROR_INTERNAL, "eventfd failed");
  EmuDevice* raw = d.get();
  raw->completer = std::thread([raw] { raw->CompleteLoop(); });
  raw->watcher = std::thread([raw] { raw->WatchLoop(); });
  *out = &d.release()->base;
  return PENG_OK;
}

const peng_hal_factory_t kFactory = {
    /*.abi_version = */ PENG_HAL_ABI_VERSION,
    /*.name = */ "emu",
    /*.enumerate = */ Enumerate,
    /*.create_device = */ CreateDevice,
};

}  // namespace
}  // namespace peng::emu

extern "C" const peng_hal_factory_t* peng_backend_emu_factory(void) {
  return &peng::emu::kFactory;
}
