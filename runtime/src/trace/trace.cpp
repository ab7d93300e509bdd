#include "trace/trace.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "base/clock.h"

namespace peng::rt {

Tracer::Tracer(std::vector<std::string> device_names)
    : device_names_(std::move(device_names)), origin_ns_(NowNs()) {}

const std::string* Tracer::Intern(const std::string& name) {
  for (const auto& s : interned_) {
    if (*s == name) return s.get();
  }
  interned_.push_back(std::make_unique<std::string>(name));
  return interned_.back().get();
}

void Tracer::RecordTask(uint32_t device, const std::string& kernel, uint64_t run, uint32_t task,
                        uint64_t start_ns, uint64_t end_ns, double predicted_us,
                        peng_status_t status, bool recompute) {
  std::lock_guard<std::mutex> lock(mutex_);
  spans_.push_back(Span{false, recompute, device, Intern(kernel), run, task, 0, 0, 0, start_ns,
                        end_ns, predicted_us, status});
}

void Tracer::RecordTransfer(uint32_t device, uint32_t src_space, uint32_t dst_space,
                            uint64_t bytes, uint64_t start_ns, uint64_t end_ns,
                            double predicted_us, peng_status_t status) {
  std::lock_guard<std::mutex> lock(mutex_);
  spans_.push_back(Span{true, false, device, nullptr, 0, 0, src_space, dst_space, bytes, start_ns, end_ns,
                        predicted_us, status});
}

size_t Tracer::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return spans_.size();
}

Status Tracer::Write(const std::string& path) const {
  nlohmann::json events = nlohmann::json::array();
  events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", 1},
                    {"args", {{"name", "peng runtime"}}}});
  for (size_t d = 0; d < device_names_.size(); ++d) {
    // Two tracks per device: compute, and the copies its queue runs.
    events.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", 1}, {"tid", 2 * d},
                      {"args", {{"name", device_names_[d]}}}});
    events.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", 1}, {"tid", 2 * d + 1},
                      {"args", {{"name", device_names_[d] + " transfers"}}}});
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Span& s : spans_) {
      double ts = (double(s.start_ns) - double(origin_ns_)) * 1e-3;
      double dur = double(s.end_ns - s.start_ns) * 1e-3;
      nlohmann::json args = {{"predicted_us", s.predicted_us},
                             {"actual_us", dur},
                             {"status", peng_status_string(s.status)}};
      std::string name;
      if (s.transfer) {
        name = "copy space" + std::to_string(s.src_space) + "->space" + std::to_string(s.dst_space);
        args["bytes"] = s.bytes;
      } else {
        name = *s.name;
        args["run"] = s.run;
        args["task"] = s.task;
        if (s.recompute) args["recompute"] = true;
      }
      events.push_back({{"name", name},
                        {"cat", s.transfer ? "transfer" : "task"},
                        {"ph", "X"},
                        {"pid", 1},
                        {"tid", 2 * s.device + (s.transfer ? 1 : 0)},
                        {"ts", ts},
                        {"dur", dur},
                        {"args", args}});
    }
  }
  std::ofstream out(path);
  if (!out) return Error(PENG_ERROR_IO, "cannot open trace file '", path, "'");
  out << nlohmann::json{{"traceEvents", events}, {"displayTimeUnit", "ns"}}.dump() << "\n";
  if (!out) return Error(PENG_ERROR_IO, "writing trace file '", path, "' failed");
  return OkStatus();
}

}  // namespace peng::rt
