// Monotonic time in nanoseconds: the clock of traces, models and HAL timestamps.
#pragma once

#include <cstdint>
#include <ctime>

namespace peng::rt {

inline uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

}  // namespace peng::rt
