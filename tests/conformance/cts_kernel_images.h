// Each backend's code for the suite's kernels: one contract (cts_kernels.h),
// written once per kind of code a backend runs. A backend entry of the
// registry (backend_registry.h) names its images; the tests ask them for an
// executable or a module and never care which form it takes.
//
//   HalKernelCode code;
//   std::string why = backend.kernels->HalCode(CtsKernel::kIncrement, info, &code);
//   if (!why.empty()) GTEST_SKIP() << why;  // this backend's code cannot keep that contract
//   device_vt->load_executable(device, &code.spec, &exe);
//
// Host images: the C functions of cts_kernels.c as "native" executables (the
// cpu backends; the null backends, which must refuse them). OpenCL images:
// cts_kernels.cl, format "opencl-c". Emu images: cts_kernels.c as a riscv64
// kernel ELF, format "elf".
#pragma once

#include <string>
#include <vector>

#include "peng/hal.h"
#include "peng/peng.h"

namespace peng_cts {

enum class CtsKernel {
  kWorkgroupIds,      // "ids": a tag and a count per workgroup, bindings are rank-1 bytes
  kFailOnWorkgroup,   // "fail": fails its launch in workgroup constants[0]
  kIncrement,         // "inc": adds 1 to a uint64 counter
  kSpinUntilFlag,     // "spin": runs until the int at host address constants[0] is set
  kClaimThreadIndex,  // "claim": checks the help slot's thread-index promise
};

// An executable spec with one entry, and everything it points to. It stays
// where it was made.
struct HalKernelCode {
  std::string name;
  std::string symbol;
  std::string source;  // code images: the text the spec points at
  peng_hal_entry_spec_t entry{};
  peng_hal_executable_spec_t spec{};

  HalKernelCode() = default;
  HalKernelCode(const HalKernelCode&) = delete;
  HalKernelCode& operator=(const HalKernelCode&) = delete;
};

// The runtime tests' kernels as one module that the device under test runs:
// "ids" (rank-3 int32 grid), "scale" (uint8 bytes * 3 + 1, tiled by
// constants[0]), "mark" and "fail" (see runtime_conformance_test.cpp).
struct RuntimeKernels {
  peng_module_t module = nullptr;
  peng_kernel_t ids = nullptr, scale = nullptr, fail = nullptr, mark = nullptr;
  std::string no_fail;  // when fail is NULL: why these images have none
};

class KernelImages {
 public:
  virtual ~KernelImages() = default;
  // Fills *out with an executable whose one entry is `kernel`, for a device
  // that reported `device`; returns "" then, or why these images cannot keep
  // that kernel's contract on it (the test is then skipped with that reason).
  virtual std::string HalCode(CtsKernel kernel, const peng_device_info_t& device,
                              HalKernelCode* out) const = 0;
  // The runtime tests' module, loaded into `rt`.
  virtual peng_status_t LoadRuntimeKernels(peng_runtime_t rt, RuntimeKernels* out) const = 0;
};

// cts_kernels.c as native executables, target "host".
const KernelImages& HostKernelImages();
#ifdef PENG_CTS_OPENCL
// cts_kernels.cl as OpenCL C, target "opencl".
const KernelImages& OpenClKernelImages();
#endif
#ifdef PENG_CTS_EMU
// cts_kernels.c built for riscv64 (PENG_CTS_EMU_IMAGE), target "rvv".
const KernelImages& EmuKernelImages();
#endif

// The scale kernel's tile: elements per workgroup along dim 0.
inline constexpr uint32_t kScaleTile = 1024;

}  // namespace peng_cts
