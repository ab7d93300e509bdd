// Buffer: one piece of data with copies in several memory spaces, like a
// StarPU data handle. Space 0 is host memory. Each copy is invalid, being
// fetched, or valid; a task that reads the buffer on a device whose space has
// no valid copy gets one moved there first, and a task that writes it leaves
// its device's copy as the only valid one.
//
// Tasks that conflict on a buffer are ordered by the graph, so Acquire and
// CommitWrite never race with a conflicting access; concurrent readers in
// several spaces are fine.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "base/handle_table.h"
#include "base/ref_count.h"
#include "base/status.h"
#include "graph/event.h"
#include "peng/hal.h"

namespace peng::rt {

class Runtime;

class Buffer : public RefCounted<Buffer> {
 public:
  using Done = std::function<void(peng_status_t)>;

  static Result<Ref<Buffer>> Create(Runtime* runtime, uint64_t size);
  ~Buffer();

  uint64_t size() const { return size_; }
  Runtime* runtime() const { return runtime_; }

  // Makes the copy in `space` ready for `access`, then calls done (possibly
  // at once, on this thread). On success *out_hal is that copy.
  void Acquire(uint32_t space, peng_access_t access, peng_hal_buffer_t** out_hal, Done done);
  // After a task wrote the copy in `space`: it becomes the only valid one.
  void CommitWrite(uint32_t space);
  // The copy in a lost space is gone.
  void DropSpace(uint32_t space);

  // Host access from the API: waits for the tasks ordered before it.
  Status Read(uint64_t offset, uint64_t size, void* dst);
  Status Write(uint64_t offset, uint64_t size, const void* src);
  uint64_t ValidMask();

  // Ordering across graph submissions: the last run that writes the buffer
  // and the runs reading it since. Returns the events a new run must wait for.
  void SequenceRun(bool writes, const Ref<Event>& run, std::vector<Ref<Event>>* wait_for);

 private:
  enum class State : uint8_t { kInvalid, kFetching, kValid };
  struct Copy {
    peng_hal_buffer_t* hal = nullptr;
    State state = State::kInvalid;
    std::vector<Done> waiters;
  };

  Buffer(Runtime* runtime, uint64_t size);
  Status EnsureAllocated(uint32_t space);  // with mutex_ held
  // With mutex_ held; copy marked kFetching. Returns with mutex_ held, or
  // released when `relock` is false: a caller holding no reference (a
  // completion on a device thread) must not touch the buffer once the copy
  // is queued, since its completion may let the last owner free it.
  void StartFetch(uint32_t space, bool relock = true);
  void FinishFetch(uint32_t space, peng_status_t status);
  void WaitForRuns(bool include_readers);
  Status AcquireSync(uint32_t space, peng_access_t access);

  Ref<Runtime> runtime_ref_;
  Runtime* runtime_;
  uint64_t size_;
  std::mutex mutex_;
  std::vector<Copy> copies_;  // indexed by memory space

  std::mutex sequence_mutex_;
  Ref<Event> last_writer_;
  std::vector<Ref<Event>> readers_;
};

template <>
struct HandleTraits<Buffer> {
  static constexpr HandleType kType = HandleType::kBuffer;
};

}  // namespace peng::rt
