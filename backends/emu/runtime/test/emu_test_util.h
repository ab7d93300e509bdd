// Helpers the emu backend's tests share (backends/emu/runtime/test, tests/emu):
// whether a server process still runs, and what a device says about itself
// through the runtime's public API.
#pragma once

#include <sys/types.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "peng/peng.h"

namespace peng_emu_test {

// Alive, and not a zombie waiting for its parent (or init) to reap it.
inline bool ProcessExists(pid_t pid) {
  if (pid <= 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] != 'Z';
}

// peng_device_describe's text ("" if it fails).
inline std::string Describe(peng_device_t d) {
  size_t n = 0;
  if (peng_device_describe(d, nullptr, 0, &n) != PENG_OK) return "";
  std::string text(n + 1, '\0');
  if (peng_device_describe(d, text.data(), text.size(), &n) != PENG_OK) return "";
  text.resize(n);
  return text;
}

// The number after `key` in the description, or -1.
inline long long DescribedNumber(peng_device_t d, const std::string& key) {
  std::string text = Describe(d);
  size_t at = text.find(key);
  return at == std::string::npos ? -1 : std::atoll(text.c_str() + at + key.size());
}

inline pid_t ServerPid(peng_device_t d) { return pid_t(DescribedNumber(d, "Server pid: ")); }

inline bool Lost(peng_device_t d) {
  peng_device_info_t info{};
  return peng_device_info(d, &info) == PENG_OK && info.lost != 0;
}

}  // namespace peng_emu_test
