//===- CpuTarget.h - pengc's CPU targets: host and rvv ----------*- C++ -*-===//
//
// The compiler half of backends/cpu. It takes a kernel module that the
// target-independent pipeline has bufferized and split into workgroups, and
// produces one self-contained ELF image (no imports, position independent)
// that backends/cpu/runtime's loader runs:
//
//   CpuTargetOptions options{CpuArch::Rvv};
//   FailureOr<std::vector<uint8_t>> elf = compileCpuModule(module, options);
//
// `host` is x86-64 for a named CPU (x86-64-v3 unless told otherwise, never
// silently the build machine); `rvv` is riscv64 + V, VLEN-agnostic unless
// rvvVlen is set.
//
//===----------------------------------------------------------------------===//
#ifndef PENG_CPU_CPUTARGET_H
#define PENG_CPU_CPUTARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::peng::cpu {

enum class CpuArch { Host, Rvv };

struct CpuTargetOptions {
  CpuArch arch = CpuArch::Host;
  /// 0: code for any VLEN (scalable vectors). Otherwise code valid only at
  /// this VLEN, which the runtime selects from vlenb at load time.
  unsigned rvvVlen = 0;
  /// Host: the CPU the code is for, an LLVM CPU name ("x86-64-v3",
  /// "x86-64-v4", "znver3") or "native" (the machine pengc runs on). The code
  /// needs that CPU's ISA features, and module.peng records them.
  std::string hostCpu = "x86-64-v3";
};

/// What a target's code needs from the CPU that runs it.
struct CpuIsa {
  std::string cpu;                   ///< resolved CPU name ("native" becomes the host's)
  std::vector<std::string> features; ///< of backends/cpu/common/isa_features.h
};

/// The CPU and ISA features code for `options` needs; fails with *error for a
/// CPU name LLVM does not know.
FailureOr<CpuIsa> resolveIsa(const CpuTargetOptions &options, std::string *error);

/// Which stage compileCpuModule prints instead of producing code.
enum class EmitStage { Code, Mlir, Llvm, Asm };

/// The target name in module.peng ("host", "rvv") and the ELF arch the
/// runtime checks ("x86_64", "riscv64").
const char *targetName(CpuArch arch);
const char *elfArchName(CpuArch arch);

/// Rows of the matmul register tile on both CPU targets; workgroup tiles are
/// best a multiple of it.
constexpr int64_t kMatmulTileRows = 6;

/// Adds the MLIR passes from a distributed, bufferized kernel module down to
/// the LLVM dialect with ABI entry points.
void buildCpuCodegenPipeline(OpPassManager &pm, const CpuTargetOptions &options);
void buildCpuToLLVMPipeline(OpPassManager &pm, const CpuTargetOptions &options);

/// Compiles a copy of `module`. For EmitStage::Code, returns the linked ELF
/// image; otherwise prints the stage to `out` and returns an empty vector.
/// Errors are reported as diagnostics on the module.
FailureOr<std::vector<uint8_t>> compileCpuModule(ModuleOp module, const CpuTargetOptions &options,
                                                 EmitStage emit = EmitStage::Code,
                                                 llvm::raw_ostream *out = nullptr);

/// Adds `host` and `rvv` to pengc's TargetRegistry (peng/Compiler/Target.h).
void registerCpuTargets();
/// Registers the CPU passes (for peng-opt); not inline, unlike the generated
/// registerPengCpuPasses, so that a generated list can call it.
void registerCpuPasses();

} // namespace mlir::peng::cpu

#endif // PENG_CPU_CPUTARGET_H
