// Tracer: records task and transfer spans and writes them as Chrome/Perfetto
// JSON (chrome://tracing, ui.perfetto.dev). One track per device; each task
// span carries the scheduler's predicted and the measured duration.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "peng/peng.h"

namespace peng::rt {

class Tracer {
 public:
  explicit Tracer(std::vector<std::string> device_names);

  void RecordTask(uint32_t device, const std::string& kernel, uint64_t run, uint32_t task,
                  uint64_t start_ns, uint64_t end_ns, double predicted_us, peng_status_t status,
                  bool recompute = false);  // a producer run again for data lost with a device
  void RecordTransfer(uint32_t device, uint32_t src_space, uint32_t dst_space, uint64_t bytes,
                      uint64_t start_ns, uint64_t end_ns, double predicted_us,
                      peng_status_t status);
  Status Write(const std::string& path) const;
  size_t size() const;

 private:
  struct Span {
    bool transfer;
    bool recompute;
    uint32_t device;
    const std::string* name;  // kernel names live in interned_
    uint64_t run;
    uint32_t task;
    uint32_t src_space, dst_space;
    uint64_t bytes;
    uint64_t start_ns, end_ns;
    double predicted_us;
    peng_status_t status;
  };
  const std::string* Intern(const std::string& name);

  std::vector<std::string> device_names_;
  uint64_t origin_ns_;
  mutable std::mutex mutex_;
  std::vector<Span> spans_;
  std::vector<std::unique_ptr<std::string>> interned_;
};

}  // namespace peng::rt
