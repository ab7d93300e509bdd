//===- Passes.h - Peng compiler passes -------------------------*- C++ -*-===//
//
// Usage: mlir::peng::registerPengPasses(); then -peng-annotate-cost etc. in
// peng-opt, or mlir::peng::createPengAnnotateCost() in a pipeline.
//
//===----------------------------------------------------------------------===//
#ifndef PENG_COMPILER_PASSES_H
#define PENG_COMPILER_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
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
