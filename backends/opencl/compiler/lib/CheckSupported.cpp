//===- CheckSupported.cpp - what the opencl target compiles today ---------===//
#include "Reductions.h"
#include "peng/OpenCL/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::peng::opencl {
#define GEN_PASS_DEF_PENGOPENCLCHECKSUPPORTED
#include "peng/OpenCL/Passes.h.inc"
} // namespace mlir::peng::opencl

using namespace mlir;

/// Why `op` cannot be compiled for opencl yet, or "" when it can.
static std::string unsupportedReason(Operation *op) {
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
    if (linalgOp.getNumReductionLoops() > 0)
      return mlir::peng::opencl::reductionUnsupportedReason(linalgOp);
    return "";
  }
  if (isa<memref::AllocaOp, memref::AllocOp>(op))
    return "temporaries between ops come in a later version";
  if (isa<memref::GetGlobalOp>(op))
    return "constant tensors come in a later version";
  if (isa<memref::SubViewOp, memref::CollapseShapeOp, memref::ExpandShapeOp, memref::LoadOp,
          memref::StoreOp, memref::DimOp>(op))
    return "";
  if (isa<func::ReturnOp>(op))
    return "";
  Dialect *dialect = op->getDialect();
  if (dialect && isa<arith::ArithDialect, math::MathDialect, scf::SCFDialect,
                     affine::AffineDialect, linalg::LinalgDialect>(dialect))
    return "";
  return "the OpenCL C printer has no translation for it";
}

namespace {
struct PengOpenCLCheckSupportedPass
    : mlir::peng::opencl::impl::PengOpenCLCheckSupportedBase<PengOpenCLCheckSupportedPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal() || !func->hasAttr("peng.kernel"))
      return;
    if (func->hasAttr("peng.workspace")) {
      func.emitOpError("needs a workspace for its temporaries, which is not supported on "
                       "target opencl yet");
      return signalPassFailure();
    }
    bool failed = false;
    func.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (op == func.getOperation())
        return WalkResult::advance();
      std::string why = unsupportedReason(op);
      if (why.empty())
        return WalkResult::advance();
      // Bufferization creates some ops without a location (constant
      // globals): point at their first user, which has the user's.
      Operation *at = op;
      if (isa<UnknownLoc>(op->getLoc()) && !op->getUsers().empty())
        at = *op->getUsers().begin();
      at->emitError() << "'" << op->getName() << "' op is not supported on target opencl: "
                      << why;
      failed = true;
      return WalkResult::interrupt();
    });
    if (failed)
      signalPassFailure();
  }
};
} // namespace
