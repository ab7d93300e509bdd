// The emu HAL backend: each device is a device server under qemu-riscv64
// (emu_channel.h), with device memory of its own in the shared region.
//
// Devices come only from platform profiles (backend = "emu"); keys:
//   kind = "npu" | "dpu", memory_mb (default 64), vlen (default 256), harts
//   (default 1), qemu (default: PENG_QEMU, else qemu-riscv64 in PATH), server
//   (default: PENG_EMU_SERVER, else the one this build made).
//
// Buffers are ranges of device memory, handed out by a first-fit allocator on
// the host. Host<->device copies are memcpy into or out of the region followed
// by a NOP through the ring, so that every operation completes from the
// device's completion thread and fails with PENG_ERROR_DEVICE_LOST once the
// server is gone; device<->device copies are COPY commands.
//
// A server that cannot start leaves a device that is lost from the start and
// says why (describe, and every failing call), so the runtime still starts.
//
// Not yet: loading and dispatching RVV kernels (the next slice).
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

// An operation the host has accepted and not yet completed.
struct Pending {
  peng_emu_command_t command;
  peng_hal_completion_t completion;
  EmuQueue* queue;
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

struct EmuDevice {
  peng_hal_device_t base;  // first: the runtime sees the vtable through it
  std::string name;
  peng_device_kind_t kind = PENG_DEVICE_NPU;
  uint32_t memory_space = 0;
  peng_status_t (*set_error)(peng_status_t code, const char* message) = nullptr;
  EmuServerConfig config;

  std::unique_ptr<EmuChannel> channel;  // null when the server could not start
  std::unique_ptr<Allocator> allocator;

  std::mutex mutex;  // guards everything below
  std::condition_variable idle;
  std::condition_variable lost_work;  // wakes the completer of a lost device
  std::unordered_map<uint64_t, Pending> in_ring;  // by command id
  std::deque<Pending> backlog;                    // waiting for room in the ring
  uint64_t next_id = 1;
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
  void Submit(EmuQueue* queue, const peng_emu_command_t& command,
              peng_hal_completion_t completion);
  void SubmitBacklogLocked();
  void CompleteLoop();
  void WatchLoop();
};

struct EmuQueue {
  peng_hal_queue_t base;
  EmuDevice* device;
  uint64_t pending = 0;  // under device->mutex
};

struct EmuBuffer {
  peng_hal_buffer_t base;
  EmuDevice* device;
  uint64_t offset;
  uint64_t size;
};

void EmuDevice::Submit(EmuQueue* queue, const peng_emu_command_t& command,
                       peng_hal_completion_t completion) {
  std::lock_guard<std::mutex> lock(mutex);
  ++queue->pending;
  backlog.push_back({command, completion, queue});
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
      while (channel->PopCompletion(&c)) {
        auto it = in_ring.find(c.id);
        if (it == in_ring.end()) continue;  // SHUTDOWN's, or a server bug: nothing waits on it
        done.push_back({it->second, peng_status_t(c.status)});
        in_ring.erase(it);
      }
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
        Error(status, "the device server rejected a command (op " +
                          std::to_string(p.command.op) + ")");
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

void EmuDevice::WatchLoop() {
  struct pollfd fds[2] = {{channel->pidfd(), POLLIN, 0}, {stop_fd, POLLIN, 0}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) continue;  // EINTR
    if (fds[1].revents) return;
    if (fds[0].revents && channel->Exited()) break;
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    lost_reason = "its server (" + channel->qemu_path() + ", pid " + std::to_string(channel->pid()) + ") " +
                  channel->exit_reason();
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
  if (!d->channel) return d->Error(PENG_ERROR_DEVICE_LOST, d->LostMessage());
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
  peng_emu_command_t c{};
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
  }
  d->Submit(q, c, completion);
  return PENG_OK;
}

peng_status_t QueueEnqueueDispatch(peng_hal_queue_t* queue, const peng_hal_dispatch_t*,
                                   peng_hal_completion_t) {
  auto* q = reinterpret_cast<EmuQueue*>(queue);
  return q->device->Error(PENG_ERROR_UNSUPPORTED,
                          "the emu backend does not run kernels yet (RVV dispatch is the next "
                          "slice of issue 16)");
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
  if (d->channel) {
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
  }
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
  out->memory_bytes = d->channel ? d->channel->memory_size() : 0;
  out->compute_units = d->config.harts;
  out->vector_bits = d->config.vlen;
  out->max_workgroups = UINT32_MAX;
  return PENG_OK;
}

peng_status_t DeviceSupports(peng_hal_device_t* device, const peng_hal_executable_spec_t*,
                             int* out) {
  auto* d = reinterpret_cast<EmuDevice*>(device);
  *out = 0;
  d->Error(PENG_ERROR_UNSUPPORTED,
           "the emu backend does not run kernels yet (RVV dispatch is the next slice)");
  return PENG_OK;
}

peng_status_t DeviceAllocate(peng_hal_device_t* device, uint64_t size, peng_hal_buffer_t** out) {
  auto* d = reinterpret_cast<EmuDevice*>(device);
  if (!d->channel || d->lost.load(std::memory_order_acquire)) {
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

peng_status_t DeviceLoadExecutable(peng_hal_device_t* device, const peng_hal_executable_spec_t*,
                                   peng_hal_executable_t**) {
  return reinterpret_cast<EmuDevice*>(device)->Error(
      PENG_ERROR_UNSUPPORTED, "the emu backend does not load kernels yet (next slice)");
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
  if (!d->channel || d->lost.load(std::memory_order_acquire)) {
    return d->Error(PENG_ERROR_DEVICE_LOST, d->LostMessage());
  }
  return PENG_OK;
}

peng_status_t DeviceDescribe(peng_hal_device_t* device, char* out, size_t size,
                             size_t* out_length) {
  auto* d = reinterpret_cast<EmuDevice*>(device);
  std::string text;
  text += "VLEN: " + std::to_string(d->config.vlen) + " bits";
  if (d->channel) text += " (the guest reads vlenb = " + std::to_string(d->channel->header().vlenb) + ")";
  text += "\nHarts: " + std::to_string(d->config.harts);
  text += "\nMemory: " + std::to_string(d->config.memory_bytes >> 20) + " MiB";
  if (d->channel) {
    text += " (" + std::to_string(d->allocator->used()) + " bytes allocated)";
  }
  text += "\nQEMU: " + (d->channel ? d->channel->qemu_path() : d->config.qemu);
  text += "\nServer: " + d->config.server;
  if (d->channel) text += "\nServer pid: " + std::to_string(d->channel->pid());
  if (d->channel) {
    text += "\nCommands done: " + std::to_string(__atomic_load_n(
                                      &d->channel->header().commands_done, __ATOMIC_RELAXED));
  }
  if (!d->channel || d->lost.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(d->mutex);
    text += "\nError: " + d->lost_reason;
  }
  text += "\nKernels: not yet (RVV dispatch is the next slice)\n";
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
  if (!ParseSetting(p, "vlen", 128, 1024, &c.vlen, &error) ||
      !ParseSetting(p, "harts", 1, 256, &c.harts, &error)) {
    return d->Error(PENG_ERROR_INVALID_ARGUMENT, error);
  }
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
    // Lost from the start: the runtime and the other devices go on.
    d->lost_reason = "the device server could not start: " + error;
    d->lost.store(true);
    *out = &d.release()->base;
    return PENG_OK;
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
