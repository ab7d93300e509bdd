//===- Passes.h - passes of the opencl target -------------------*- C++ -*-===//
//
// Usage: mlir::peng::opencl::registerPengOpenCLPasses(); then
// -peng-opencl-map-work-items in peng-opt, or
// mlir::peng::opencl::createPengOpenCLMapWorkItems() in a pipeline.
//
//===----------------------------------------------------------------------===//
#ifndef PENG_OPENCL_PASSES_H
#define PENG_OPENCL_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"

namespace mlir::peng::opencl {

#define GEN_PASS_DECL
#include "peng/OpenCL/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "peng/OpenCL/Passes.h.inc"

} // namespace mlir::peng::opencl

#endif // PENG_OPENCL_PASSES_H
