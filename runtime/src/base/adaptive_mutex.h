// AdaptiveMutex: a mutex for short critical sections touched by several
// threads at once (the scheduler's queues). Under contention it spins a
// little before it sleeps, where std::mutex sleeps at once: a holder is
// usually out within a few hundred nanoseconds, and a futex sleep and wake-up
// costs microseconds on the critical path.
//
//   AdaptiveMutex m;
//   { std::lock_guard<AdaptiveMutex> lock(m); ... }
#pragma once

#include <pthread.h>

namespace peng::rt {

class AdaptiveMutex {
 public:
  AdaptiveMutex() = default;
  AdaptiveMutex(const AdaptiveMutex&) = delete;
  AdaptiveMutex& operator=(const AdaptiveMutex&) = delete;
  ~AdaptiveMutex() { pthread_mutex_destroy(&mutex_); }

  void lock() { pthread_mutex_lock(&mutex_); }
  bool try_lock() { return pthread_mutex_trylock(&mutex_) == 0; }
  void unlock() { pthread_mutex_unlock(&mutex_); }

 private:
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
  pthread_mutex_t mutex_ = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
#else
  pthread_mutex_t mutex_ = PTHREAD_MUTEX_INITIALIZER;
#endif
};

}  // namespace peng::rt
