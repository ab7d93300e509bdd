// AdaptiveMutex: a lock for short critical sections that several threads
// enter at once (the scheduler's queues). It spins rather than sleeps: a
// holder is usually out within a few hundred nanoseconds, and a futex sleep
// and wake-up costs microseconds on the critical path. After a while it
// yields instead (a holder the OS preempted), never sleeps. Unlocking is a
// plain store, where pthread's mutexes need an atomic exchange: one full
// barrier fewer per critical section, which a task pays several times.
//
//   AdaptiveMutex m;
//   { std::lock_guard<AdaptiveMutex> lock(m); ... }
// The scheduler and the CPU backend (backends/cpu/runtime) both use it.
#pragma once

#include <atomic>
#include <thread>

namespace peng::rt {

// One pause in a spin loop: the CPU's spin hint where there is one.
inline void CpuRelax() {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

class AdaptiveMutex {
 public:
  AdaptiveMutex() = default;
  AdaptiveMutex(const AdaptiveMutex&) = delete;
  AdaptiveMutex& operator=(const AdaptiveMutex&) = delete;

  void lock() {
    if (!locked_.exchange(true, std::memory_order_acquire)) return;
    LockContended();
  }
  bool try_lock() {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() { locked_.store(false, std::memory_order_release); }

 private:
  void LockContended() {
    for (uint32_t spins = 0;;) {
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins < kSpins) {
#if defined(__x86_64__)
          __builtin_ia32_pause();
#endif
        } else {
          std::this_thread::yield();
        }
      }
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
    }
  }
  static constexpr uint32_t kSpins = 4096;  // about 100 us of pauses
  std::atomic<bool> locked_{false};
};

}  // namespace peng::rt
