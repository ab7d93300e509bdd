#include "sched/perf_model.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

namespace peng::rt {

uint32_t SizeBucket(double bytes) {
  if (bytes < 1) return 0;
  return 1 + uint32_t(std::floor(4.0 * std::log2(bytes)));
}

double PerfModels::History::Median() const {
  if (count == 0) return -1;
  std::array<float, kMaxSamples> sorted = samples;
  auto mid = sorted.begin() + count / 2;
  std::nth_element(sorted.begin(), mid, sorted.begin() + count);
  if (count % 2) return *mid;
  float upper = *mid;
  float lower = *std::max_element(sorted.begin(), mid);
  return 0.5 * (double(lower) + double(upper));
}

std::string PerfModels::Key(const std::string& kernel, uint32_t bucket, const std::string& device) {
  return kernel + "|" + std::to_string(bucket) + "|" + device;
}

double PerfModels::PredictUs(const std::string& kernel, uint32_t bucket,
                             const std::string& device) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = history_.find(Key(kernel, bucket, device));
  if (it == history_.end() || it->second.count < kCalibrated) return -1;
  return it->second.Median();
}

uint64_t PerfModels::SampleCount(const std::string& kernel, uint32_t bucket,
                                 const std::string& device) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = history_.find(Key(kernel, bucket, device));
  return it == history_.end() ? 0 : it->second.total;
}

static void Push(PerfModels::History& h, double value) {
  h.samples[h.next] = float(value);
  h.next = (h.next + 1) % PerfModels::kMaxSamples;
  h.count = std::min<uint32_t>(h.count + 1, PerfModels::kMaxSamples);
  ++h.total;
}

void PerfModels::Record(const std::string& kernel, uint32_t bucket, const std::string& device,
                        double us) {
  if (!(us >= 0) || !std::isfinite(us)) return;
  std::lock_guard<std::mutex> lock(mutex_);
  Push(history_[Key(kernel, bucket, device)], us);
}

double PerfModels::PredictTransferUs(uint32_t space, uint64_t bytes, const LinkParams& link) const {
  double gbps = link.gbps;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = link_gbps_.find(space);
    if (it != link_gbps_.end() && it->second.count > 0) gbps = it->second.Median();
  }
  if (gbps <= 0) gbps = 10;  // unknown link: assume a memcpy-class link
  return link.latency_us + double(bytes) / (gbps * 1e3);
}

void PerfModels::RecordTransfer(uint32_t space, uint64_t bytes, double us) {
  // Small copies measure latency, not bandwidth.
  if (bytes < 64 * 1024 || !(us > 0)) return;
  std::lock_guard<std::mutex> lock(mutex_);
  Push(link_gbps_[space], double(bytes) / (us * 1e3));
}

Status PerfModels::Save(const std::string& path, const std::vector<std::string>& space_names) const {
  nlohmann::json doc;
  doc["format"] = "peng-perf-models";
  doc["version"] = 1;
  nlohmann::json history = nlohmann::json::array();
  nlohmann::json links = nlohmann::json::array();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [key, h] : history_) {
      size_t a = key.find('|'), b = key.rfind('|');
      nlohmann::json samples = nlohmann::json::array();
      for (uint32_t i = 0; i < h.count; ++i) samples.push_back(h.samples[i]);
      history.push_back({{"kernel", key.substr(0, a)},
                         {"bucket", std::stoul(key.substr(a + 1, b - a - 1))},
                         {"device", key.substr(b + 1)},
                         {"total", h.total},
                         {"samples_us", samples}});
    }
    for (const auto& [space, h] : link_gbps_) {
      if (space >= space_names.size()) continue;
      nlohmann::json samples = nlohmann::json::array();
      for (uint32_t i = 0; i < h.count; ++i) samples.push_back(h.samples[i]);
      links.push_back({{"device", space_names[space]}, {"samples_gbps", samples}});
    }
  }
  doc["history"] = std::move(history);
  doc["links"] = std::move(links);
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    if (!out) return Error(PENG_ERROR_IO, "cannot write performance models to '", tmp, "'");
    out << doc.dump(1) << "\n";
    if (!out) return Error(PENG_ERROR_IO, "writing '", tmp, "' failed");
  }
  // Rename so a crash mid-write never leaves a truncated model file.
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return Error(PENG_ERROR_IO, "cannot rename '", tmp, "' to '", path, "'");
  }
  return OkStatus();
}

Status PerfModels::Load(const std::string& path, const std::vector<std::string>& space_names) {
  std::ifstream in(path);
  if (!in) return OkStatus();  // no file yet: start uncalibrated
  nlohmann::json doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  auto corrupt = [&](const char* why) {
    return Error(PENG_ERROR_CORRUPT_DATA, "performance model file '", path, "': ", why);
  };
  if (doc.is_discarded() || !doc.is_object()) return corrupt("not valid JSON");
  if (doc.value("format", "") != "peng-perf-models") return corrupt("not a peng-perf-models file");
  if (doc.value("version", 0) != 1) return corrupt("unsupported version");
  std::unordered_map<std::string, History> history;
  std::unordered_map<uint32_t, History> links;
  try {
    for (const auto& e : doc.at("history")) {
      History h;
      for (const auto& s : e.at("samples_us")) {
        double v = s.get<double>();
        if (!(v >= 0) || !std::isfinite(v)) return corrupt("negative or non-finite sample");
        Push(h, v);
      }
      h.total = std::max<uint64_t>(h.count, e.value("total", uint64_t(0)));
      history[Key(e.at("kernel").get<std::string>(), e.at("bucket").get<uint32_t>(),
                  e.at("device").get<std::string>())] = h;
    }
    for (const auto& e : doc.at("links")) {
      auto name = e.at("device").get<std::string>();
      auto it = std::find(space_names.begin(), space_names.end(), name);
      if (it == space_names.end()) continue;  // a device this platform does not have
      History h;
      for (const auto& s : e.at("samples_gbps")) {
        double v = s.get<double>();
        if (!(v > 0) || !std::isfinite(v)) return corrupt("non-positive bandwidth sample");
        Push(h, v);
      }
      links[uint32_t(it - space_names.begin())] = h;
    }
  } catch (const nlohmann::json::exception& e) {
    return corrupt(e.what());
  }
  std::lock_guard<std::mutex> lock(mutex_);
  history_ = std::move(history);
  link_gbps_ = std::move(links);
  return OkStatus();
}

}  // namespace peng::rt
