#include "memory/buffer.h"

#include <condition_variable>
#include <cstring>

#include "base/clock.h"
#include "hal/device.h"
#include "runtime.h"
#include "sched/perf_model.h"
#include "trace/trace.h"

namespace peng::rt {

Buffer::Buffer(Runtime* runtime, uint64_t size)
    : runtime_ref_(runtime), runtime_(runtime), size_(size), copies_(runtime->space_count()) {}

Buffer::~Buffer() {
  for (Copy& c : copies_) DestroyBuffer(c.hal);
}

Result<Ref<Buffer>> Buffer::Create(Runtime* runtime, uint64_t size) {
  Ref<Buffer> buffer = Ref<Buffer>::Adopt(new Buffer(runtime, size));
  // The host copy exists from the start, zeroed, so every buffer has one valid copy.
  auto host = AllocateHostBuffer(size);
  if (!host.ok()) return host.status();
  buffer->copies_[0].hal = *host;
  buffer->copies_[0].state = State::kValid;
  return buffer;
}

Status Buffer::EnsureAllocated(uint32_t space) {
  Copy& copy = copies_[space];
  if (copy.hal) return OkStatus();
  if (space == 0) {
    auto host = AllocateHostBuffer(size_);
    if (!host.ok()) return host.status();
    copy.hal = *host;
    return OkStatus();
  }
  Device* owner = runtime_->space_owner(space);
  auto hal = owner->Allocate(size_);
  if (!hal.ok()) return hal.status();
  copy.hal = *hal;
  return OkStatus();
}

void Buffer::Acquire(uint32_t space, peng_access_t access, peng_hal_buffer_t** out_hal, Done done) {
  std::unique_lock<std::mutex> lock(mutex_);
  Status st = EnsureAllocated(space);
  if (!st.ok()) {
    lock.unlock();
    Report(st);
    done(st.code());
    return;
  }
  Copy& copy = copies_[space];
  *out_hal = copy.hal;
  if (access == PENG_ACCESS_WRITE || copy.state == State::kValid) {
    lock.unlock();
    done(PENG_OK);
    return;
  }
  copy.waiters.push_back(std::move(done));
  if (copy.state == State::kInvalid) {
    copy.state = State::kFetching;
    StartFetch(space);
  }
}

namespace {

// One copy in flight: where it goes, for the trace and the transfer model.
struct Transfer {
  Buffer* buffer;
  Runtime* runtime;
  uint32_t device;   // whose queue runs it
  uint32_t src_space, dst_space;
  uint64_t bytes;
  uint64_t start_ns;
  double predicted_us;
  std::function<void(peng_status_t)> then;
  uint64_t timestamps[2] = {0, 0};  // filled by backends that measure the copy itself
};

void TransferDone(void* user, peng_status_t status) {
  DeviceCallbackScope scope;
  std::unique_ptr<Transfer> t(static_cast<Transfer*>(user));
  // Queueing behind other work on the device is not link time.
  uint64_t end = t->timestamps[1] ? t->timestamps[1] : NowNs();
  if (t->timestamps[0]) t->start_ns = t->timestamps[0];
  double actual_us = (end - t->start_ns) * 1e-3;
  uint32_t remote = t->src_space != 0 ? t->src_space : t->dst_space;
  if (status == PENG_OK) t->runtime->perf_models().RecordTransfer(remote, t->bytes, actual_us);
  if (Tracer* tracer = t->runtime->tracer()) {
    tracer->RecordTransfer(t->device, t->src_space, t->dst_space, t->bytes, t->start_ns, end,
                           t->predicted_us, status);
  }
  t->then(status);
}

}  // namespace

void Buffer::StartFetch(uint32_t space, bool relock) {
  // Prefer the host copy as source; otherwise bring a device copy to the host
  // first (two hops: backends only copy between their memory and the host).
  uint32_t source = UINT32_MAX;
  if (copies_[0].state == State::kValid) {
    source = 0;
  } else {
    for (uint32_t s = 1; s < copies_.size(); ++s) {
      if (copies_[s].state == State::kValid && !runtime_->space_owner(s)->lost()) {
        source = s;
        break;
      }
    }
  }
  if (source == UINT32_MAX) {
    // Nothing valid anywhere (a writer failed and its space was lost).
    copies_[space].state = State::kInvalid;
    auto waiters = std::move(copies_[space].waiters);
    copies_[space].waiters.clear();
    mutex_.unlock();
    Report(Error(PENG_ERROR_DEVICE_LOST, "buffer has no valid copy left"));
    for (auto& w : waiters) w(PENG_ERROR_DEVICE_LOST);
    if (relock) mutex_.lock();
    return;
  }
  if (source != 0 && space != 0) {
    // Host first, then on to `space`.
    Copy& host = copies_[0];
    Status st = EnsureAllocated(0);
    if (!st.ok()) {
      mutex_.unlock();
      FinishFetch(space, Report(st));
      if (relock) mutex_.lock();
      return;
    }
    host.waiters.push_back([this, space](peng_status_t s) {
      if (s != PENG_OK) {
        FinishFetch(space, s);
        return;
      }
      // On a device thread, holding no reference: the second hop's
      // completion may free the buffer, so do not re-lock after queueing it.
      mutex_.lock();
      StartFetch(space, /*relock=*/false);
    });
    if (host.state == State::kInvalid) {
      host.state = State::kFetching;
      StartFetch(0, relock);
      return;
    }
    if (!relock) mutex_.unlock();
    return;
  }

  uint32_t remote = space != 0 ? space : source;
  Device* device = runtime_->space_owner(remote);
  auto* t = new Transfer{this, runtime_, device->index(), source, space, size_, NowNs(),
                         runtime_->perf_models().PredictTransferUs(remote, size_, device->link()),
                         nullptr};
  peng_hal_copy_t copy{};
  copy.size = size_;
  copy.timestamps = t->timestamps;
  if (source == 0) {
    auto host = MapBuffer(copies_[0].hal);
    copy.src_host = host.ok() ? *host : nullptr;
    copy.dst_buffer = copies_[space].hal;
  } else {
    auto host = MapBuffer(copies_[0].hal);
    copy.dst_host = host.ok() ? *host : nullptr;
    copy.src_buffer = copies_[source].hal;
  }
  // No keep-alive reference: whoever waits for this copy (a task's run, or a
  // host read in progress) holds the buffer until its waiter has run, and a
  // reference dropped here could be the runtime's last, on a device thread.
  t->then = [this, space](peng_status_t s) { FinishFetch(space, s); };
  mutex_.unlock();
  Status st = device->EnqueueCopy(copy, peng_hal_completion_t{&TransferDone, t});
  if (!st.ok()) {
    Report(st);
    delete t;
    FinishFetch(space, st.code());
  }
  if (relock) mutex_.lock();
}

void Buffer::FinishFetch(uint32_t space, peng_status_t status) {
  std::vector<Done> waiters;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Copy& copy = copies_[space];
    copy.state = status == PENG_OK ? State::kValid : State::kInvalid;
    waiters.swap(copy.waiters);
  }
  for (auto& w : waiters) w(status);
}

void Buffer::CommitWrite(uint32_t space) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (uint32_t s = 0; s < copies_.size(); ++s) {
    copies_[s].state = s == space ? State::kValid : State::kInvalid;
  }
}

void Buffer::DropSpace(uint32_t space) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (space < copies_.size()) copies_[space].state = State::kInvalid;
}

uint64_t Buffer::ValidMask() {
  std::lock_guard<std::mutex> lock(mutex_);
  uint64_t mask = 0;
  for (uint32_t s = 0; s < copies_.size() && s < 64; ++s) {
    if (copies_[s].state == State::kValid) mask |= uint64_t(1) << s;
  }
  return mask;
}

void Buffer::SequenceRun(bool writes, const Ref<Event>& run, std::vector<Ref<Event>>* wait_for) {
  std::lock_guard<std::mutex> lock(sequence_mutex_);
  if (last_writer_ && !last_writer_->IsComplete()) wait_for->push_back(last_writer_);
  if (writes) {
    for (auto& r : readers_) {
      if (!r->IsComplete()) wait_for->push_back(r);
    }
    readers_.clear();
    last_writer_ = run;
  } else {
    // Drop finished readers so the list stays short.
    std::erase_if(readers_, [](const Ref<Event>& e) { return e->IsComplete(); });
    readers_.push_back(run);
  }
}

void Buffer::WaitForRuns(bool include_readers) {
  std::vector<Ref<Event>> pending;
  {
    std::lock_guard<std::mutex> lock(sequence_mutex_);
    if (last_writer_) pending.push_back(last_writer_);
    if (include_readers) pending.insert(pending.end(), readers_.begin(), readers_.end());
  }
  for (auto& e : pending) e->Wait(PENG_WAIT_FOREVER);
}

Status Buffer::AcquireSync(uint32_t space, peng_access_t access) {
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  peng_status_t result = PENG_OK;
  peng_hal_buffer_t* hal = nullptr;
  Acquire(space, access, &hal, [&](peng_status_t s) {
    std::lock_guard<std::mutex> lock(m);
    result = s;
    done = true;
    cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(m);
  cv.wait(lock, [&] { return done; });
  if (result != PENG_OK) return Error(result, "moving the buffer to host memory failed");
  return OkStatus();
}

static Status CheckRange(uint64_t offset, uint64_t size, uint64_t total, const void* ptr) {
  if (!ptr && size) return Error(PENG_ERROR_INVALID_ARGUMENT, "host pointer is NULL");
  if (offset > total || size > total - offset) {
    return Error(PENG_ERROR_INVALID_ARGUMENT, "range [", offset, ", ", offset + size,
                 ") is outside the buffer of ", total, " bytes");
  }
  return OkStatus();
}

Status Buffer::Read(uint64_t offset, uint64_t size, void* dst) {
  PENG_RETURN_IF_ERROR(CheckRange(offset, size, size_, dst));
  WaitForRuns(/*include_readers=*/false);
  PENG_RETURN_IF_ERROR(AcquireSync(0, PENG_ACCESS_READ));
  auto host = MapBuffer(copies_[0].hal);
  if (!host.ok()) return host.status();
  if (size) std::memcpy(dst, static_cast<char*>(*host) + offset, size);
  return OkStatus();
}

Status Buffer::Write(uint64_t offset, uint64_t size, const void* src) {
  PENG_RETURN_IF_ERROR(CheckRange(offset, size, size_, src));
  WaitForRuns(/*include_readers=*/true);
  bool whole = offset == 0 && size == size_;
  PENG_RETURN_IF_ERROR(AcquireSync(0, whole ? PENG_ACCESS_WRITE : PENG_ACCESS_READWRITE));
  auto host = MapBuffer(copies_[0].hal);
  if (!host.ok()) return host.status();
  if (size) std::memcpy(static_cast<char*>(*host) + offset, src, size);
  CommitWrite(0);
  return OkStatus();
}

}  // namespace peng::rt
