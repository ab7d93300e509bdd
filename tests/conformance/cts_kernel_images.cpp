#include "cts_kernel_images.h"

#include <algorithm>
#include <array>

#include "cts_kernels.h"

#if defined(PENG_CTS_OPENCL) || defined(PENG_CTS_EMU)
#include "artifact/module_file.h"
#endif
#ifdef PENG_CTS_EMU
#include <fstream>
#include <iterator>
#endif
#ifdef PENG_CTS_OPENCL

// cts_kernels.cl, embedded by CMake (cts_kernels_cl.cpp.in).
extern "C" const char peng_cts_opencl_source[];
#endif

namespace peng_cts {
namespace {

// The runtime tests' kernel signatures, shared by every image.
const peng_arg_desc_t kGridArgs[] = {
    {PENG_DTYPE_I32, PENG_ACCESS_WRITE, 3, {-1, -1, -1}},
    {PENG_DTYPE_I32, PENG_ACCESS_READWRITE, 3, {-1, -1, -1}},
};
const peng_arg_desc_t kBytesArg[] = {{PENG_DTYPE_U8, PENG_ACCESS_READWRITE, 1, {-1}}};
const peng_arg_desc_t kCounterArg[] = {{PENG_DTYPE_I32, PENG_ACCESS_READWRITE, 1, {1}}};
const peng_arg_desc_t kMarkerArg[] = {{PENG_DTYPE_I32, PENG_ACCESS_WRITE, 1, {1}}};
// ids: one workgroup per element of its rank-3 tensor.
const peng_grid_dim_t kGridIds[3] = {{0, 0, 1}, {0, 1, 1}, {0, 2, 1}};
const peng_grid_dim_t kGridScale[3] = {{0, 0, kScaleTile}, {}, {}};

peng_status_t FindKernels(RuntimeKernels* k) {
  peng_module_find_kernel(k->module, "ids", &k->ids);
  peng_module_find_kernel(k->module, "scale", &k->scale);
  if (k->no_fail.empty()) peng_module_find_kernel(k->module, "fail", &k->fail);
  return peng_module_find_kernel(k->module, "mark", &k->mark);
}

#if defined(PENG_CTS_OPENCL) || defined(PENG_CTS_EMU)
// The runtime tests' kernels (ids, scale, fail, mark) as a module.peng with
// one code executable `x` (target, format, code and features set): `symbols`
// name each kernel's entry in that order; an empty one leaves the kernel out.
peng_status_t LoadCodeModule(peng_runtime_t rt, const char* name, peng::artifact::Executable x,
                             const std::array<const char*, 4>& symbols, RuntimeKernels* k) {
  namespace art = peng::artifact;
  auto arg = [](const peng_arg_desc_t& d) {
    return art::ArgInfo{d.dtype, d.access, std::vector<int64_t>(d.shape, d.shape + d.rank)};
  };
  struct Def {
    const char* name;
    std::vector<art::ArgInfo> args;
    uint32_t constants;
    const peng_grid_dim_t* grid;
  };
  const Def defs[4] = {{"ids", {arg(kGridArgs[0]), arg(kGridArgs[1])}, 3, kGridIds},
                       {"scale", {arg(kBytesArg[0])}, 1, kGridScale},
                       {"fail", {arg(kCounterArg[0])}, 1, nullptr},
                       {"mark", {arg(kMarkerArg[0])}, 1, nullptr}};
  art::ModuleFile m;
  m.producer = "peng_conformance_test";
  for (size_t i = 0; i < symbols.size(); ++i) {
    if (!*symbols[i]) continue;
    art::KernelInfo info;
    info.name = defs[i].name;
    info.args = defs[i].args;
    info.constant_count = defs[i].constants;
    art::Entry e;
    e.kernel = uint32_t(m.kernels.size());
    e.symbol = symbols[i];
    if (defs[i].grid) std::copy(defs[i].grid, defs[i].grid + 3, e.launch.grid);
    m.kernels.push_back(std::move(info));
    x.entries.push_back(std::move(e));
  }
  m.executables.push_back(std::move(x));
  std::vector<uint8_t> bytes = art::Serialize(m);
  peng_status_t st = peng_module_load(rt, name, bytes.data(), bytes.size(), &k->module);
  if (st != PENG_OK) return st;
  return FindKernels(k);
}
#endif

// --------------------------------------------------------------------- host

class HostImages : public KernelImages {
 public:
  std::string HalCode(CtsKernel kernel, const peng_device_info_t&,
                      HalKernelCode* out) const override {
    switch (kernel) {
      case CtsKernel::kWorkgroupIds:
        Fill("ids", cts_write_workgroup_ids, out);
        break;
      case CtsKernel::kFailOnWorkgroup:
        Fill("fail", cts_fail_on_workgroup, out);
        break;
      case CtsKernel::kIncrement:
        Fill("inc", cts_increment, out);
        break;
      case CtsKernel::kSpinUntilFlag:
        Fill("spin", cts_spin_until_flag, out);
        break;
      case CtsKernel::kClaimThreadIndex:
        Fill("claim", cts_claim_thread_index, out);
        break;
    }
    return "";
  }

  peng_status_t LoadRuntimeKernels(peng_runtime_t rt, RuntimeKernels* k) const override {
    peng_native_kernel_def_t defs[] = {
        {"ids", "host", cts_write_workgroup_ids, 2, kGridArgs, 3, {}, nullptr},
        {"scale", "host", cts_scale_bytes, 1, kBytesArg, 1, {}, nullptr},
        {"fail", "host", cts_fail_on_workgroup, 1, kCounterArg, 1, {}, nullptr},
        {"mark", "host", cts_mark, 1, kMarkerArg, 1, {}, nullptr},
    };
    std::copy(kGridIds, kGridIds + 3, defs[0].grid);
    std::copy(kGridScale, kGridScale + 3, defs[1].grid);
    peng_status_t st = peng_module_create_native(rt, "cts", defs, 4, &k->module);
    if (st != PENG_OK) return st;
    return FindKernels(k);
  }

 private:
  static void Fill(const char* name, peng_kernel_fn_t fn, HalKernelCode* out) {
    out->name = name;
    out->entry.name = out->name.c_str();
    out->entry.fn = fn;
    out->entry.workgroup_size[0] = out->entry.workgroup_size[1] = out->entry.workgroup_size[2] = 1;
    out->spec.target = "host";
    out->spec.format = "native";
    out->spec.features = "";
    out->spec.entry_count = 1;
    out->spec.entries = &out->entry;
  }
};

// ------------------------------------------------------------------- opencl

#ifdef PENG_CTS_OPENCL

// The 64-bit counter of cts_increment needs 64-bit atomics.
constexpr char kOpenClFeatures[] = "cl_khr_int64_base_atomics";

class OpenClImages : public KernelImages {
 public:
  std::string HalCode(CtsKernel kernel, const peng_device_info_t& device,
                      HalKernelCode* out) const override {
    switch (kernel) {
      case CtsKernel::kWorkgroupIds:
        Fill("ids", "cts_write_workgroup_ids", out);
        break;
      case CtsKernel::kFailOnWorkgroup:
        return "OpenCL C has no way for a kernel to fail its launch (no return status, no trap)";
      case CtsKernel::kIncrement:
        Fill("inc", "cts_increment", out);
        break;
      case CtsKernel::kSpinUntilFlag:
        // The flag is a host variable passed by address. An OpenCL CPU device
        // runs its kernels in this process (PoCL's pthread device), so they
        // see it; a GPU or an accelerator does not share our address space.
        if (device.kind != PENG_DEVICE_CPU) {
          return "the busy kernel spins on a host variable by address, which only an OpenCL CPU "
                 "device (in this process) can read";
        }
        Fill("spin", "cts_spin_until_flag", out);
        break;
      case CtsKernel::kClaimThreadIndex:
        return "the thread-index promise belongs to the help slot, which runs host work";
    }
    return "";
  }

  peng_status_t LoadRuntimeKernels(peng_runtime_t rt, RuntimeKernels* k) const override {
    peng::artifact::Executable x;
    x.target = "opencl";
    x.format = "opencl-c";
    x.features = {kOpenClFeatures};
    std::string source = peng_cts_opencl_source;
    x.code.assign(source.begin(), source.end());
    k->no_fail = "OpenCL C has no way for a kernel to fail its launch";
    return LoadCodeModule(rt, "cts-opencl", std::move(x),
                          {"cts_write_workgroup_ids_3d", "cts_scale_bytes", "", "cts_mark"}, k);
  }

 private:
  static void Fill(const char* name, const char* symbol, HalKernelCode* out) {
    out->name = name;
    out->symbol = symbol;
    out->source = peng_cts_opencl_source;
    out->entry.name = out->name.c_str();
    out->entry.symbol = out->symbol.c_str();
    // One work-item per work-group: a work-group id is a CPU workgroup id.
    out->entry.workgroup_size[0] = out->entry.workgroup_size[1] = out->entry.workgroup_size[2] = 1;
    out->spec.target = "opencl";
    out->spec.format = "opencl-c";
    out->spec.code = out->source.data();
    out->spec.code_size = out->source.size();
    out->spec.features = kOpenClFeatures;
    out->spec.entry_count = 1;
    out->spec.entries = &out->entry;
  }
};

#endif  // PENG_CTS_OPENCL


// ---------------------------------------------------------------------- emu

#ifdef PENG_CTS_EMU

// cts_kernels.c, built for riscv64 by this build (tests/conformance/CMakeLists.txt).
const std::string& EmuImage() {
  static const std::string image = [] {
    std::ifstream in(PENG_CTS_EMU_IMAGE, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }();
  return image;
}

class EmuImages : public KernelImages {
 public:
  std::string HalCode(CtsKernel kernel, const peng_device_info_t&,
                      HalKernelCode* out) const override {
    if (EmuImage().empty()) return std::string("no riscv64 image at ") + PENG_CTS_EMU_IMAGE;
    switch (kernel) {
      case CtsKernel::kWorkgroupIds:
        Fill("ids", "cts_write_workgroup_ids", out);
        break;
      case CtsKernel::kFailOnWorkgroup:
        Fill("fail", "cts_fail_on_workgroup", out);
        break;
      case CtsKernel::kIncrement:
        Fill("inc", "cts_increment", out);
        break;
      case CtsKernel::kSpinUntilFlag:
        return "the busy kernel spins on a host variable by address; an emulated device runs in "
               "a process of its own";
      case CtsKernel::kClaimThreadIndex:
        return "the thread-index promise belongs to the help slot, which runs host work";
    }
    return "";
  }

  peng_status_t LoadRuntimeKernels(peng_runtime_t rt, RuntimeKernels* k) const override {
    peng::artifact::Executable x;
    x.target = "rvv";
    x.format = "elf";
    x.arch = "riscv64";
    x.features = {"v"};
    x.code.assign(EmuImage().begin(), EmuImage().end());
    return LoadCodeModule(rt, "cts-emu", std::move(x),
                          {"cts_write_workgroup_ids", "cts_scale_bytes", "cts_fail_on_workgroup",
                           "cts_mark"},
                          k);
  }

 private:
  static void Fill(const char* name, const char* symbol, HalKernelCode* out) {
    out->name = name;
    out->symbol = symbol;
    out->entry.name = out->name.c_str();
    out->entry.symbol = out->symbol.c_str();
    out->entry.workgroup_size[0] = out->entry.workgroup_size[1] = out->entry.workgroup_size[2] = 1;
    out->spec.target = "rvv";
    out->spec.format = "elf";
    out->spec.arch = "riscv64";
    out->spec.code = EmuImage().data();
    out->spec.code_size = EmuImage().size();
    out->spec.features = "v";
    out->spec.entry_count = 1;
    out->spec.entries = &out->entry;
  }
};

#endif  // PENG_CTS_EMU

}  // namespace

const KernelImages& HostKernelImages() {
  static const HostImages images;
  return images;
}

#ifdef PENG_CTS_OPENCL
const KernelImages& OpenClKernelImages() {
  static const OpenClImages images;
  return images;
}
#endif

#ifdef PENG_CTS_EMU
const KernelImages& EmuKernelImages() {
  static const EmuImages images;
  return images;
}
#endif

}  // namespace peng_cts
