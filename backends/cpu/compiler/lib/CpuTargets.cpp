//===- CpuTargets.cpp - host and rvv as pengc targets ---------------------===//
//
// The CPU backend's entries in pengc's TargetRegistry: `host` (x86-64, one
// variant per --host-cpu) and `rvv` (riscv64 + V, one variant per
// --rvv-vlen). Both split kernels into workgroups of whole matmul register
// tiles and compile through compileCpuModule.
//
//===----------------------------------------------------------------------===//
#include "peng/Compiler/Target.h"
#include "peng/Cpu/CpuTarget.h"
#include "peng/Cpu/Passes.h"

#include <cstdlib>

using namespace mlir;
using namespace mlir::peng;
using namespace mlir::peng::cpu;

namespace {

class CpuVariant : public TargetVariant {
public:
  CpuVariant(CpuTargetOptions options, CpuIsa isa) : options_(options), isa_(std::move(isa)) {}

  std::string describe() const override {
    std::string d = std::string(targetName(options_.arch)) + " (" + isa_.cpu;
    if (options_.rvvVlen)
      d += ", VLEN " + std::to_string(options_.rvvVlen);
    return d + ")";
  }

  LogicalResult emit(ModuleOp module, StringRef stage, llvm::raw_ostream &os) const override {
    EmitStage emit = stage == "mlir" ? EmitStage::Mlir
                     : stage == "llvm" ? EmitStage::Llvm
                                       : EmitStage::Asm;
    return compileCpuModule(module, options_, emit, &os);
  }

  FailureOr<::peng::artifact::Executable>
  compile(ModuleOp module, const std::vector<::peng::artifact::KernelInfo> &kernels,
          const std::vector<::peng::artifact::LaunchInfo> &launches) const override {
    FailureOr<std::vector<uint8_t>> elf = compileCpuModule(module, options_);
    if (failed(elf))
      return failure();
    // One image per variant holds every kernel.
    ::peng::artifact::Executable x =
        makeExecutable(targetName(options_.arch), "elf", std::move(*elf), kernels, launches);
    x.arch = elfArchName(options_.arch);
    x.cpu = isa_.cpu;
    x.features = isa_.features;
    x.min_vlen = x.max_vlen = options_.rvvVlen;
    return x;
  }

private:
  CpuTargetOptions options_;
  CpuIsa isa_;
};

class CpuTargetBase : public Target {
public:
  std::vector<std::string> emitStages() const override { return {"mlir", "llvm", "asm"}; }
  KernelPipelineOptions pipelineOptions() const override {
    KernelPipelineOptions o;
    o.workgroupTileMultiple = kMatmulTileRows;
    // A matmul workgroup of 8 register tiles' rows amortises packing B.
    o.minContractionTile = 8 * kMatmulTileRows;
    return o;
  }

};

class HostTarget : public CpuTargetBase {
public:
  StringRef name() const override { return "host"; }
  std::vector<TargetOption> options() const override {
    return {{"host-cpu",
             "CPU(s) host code is for: an LLVM CPU name (x86-64-v3, x86-64-v4, znver3), native "
             "(this machine), or a list such as x86-64-v4,x86-64-v3 for one variant each; the "
             "runtime runs the best one the machine has",
             "x86-64-v4,x86-64-v3"}};
  }
  FailureOr<std::vector<std::unique_ptr<TargetVariant>>>
  variants(const llvm::StringMap<std::string> &values, std::string *error) const override {
    std::vector<std::unique_ptr<TargetVariant>> out;
    std::vector<std::string> cpus = splitList(values.lookup("host-cpu"));
    if (cpus.empty()) {
      *error = "--host-cpu: no CPU named";
      return failure();
    }
    std::vector<std::string> seen;
    for (const std::string &c : cpus) {
      CpuTargetOptions options;
      options.hostCpu = c;
      std::string why;
      FailureOr<CpuIsa> isa = resolveIsa(options, &why);
      if (failed(isa)) {
        *error = "--host-cpu: " + why;
        return failure();
      }
      if (llvm::is_contained(seen, isa->cpu)) {
        *error = "two host variants for " + isa->cpu;
        return failure();
      }
      seen.push_back(isa->cpu);
      out.push_back(std::make_unique<CpuVariant>(options, *isa));
    }
    return out;
  }
};

class RvvTarget : public CpuTargetBase {
public:
  StringRef name() const override { return "rvv"; }
  std::vector<TargetOption> options() const override {
    return {{"rvv-vlen",
             "any (VLEN-agnostic), a VLEN such as 256, or a list like any,256 for extra "
             "VLEN-specialised variants",
             "any"}};
  }
  FailureOr<std::vector<std::unique_ptr<TargetVariant>>>
  variants(const llvm::StringMap<std::string> &values, std::string *error) const override {
    std::vector<unsigned> vlens;
    for (const std::string &v : splitList(values.lookup("rvv-vlen"))) {
      unsigned n = 0;
      if (v != "any") {
        char *rest = nullptr;
        unsigned long parsed = std::strtoul(v.c_str(), &rest, 10);
        if (*rest || parsed < 128 || parsed > 65536 || (parsed & (parsed - 1))) {
          *error = "--rvv-vlen: '" + v + "' is not 'any' or a power of two from 128";
          return failure();
        }
        n = unsigned(parsed);
      }
      if (llvm::is_contained(vlens, n)) {
        *error = "--rvv-vlen: '" + v + "' is named twice";
        return failure();
      }
      vlens.push_back(n);
    }
    if (vlens.empty()) {
      *error = "--rvv-vlen: no VLEN named";
      return failure();
    }
    std::vector<std::unique_ptr<TargetVariant>> out;
    for (unsigned vlen : vlens) {
      CpuTargetOptions options;
      options.arch = CpuArch::Rvv;
      options.rvvVlen = vlen;
      FailureOr<CpuIsa> isa = resolveIsa(options, error);
      if (failed(isa))
        return failure();
      out.push_back(std::make_unique<CpuVariant>(options, *isa));
    }
    return out;
  }
};

} // namespace

void mlir::peng::cpu::registerCpuTargets() {
  TargetRegistry::get().add(std::make_unique<HostTarget>());
  TargetRegistry::get().add(std::make_unique<RvvTarget>());
}

void mlir::peng::cpu::registerCpuPasses() { registerPengCpuPasses(); }
