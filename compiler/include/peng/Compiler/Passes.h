//===- Passes.h - Peng compiler passes -------------------------*- C++ -*-===//
//
// Usage: mlir::peng::registerPengPasses(); then -peng-annotate-cost etc. in
// peng-opt, or mlir::peng::createPengAnnotateCost() in a pipeline.
//
//===----------------------------------------------------------------------===//
#ifndef PENG_COMPILER_PASSES_H
#define PENG_COMPILER_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Pass/Pass.h"

namespace mlir::peng {

#define GEN_PASS_DECL
#include "peng/Compiler/Passes.h.inc"

/// Static FLOPs of one linalg op; failure if a loop range is dynamic.
FailureOr<int64_t> countFlops(linalg::LinalgOp op);

#define GEN_PASS_REGISTRATION
#include "peng/Compiler/Passes.h.inc"

} // namespace mlir::peng

#endif // PENG_COMPILER_PASSES_H
