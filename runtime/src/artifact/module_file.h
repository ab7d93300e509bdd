// module.peng: the one file pengc writes and the runtime loads. It holds every
// kernel's signature and cost figures, and per target its code (an ELF image
// for CPU targets, OpenCL C source for OpenCL). This library is the format's
// only reader and writer; the compiler and the runtime both link it.
//
//   peng::artifact::ModuleFile m;
//   m.kernels.push_back(...);
//   std::vector<uint8_t> bytes = peng::artifact::Serialize(m);
//   ...
//   std::string error;
//   auto parsed = peng::artifact::Parse(bytes.data(), bytes.size(), &error);
//   if (!parsed) fprintf(stderr, "%s\n", error.c_str());
//
// Layout (little-endian), version 2:
//   [0, 64)        header: magic "\x7fPENGMOD", format and kernel ABI versions,
//                  file size, the metadata and blob-table ranges, CRC32C of
//                  the metadata and of the header itself
//   metadata       JSON: kernels (signature, cost figures, in-place pairs) and
//                  executables (one per target variant: code blob, the ISA it
//                  needs, and an entry per kernel with its launch metadata)
//   blob table     {offset, size, crc32c, reserved} per blob
//   blobs          code, each 64-byte aligned
// Parse checks every range, checksum and field before returning anything, so a
// corrupt or truncated file is an error message, never a crash. Version 1
// (code per kernel) is refused with a message naming both versions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "peng/peng.h"

namespace peng::artifact {

inline constexpr uint32_t kFormatVersion = 2;
inline constexpr char kMagic[8] = {'\x7f', 'P', 'E', 'N', 'G', 'M', 'O', 'D'};
inline constexpr size_t kHeaderSize = 64;

struct ArgInfo {
  peng_dtype_t dtype = PENG_DTYPE_F32;
  peng_access_t access = PENG_ACCESS_READ;
  std::vector<int64_t> shape;  // -1: dynamic
};

struct KernelInfo {
  std::string name;
  std::vector<ArgInfo> args;  // inputs first, then outputs
  uint32_t constant_count = 0;
  double flops = 0;
  double bytes = 0;
  // {output, input} argument pairs that may be bound to one buffer.
  std::vector<std::pair<uint32_t, uint32_t>> in_place;
  // What kind of work it is ("class" in the metadata: "compute", the default
  // when absent, or "data_plane"): data movement and format conversion
  // (copies, gathers, layout changes, casts, quantization, checksums) that a
  // DPU may take. pengc sets it from the function attribute peng.data_plane.
  bool data_plane = false;
};

// How one variant of a kernel is launched; targets may differ (a CPU splits
// into workgroups of one item, OpenCL into work-groups of many).
struct LaunchInfo {
  peng_grid_dim_t grid[3] = {};
  uint32_t workgroup_size[3] = {1, 1, 1};
  // Scratch bytes each concurrently running workgroup needs (temporaries too
  // large for a worker's stack); the runtime passes it in the workgroup state.
  uint64_t workspace = 0;
};

struct Entry {
  uint32_t kernel = 0;  // index into ModuleFile::kernels
  std::string symbol;   // entry point inside the code
  LaunchInfo launch;
};

// One loadable unit: a target's code for many kernels, loaded once per device.
struct Executable {
  std::string target;  // "host", "rvv", "opencl"
  std::string format;  // "elf" (a self-contained ELF, see backends/cpu) or "opencl-c"
  std::string arch;    // for ELF code: "x86_64", "riscv64"
  std::string cpu;     // what it was compiled for ("x86-64-v3"); informative
  // ISA features the code needs ("avx2", "fma", "v"); a device without one of
  // them must not run it.
  std::vector<std::string> features;
  // VLEN range this code is valid for, in bits; 0 means no bound.
  uint32_t min_vlen = 0;
  uint32_t max_vlen = 0;
  std::vector<uint8_t> code;
  std::vector<Entry> entries;
};

struct ModuleFile {
  std::string producer;  // "pengc 0.1.0"
  std::vector<KernelInfo> kernels;
  std::vector<Executable> executables;
};

std::vector<uint8_t> Serialize(const ModuleFile& module);

// The container alone: a header, the given metadata text and blobs. Serialize
// uses it; tests use it to build files with hand-written (bad) metadata.
std::vector<uint8_t> SerializeRaw(const std::string& metadata,
                                  const std::vector<std::vector<uint8_t>>& blobs);

// Validates and decodes a whole file. On failure returns nullopt and sets *error.
std::optional<ModuleFile> Parse(const uint8_t* data, size_t size, std::string* error);

// Names used in the metadata and by tools.
const char* DtypeName(peng_dtype_t dtype);
std::optional<peng_dtype_t> DtypeFromName(const std::string& name);
size_t DtypeSize(peng_dtype_t dtype);

uint32_t Crc32c(const void* data, size_t size, uint32_t crc = 0);

}  // namespace peng::artifact
