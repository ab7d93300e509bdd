//===- CheckSupported.cpp - reject what pengc cannot compile --------------===//
#include "peng/Compiler/Passes.h"

#include "mlir/Dialect/Math/IR/Math.h"

namespace mlir::peng {
#define GEN_PASS_DEF_PENGCHECKSUPPORTED
#include "peng/Compiler/Passes.h.inc"
} // namespace mlir::peng

using namespace mlir;

static bool isSupportedElementType(Type t) {
  if (t.isF32() || t.isF16() || t.isBF16() || t.isF64())
    return true;
  auto i = dyn_cast<IntegerType>(t);
  return i && !i.isUnsigned() && llvm::is_contained({8u, 16u, 32u, 64u}, i.getWidth());
}

static LogicalResult checkBoundaryType(func::FuncOp func, Type t, StringRef what,
                                       unsigned index) {
  auto tensor = dyn_cast<RankedTensorType>(t);
  if (!tensor)
    return func.emitOpError() << what << " #" << index << " has type " << t
                              << "; kernels take and return ranked tensors";
  if (!tensor.hasStaticShape())
    return func.emitOpError() << what << " #" << index << " has type " << t
                              << "; dynamic shapes are not supported yet";
  if (!isSupportedElementType(tensor.getElementType()))
    return func.emitOpError() << what << " #" << index << " has element type "
                              << tensor.getElementType() << ", which pengc does not support";
  if (tensor.getRank() > 8)
    return func.emitOpError() << what << " #" << index << " has rank above 8";
  return success();
}

namespace {
struct PengCheckSupportedPass
    : mlir::peng::impl::PengCheckSupportedBase<PengCheckSupportedPass> {
  void runOnOperation() override {
    bool ok = true;
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isPrivate())
        continue;
      for (auto [i, t] : llvm::enumerate(func.getArgumentTypes()))
        ok &= succeeded(checkBoundaryType(func, t, "argument", i));
      for (auto [i, t] : llvm::enumerate(func.getResultTypes()))
        ok &= succeeded(checkBoundaryType(func, t, "result", i));
      if (func.getNumResults() == 0) {
        func.emitOpError("returns nothing; a kernel returns its output tensors");
        ok = false;
      }
    }
    getOperation().walk([&](Operation *op) {
      Dialect *dialect = op->getDialect();
      StringRef ns = dialect ? dialect->getNamespace() : "";
      bool known = llvm::is_contained({"builtin", "func", "linalg", "tensor", "arith", "math",
                                       "affine", "scf"},
                                      ns);
      if (!known || isa<func::CallOp, func::CallIndirectOp>(op)) {
        op->emitOpError("is not supported by pengc");
        ok = false;
      }
    });
    if (!ok)
      signalPassFailure();
  }
};
} // namespace
