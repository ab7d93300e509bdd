//===- Gemm.h - the opencl target's tiled matmul kernel ---------*- C++ -*-===//
//
// Kernels that peng-opencl-match-contractions recognised (`peng.opencl.gemm`
// on the function) are printed from one tiled kernel whose tile shapes the
// program build picks from the device's limits (PENG_DEVICE_* macros, which
// backends/opencl/runtime passes as build options). Shared printing helpers
// of the OpenCL C printer live here too.
//
//===----------------------------------------------------------------------===//
#ifndef PENG_OPENCL_GEMM_H
#define PENG_OPENCL_GEMM_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/raw_ostream.h"

#include <set>
#include <string>

namespace mlir::peng::opencl {

/// The output block (rows and columns) one work-group stands for in the
/// grid rule. The kernel strides over its tiles, so this only sizes the grid.
constexpr int64_t kGemmGridTile = 64;

/// OpenCL C spellings (Printer.cpp).
std::string scalarType(Type t);   // "" when there is none
std::string unsignedType(Type t); // of the same width
std::string floatLiteral(FloatAttr attr);
std::string integerLiteral(IntegerAttr attr);

/// Prints the kernel of a function carrying `peng.opencl.gemm`. Adds the
/// extensions its types need to `extensions` and its accumulator type to
/// `accumulators` (each needs a line of the preamble).
LogicalResult printGemmKernel(func::FuncOp func, llvm::raw_ostream &os,
                              std::set<std::string> &extensions,
                              std::set<std::string> &accumulators);

/// The tile-shape choice, once per program, before the kernels.
void printGemmPreamble(llvm::raw_ostream &os, const std::set<std::string> &accumulators);

} // namespace mlir::peng::opencl

#endif // PENG_OPENCL_GEMM_H
