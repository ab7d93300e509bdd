#include "graph/event.h"

#include <chrono>

namespace peng::rt {

bool Event::Complete(peng_status_t status, std::string message) {
  std::vector<Callback> callbacks;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (complete_.load(std::memory_order_relaxed)) return false;
    status_ = status;
    message_ = std::move(message);
    complete_.store(true, std::memory_order_release);
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

peng_status_t Event::Wait(uint64_t timeout_ns) {
  if (IsComplete()) return status_;
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
