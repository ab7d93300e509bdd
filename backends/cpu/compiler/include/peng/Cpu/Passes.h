//===- Passes.h - passes of the CPU targets ---------------------*- C++ -*-===//
//
// Usage: mlir::peng::cpu::registerPengCpuPasses(); then -peng-cpu-entry-points
// in peng-opt, or mlir::peng::cpu::createPengCpuEntryPoints() in a pipeline.
//
//===----------------------------------------------------------------------===//
#ifndef PENG_CPU_PASSES_H
#define PENG_CPU_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::peng::cpu {

#define GEN_PASS_DECL
#include "peng/Cpu/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "peng/Cpu/Passes.h.inc"

} // namespace mlir::peng::cpu

#endif // PENG_CPU_PASSES_H
