// The opencl backend's on-disk cache of built program binaries, so that a
// module's OpenCL C is compiled once per device and driver, not once per
// process (a big program takes seconds in PoCL's or a vendor's compiler).
//
// One file per program and device, named by a 128-bit hash of its key: the
// platform's name and version, the device's name and version, the driver
// version, the build options and a hash of the source. The file holds a
// header (magic, format version, the key itself, the binary's size and
// checksum) and the binary from CL_PROGRAM_BINARIES. A file whose header,
// key, size or checksum is wrong is ignored and rewritten; so is one whose
// binary the driver refuses. Files are written to a temporary name and
// renamed into place, so a concurrent reader sees a whole file or none.
//
//   std::string dir = ProgramCacheDir();   // "" when disabled
//   std::string key = ProgramCacheKey(platform, device, options, source, size);
//   std::vector<unsigned char> binary;
//   if (ReadCachedBinary(dir, key, &binary)) ... clCreateProgramWithBinary ...
//   WriteCachedBinary(dir, key, built_binary);
#pragma once

#include <CL/cl.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace peng::opencl {

// MurmurHash3 x64-128 (public domain): {low, high} 64-bit halves.
struct Hash128 {
  uint64_t lo, hi;
};
Hash128 HashBytes(const void* data, size_t size, uint64_t seed = 0);

// The cache folder from the environment: $PENG_CACHE_DIR, else
// $XDG_CACHE_HOME/peng, else $HOME/.cache/peng, each with "/opencl"; empty
// when PENG_OPENCL_CACHE is 0/off/false or none of them is set.
std::string ProgramCacheDir();

// Everything a built binary depends on, as text (stored in the file, so a
// hash collision of file names is caught).
std::string ProgramCacheKey(cl_platform_id platform, cl_device_id device,
                            const std::string& options, const char* source, size_t size);

// The cached binary for `key` under `dir`, checked; false when there is none
// or it is damaged (then *why says how, for a damaged one).
bool ReadCachedBinary(const std::string& dir, const std::string& key,
                      std::vector<unsigned char>* binary, std::string* why);

// Stores `binary` for `key`; false (and nothing left behind) when the folder
// cannot be made or written: the cache is then simply not used.
bool WriteCachedBinary(const std::string& dir, const std::string& key,
                       const std::vector<unsigned char>& binary);

// What the backend did, process-wide, for tests and diagnostics.
struct BackendCounters {
  std::atomic<uint64_t> hits{0};            // programs built from a cached binary
  std::atomic<uint64_t> writes{0};          // binaries stored
  std::atomic<uint64_t> rejected{0};        // damaged or refused entries, rebuilt
  std::atomic<uint64_t> launch_retries{0};  // launches retried with smaller work-groups
};
BackendCounters& Counters();

}  // namespace peng::opencl

// Test hook: a counter of Counters() by name ("cache_hits", "cache_writes",
// "cache_rejected", "launch_retries"); UINT64_MAX for an unknown name.
extern "C" uint64_t peng_test_opencl_counter(const char* name);
