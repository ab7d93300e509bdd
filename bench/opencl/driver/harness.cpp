#include "driver/harness.h"

#include <cstdlib>

namespace peng_bench_ocl {

const char* const kKernelSource = R"CL(
__kernel void empty(__global const float* x, long x_n) {}

__kernel void mark(__global int* out, long index, long out_n) {
  if (get_global_id(0) == 0 && index < out_n) out[index] = (int)index + 1;
}
)CL";

uint32_t ManyCount() {
  static const uint32_t count = [] {
    const char* env = std::getenv("PENG_BENCH_TASKS");
    long v = env && *env ? std::strtol(env, nullptr, 10) : 0;
    return v > 0 ? uint32_t(v) : 10000u;
  }();
  return count;
}

double MinTimeSeconds() {
  const char* env = std::getenv("PENG_BENCH_MIN_TIME");
  return env && *env ? std::strtod(env, nullptr) : 0.0;
}

void CheckMarks(const std::vector<int32_t>& out, uint32_t n, const char* who) {
  for (uint32_t i = 0; i < n; ++i) {
    if (out[i] != int32_t(i) + 1) {
      throw BenchError(std::string(who) + " verification: launch " + std::to_string(i) + " left " +
                       std::to_string(out[i]) + ", expected " + std::to_string(i + 1));
    }
  }
}

LaunchTimer::~LaunchTimer() {
  if (iterations_ == 0 || launches_ == 0) return;
  double launches = double(iterations_) * double(launches_);
  state_.counters["ns_per_launch"] = benchmark::Counter(total_ns_ / launches);
  if (build_ns_ > 0) {
    state_.counters["build_ns_per_launch"] = benchmark::Counter(build_ns_ / launches);
    state_.counters["run_ns_per_launch"] = benchmark::Counter((total_ns_ - build_ns_) / launches);
  }
  state_.SetItemsProcessed(int64_t(launches));
}

}  // namespace peng_bench_ocl
