// Performance models for the cost-model policy.
//
// History models: per (kernel, size bucket, device), the last samples of the
// measured duration; the estimate is their median, so a few outliers (a page
// fault, a preempted thread) do not move it. Buckets group launches whose
// data size is within about 19% (4 buckets per doubling).
//
// Transfer models: per memory space's link to host memory, a latency plus a
// bandwidth; the bandwidth is the median of measured transfers once there
// are some, and the platform profile's figure before that.
//
// Both persist to one JSON file, so a later run starts calibrated.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "hal/device.h"

namespace peng::rt {

uint32_t SizeBucket(double bytes);

class PerfModels {
 public:
  static constexpr int kMaxSamples = 16;
  // Fewer samples than this: the model is still calibrating.
  static constexpr int kCalibrated = 3;

  struct History {
    std::array<float, kMaxSamples> samples{};
    uint32_t count = 0;  // samples held (<= kMaxSamples)
    uint32_t next = 0;   // ring position
    uint64_t total = 0;  // samples ever recorded
    double Median() const;
  };

  // Median duration in µs, or a negative value when uncalibrated.
  double PredictUs(const std::string& kernel, uint32_t bucket, const std::string& device) const;
  uint64_t SampleCount(const std::string& kernel, uint32_t bucket, const std::string& device) const;
  void Record(const std::string& kernel, uint32_t bucket, const std::string& device, double us);

  double PredictTransferUs(uint32_t space, uint64_t bytes, const LinkParams& link) const;
  void RecordTransfer(uint32_t space, uint64_t bytes, double us);

  Status Save(const std::string& path, const std::vector<std::string>& space_names) const;
  // space_names[s] names the device owning space s (its link's key in the file).
  Status Load(const std::string& path, const std::vector<std::string>& space_names);

 private:
  static std::string Key(const std::string& kernel, uint32_t bucket, const std::string& device);

  mutable std::mutex mutex_;
  std::unordered_map<std::string, History> history_;
  std::unordered_map<uint32_t, History> link_gbps_;  // per space: measured GB/s
};

}  // namespace peng::rt
