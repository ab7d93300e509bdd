#include "graph/event.h"

#include <chrono>
#include <thread>

#include "base/adaptive_mutex.h"
#include "base/clock.h"

namespace peng::rt {

bool Event::Complete(peng_status_t status, std::string message) {
  std::vector<Callback> callbacks;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (complete_.load(std::memory_order_relaxed)) return false;
    status_ = status;
    message_ = std::move(message);
    complete_.store(true, std::memory_order_release);
    helper_ = nullptr;
    callbacks.swap(callbacks_);
  }
  cv_.notify_all();
  for (auto& cb : callbacks) cb(status);
  return true;
}

void Event::OnComplete(Callback callback) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!complete_.load(std::memory_order_relaxed)) {
      callbacks_.push_back(std::move(callback));
      return;
    }
  }
  callback(status_);
}

void Event::HelpUntilComplete() {
  Helper* helper;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (complete_.load(std::memory_order_relaxed) || !helper_) return;
    helper = helper_;
    helper->Pin();
  }
  // With nothing to run, spin a little: the last task usually completes on
  // another thread within microseconds, and sleeping costs a wake-up. No
  // yield: on a busy machine it can give the core away for a time slice.
  // A few pauses between looks: each look reads lines the working threads
  // write.
  constexpr uint64_t kSpinNs = 50 * 1000;
  constexpr int kPausesPerLook = 8;
  uint64_t idle_since = 0;
  while (!IsComplete()) {
    if (helper->Help()) {
      idle_since = 0;
      continue;
    }
    uint64_t now = NowNs();
    if (!idle_since) idle_since = now;
    else if (now - idle_since > kSpinNs) break;
    for (int k = 0; k < kPausesPerLook; ++k) CpuRelax();
  }
  helper->Unpin();
}

peng_status_t Event::Wait(uint64_t timeout_ns) {
  if (IsComplete()) return status_;
  // Only an unbounded wait helps: a task run here could outlast a timeout.
  if (timeout_ns == PENG_WAIT_FOREVER) {
    HelpUntilComplete();
    if (IsComplete()) return status_;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  auto done = [&] { return complete_.load(std::memory_order_relaxed); };
  if (timeout_ns == PENG_WAIT_FOREVER) {
    cv_.wait(lock, done);
  } else if (!cv_.wait_for(lock, std::chrono::nanoseconds(timeout_ns), done)) {
    return PENG_ERROR_TIMEOUT;
  }
  return status_;
}

}  // namespace peng::rt
