#include "program_cache.h"

#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cl_util.h"

namespace peng::opencl {

namespace {

constexpr char kMagic[8] = {'P', 'E', 'N', 'G', 'C', 'L', 'B', '\0'};
// Bumped when the file layout changes; an old file is then rejected.
constexpr uint32_t kFormatVersion = 1;

// The file's header, then `key_size` bytes of key, then `binary_size` bytes.
struct Header {
  char magic[8];
  uint32_t version;
  uint32_t key_size;
  uint64_t binary_size;
  uint64_t checksum_lo, checksum_hi;  // HashBytes of the binary
};

uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

uint64_t Fmix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ull;
  k ^= k >> 33;
  return k;
}

std::string Hex(Hash128 h) {
  char text[33];
  std::snprintf(text, sizeof text, "%016llx%016llx", static_cast<unsigned long long>(h.hi),
                static_cast<unsigned long long>(h.lo));
  return text;
}

std::string PathOf(const std::string& dir, const std::string& key) {
  return dir + "/" + Hex(HashBytes(key.data(), key.size())) + ".bin";
}

bool ReadAll(int fd, void* data, size_t size) {
  auto* p = static_cast<char*>(data);
  while (size > 0) {
    ssize_t n = read(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= size_t(n);
  }
  return true;
}

bool WriteAll(int fd, const void* data, size_t size) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= size_t(n);
  }
  return true;
}

// mkdir -p; true when the folder exists afterwards.
bool MakeDirs(const std::string& dir) {
  for (size_t at = 1; at <= dir.size(); ++at) {
    if (at != dir.size() && dir[at] != '/') continue;
    std::string part = dir.substr(0, at);
    if (mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) return false;
  }
  struct stat st;
  return stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

Hash128 HashBytes(const void* data, size_t size, uint64_t seed) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  const uint64_t c1 = 0x87c37b91114253d5ull, c2 = 0x4cf5ad432745937full;
  uint64_t h1 = seed, h2 = seed;
  size_t blocks = size / 16;
  for (size_t i = 0; i < blocks; ++i) {
    uint64_t k1, k2;
    std::memcpy(&k1, bytes + i * 16, 8);
    std::memcpy(&k2, bytes + i * 16 + 8, 8);
    k1 *= c1, k1 = Rotl(k1, 31), k1 *= c2, h1 ^= k1;
    h1 = Rotl(h1, 27), h1 += h2, h1 = h1 * 5 + 0x52dce729;
    k2 *= c2, k2 = Rotl(k2, 33), k2 *= c1, h2 ^= k2;
    h2 = Rotl(h2, 31), h2 += h1, h2 = h2 * 5 + 0x38495ab5;
  }
  const unsigned char* tail = bytes + blocks * 16;
  size_t rest = size & 15;
  uint64_t k1 = 0, k2 = 0;
  for (size_t i = 8; i < rest; ++i) k2 ^= uint64_t(tail[i]) << ((i - 8) * 8);
  for (size_t i = 0; i < rest && i < 8; ++i) k1 ^= uint64_t(tail[i]) << (i * 8);
  if (rest > 8) k2 *= c2, k2 = Rotl(k2, 33), k2 *= c1, h2 ^= k2;
  if (rest > 0) k1 *= c1, k1 = Rotl(k1, 31), k1 *= c2, h1 ^= k1;
  h1 ^= uint64_t(size), h2 ^= uint64_t(size);
  h1 += h2, h2 += h1;
  h1 = Fmix(h1), h2 = Fmix(h2);
  h1 += h2, h2 += h1;
  return {h1, h2};
}

std::string ProgramCacheDir() {
  const char* enabled = std::getenv("PENG_OPENCL_CACHE");
  if (enabled && (!std::strcmp(enabled, "0") || !strcasecmp(enabled, "off") ||
                  !strcasecmp(enabled, "false"))) {
    return {};
  }
  const char* dir = std::getenv("PENG_CACHE_DIR");
  if (dir && *dir) return std::string(dir) + "/opencl";
  dir = std::getenv("XDG_CACHE_HOME");
  if (dir && *dir) return std::string(dir) + "/peng/opencl";
  dir = std::getenv("HOME");
  if (dir && *dir) return std::string(dir) + "/.cache/peng/opencl";
  return {};
}

std::string ProgramCacheKey(cl_platform_id platform, cl_device_id device,
                            const std::string& options, const char* source, size_t size) {
  // A field per line; none of them holds a newline that matters here, and the
  // whole key is compared on load anyway.
  return "platform: " + ClPlatformString(platform, CL_PLATFORM_NAME) + "\n" +
         "platform version: " + ClPlatformString(platform, CL_PLATFORM_VERSION) + "\n" +
         "device: " + ClDeviceString(device, CL_DEVICE_NAME) + "\n" +
         "device version: " + ClDeviceString(device, CL_DEVICE_VERSION) + "\n" +
         "driver version: " + ClDeviceString(device, CL_DRIVER_VERSION) + "\n" +
         "options: " + options + "\n" + "source: " + Hex(HashBytes(source, size)) + " (" +
         std::to_string(size) + " bytes)\n";
}

bool ReadCachedBinary(const std::string& dir, const std::string& key,
                      std::vector<unsigned char>* binary, std::string* why) {
  if (dir.empty()) return false;
  std::string path = PathOf(dir, key);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;  // not cached (or unreadable): build from source
  struct stat st;
  Header h;
  bool ok = fstat(fd, &st) == 0 && ReadAll(fd, &h, sizeof h);
  std::string stored_key;
  if (!ok) {
    *why = "shorter than its header";
  } else if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0) {
    *why = "not a peng program cache file";
    ok = false;
  } else if (h.version != kFormatVersion) {
    *why =
        "format version " + std::to_string(h.version) + ", not " + std::to_string(kFormatVersion);
    ok = false;
  } else if (uint64_t(st.st_size) != sizeof h + uint64_t(h.key_size) + h.binary_size) {
    *why = std::to_string(st.st_size) + " bytes, its header says " +
           std::to_string(sizeof h + uint64_t(h.key_size) + h.binary_size);
    ok = false;
  } else {
    stored_key.resize(h.key_size);
    binary->resize(h.binary_size);
    ok = ReadAll(fd, stored_key.data(), stored_key.size()) &&
         ReadAll(fd, binary->data(), binary->size());
    if (!ok) {
      *why = "a read error";
    } else if (stored_key != key) {
      *why = "made for another program or driver (its key differs)";
      ok = false;
    } else {
      Hash128 sum = HashBytes(binary->data(), binary->size());
      if (sum.lo != h.checksum_lo || sum.hi != h.checksum_hi) {
        *why = "its checksum does not match";
        ok = false;
      }
    }
  }
  close(fd);
  if (!ok) {
    *why = path + ": " + *why;
    binary->clear();
  }
  return ok;
}

bool WriteCachedBinary(const std::string& dir, const std::string& key,
                       const std::vector<unsigned char>& binary) {
  if (dir.empty() || binary.empty() || !MakeDirs(dir)) return false;
  static std::atomic<uint64_t> serial{0};
  std::string path = PathOf(dir, key);
  // Unique per process and call: concurrent writers never share a temp file.
  std::string temp =
      path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(serial.fetch_add(1));
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  Header h;
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.version = kFormatVersion;
  h.key_size = uint32_t(key.size());
  h.binary_size = binary.size();
  Hash128 sum = HashBytes(binary.data(), binary.size());
  h.checksum_lo = sum.lo;
  h.checksum_hi = sum.hi;
  bool ok = WriteAll(fd, &h, sizeof h) && WriteAll(fd, key.data(), key.size()) &&
            WriteAll(fd, binary.data(), binary.size());
  // No fsync: a file cut short by a crash fails its size or checksum check.
  ok = close(fd) == 0 && ok;
  if (ok) ok = rename(temp.c_str(), path.c_str()) == 0;
  if (!ok) unlink(temp.c_str());
  if (ok) Counters().writes.fetch_add(1);
  return ok;
}

BackendCounters& Counters() {
  static BackendCounters counters;
  return counters;
}

}  // namespace peng::opencl

extern "C" uint64_t peng_test_opencl_counter(const char* name) {
  auto& c = peng::opencl::Counters();
  if (!std::strcmp(name, "cache_hits")) return c.hits.load();
  if (!std::strcmp(name, "cache_writes")) return c.writes.load();
  if (!std::strcmp(name, "cache_rejected")) return c.rejected.load();
  if (!std::strcmp(name, "launch_retries")) return c.launch_retries.load();
  return UINT64_MAX;
}
