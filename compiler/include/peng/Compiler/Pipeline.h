//===- Pipeline.h - pengc's target-independent pipeline ---------*- C++ -*-===//
//
// From a user's kernel module (linalg on tensors, or TOSA) to a bufferized
// module of kernels split into workgroups, ready for a target's code
// generator (backends/*/compiler):
//
//   PassManager pm(ctx);
//   buildFrontendPipeline(pm);        // TOSA -> linalg, checks, fusion, costs
//   ... read the kernel signatures (Artifact.h) ...
//   buildKernelPipeline(pm2, {});     // kernel ABI, workgroups, bufferization
//
//===----------------------------------------------------------------------===//
#ifndef PENG_COMPILER_PIPELINE_H
#define PENG_COMPILER_PIPELINE_H

#include "mlir/Pass/PassManager.h"

namespace mlir::peng {

struct KernelPipelineOptions {
  /// Upper bound on workgroups along the split dimension.
  int64_t maxWorkgroups = 32;
  /// Workgroup tiles are rounded up to a multiple of this (the targets'
  /// register-tile rows).
  int64_t workgroupTileMultiple = 1;
  /// Smallest workgroup tile of a kernel whose root has reductions (matmul).
  int64_t minContractionTile = 1;
};

/// TOSA to linalg, support checks, decomposition of aggregates, elementwise
/// fusion, and FLOP/byte annotation. The module stays on tensors with its
/// original function signatures.
void buildFrontendPipeline(OpPassManager &pm);

/// Kernel ABI (buffers at the boundary), workgroup distribution, one-shot
/// bufferization with stack temporaries, and the workgroup id argument.
void buildKernelPipeline(OpPassManager &pm, const KernelPipelineOptions &options);

} // namespace mlir::peng

#endif // PENG_COMPILER_PIPELINE_H
