// Event: completes once, with a status. Callbacks registered before completion
// run on the completing thread; registered after, they run at once. This is
// how device completions, graph runs and user signals join the task graph.
// A thread that waits without a timeout first helps: it runs the work the
// event waits for itself, if its helper (a graph run) has any, and spins a
// little before it sleeps.
//
//   Ref<Event> e = MakeRef<Event>();
//   e->OnComplete([](peng_status_t s) { ... });
//   e->Complete(PENG_OK);
//   e->Wait(PENG_WAIT_FOREVER);
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "base/handle_table.h"
#include "base/ref_count.h"
#include "peng/peng.h"

namespace peng::rt {

class Runtime;

class Event : public RefCounted<Event> {
 public:
  using Callback = std::function<void(peng_status_t)>;

  // What a waiting thread can do instead of sleeping. The scheduler gives
  // each run's event one: the run.
  class Helper {
   public:
    // Pin is called under the event's lock, only while it is incomplete, and
    // keeps the helper alive until the matching Unpin.
    virtual void Pin() = 0;
    virtual void Unpin() = 0;
    // Runs work the event waits for on this thread; returns whether it ran any.
    virtual bool Help() = 0;

   protected:
    ~Helper() = default;
  };

  explicit Event(Runtime* runtime = nullptr) : runtime_(runtime) {}

  bool IsComplete() const { return complete_.load(std::memory_order_acquire); }
  // Valid once IsComplete().
  peng_status_t status() const { return status_; }

  // Completes the event; a second call does nothing and returns false.
  bool Complete(peng_status_t status, std::string message = {});
  // Why it failed; valid once IsComplete().
  const std::string& message() const { return message_; }
  void OnComplete(Callback callback);
  // Returns the status, or PENG_ERROR_TIMEOUT.
  peng_status_t Wait(uint64_t timeout_ns);
  // Set before any thread can wait; completion drops it.
  void set_helper(Helper* helper) { helper_ = helper; }

  Runtime* runtime() const { return runtime_; }

 private:
  void HelpUntilComplete();

  Runtime* runtime_;
  Helper* helper_ = nullptr;  // guarded by mutex_
  std::atomic<bool> complete_{false};
  peng_status_t status_ = PENG_OK;
  std::string message_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Callback> callbacks_;
};

template <>
struct HandleTraits<Event> {
  static constexpr HandleType kType = HandleType::kEvent;
};

}  // namespace peng::rt
