//===- OpenCLTarget.h - the opencl target of pengc --------------*- C++ -*-===//
//
// pengc's `opencl` target: kernels after the target-independent pipeline
// become OpenCL C 1.2 source, one `__kernel` per kernel, in an executable of
// target "opencl", format "opencl-c" (backends/opencl/runtime runs it).
//
//   PassManager pm(ctx);
//   buildOpenCLPipeline(pm, {});            // loops -> gpu.launch -> gpu.func
//   if (succeeded(pm.run(module)))
//     printOpenCL(module, llvm::outs());    // the source
//
// The route (shared/notes/opencl-route.md): linalg -> scf.parallel ->
// grid-stride loops on work-items inside one gpu.launch
// (peng-opencl-map-work-items) -> gpu-kernel-outlining -> our own printer.
// EmitC and SPIR-V do not serve: EmitC has no work-item ids or address
// spaces, and PoCL does not take SPIR-V.
//
//===----------------------------------------------------------------------===//
#ifndef PENG_OPENCL_OPENCLTARGET_H
#define PENG_OPENCL_OPENCLTARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace mlir::peng::opencl {

/// __local memory the target's temporaries take, at most (within what every
/// OpenCL 1.2 device has, less headroom); larger ones go to the workspace.
constexpr int64_t kMaxLocalBytes = 16 * 1024;

struct OpenCLTargetOptions {
  /// Work-items along x in a work-group, at most.
  int64_t maxWorkgroupSize = 64;
};

/// From pengc's kernel pipeline output (bufferized kernels with a workgroup
/// id) to one outlined gpu.func per kernel, each host kernel carrying
/// `peng.opencl.grid` and `peng.opencl.workgroup_size`.
void buildOpenCLPipeline(OpPassManager &pm, const OpenCLTargetOptions &options);

/// Prints every kernel of a module that went through buildOpenCLPipeline as
/// OpenCL C; `extensions` (optional) receives the OpenCL extensions the code
/// enables (cl_khr_fp64, cl_khr_fp16). Fails with a located diagnostic on an
/// op it cannot print.
LogicalResult printOpenCL(ModuleOp module, llvm::raw_ostream &os,
                          std::vector<std::string> *extensions = nullptr);

/// Adds the target to pengc's TargetRegistry; registers the passes.
void registerOpenCLTargets();
void registerOpenCLPasses();

} // namespace mlir::peng::opencl

#endif // PENG_OPENCL_OPENCLTARGET_H
