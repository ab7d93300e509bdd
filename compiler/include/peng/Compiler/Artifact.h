//===- Artifact.h - kernel metadata for module.peng -------------*- C++ -*-===//
//
// Reads what module.peng records about each kernel from the IR: its
// signature (before the kernel ABI rewrite), FLOP and byte counts
// (peng-annotate-cost) and launch metadata (peng-distribute-workgroups,
// peng-allocate-workspace). Each target then adds an executable whose entries
// are the kernels, and artifact::Serialize writes the file.
//
//===----------------------------------------------------------------------===//
#ifndef PENG_COMPILER_ARTIFACT_H
#define PENG_COMPILER_ARTIFACT_H

#include "artifact/module_file.h"

#include "mlir/IR/BuiltinOps.h"

#include <vector>

namespace mlir::peng {

/// One entry per public func.func: name, arguments (inputs read, results
/// written), flops, bytes and the argument pairs safe in place. Call after the
/// frontend pipeline.
FailureOr<std::vector<::peng::artifact::KernelInfo>> collectKernels(ModuleOp module);

/// Each kernel's launch metadata from its `peng.grid` and `peng.workspace`, in
/// the order of `kernels`. Call after the kernel pipeline.
FailureOr<std::vector<::peng::artifact::LaunchInfo>>
collectLaunches(ModuleOp module, const std::vector<::peng::artifact::KernelInfo> &kernels);

} // namespace mlir::peng

#endif // PENG_COMPILER_ARTIFACT_H
