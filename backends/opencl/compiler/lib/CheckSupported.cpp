//===- CheckSupported.cpp - what the opencl target compiles today ---------===//
#include "Reductions.h"
#include "peng/OpenCL/OpenCLTarget.h"
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
using mlir::peng::opencl::kMaxLocalBytes;

/// __local memory a kernel's temporaries may take: OpenCL 1.2 promises a
/// full-profile device 32 KiB.

/// Why `op` cannot be compiled for opencl yet, or "" when it can.
static std::string unsupportedReason(Operation *op) {
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
    if (linalgOp.getNumReductionLoops() > 0)
      return mlir::peng::opencl::reductionUnsupportedReason(linalgOp);
    return "";
  }
  if (auto alloca = dyn_cast<memref::AllocaOp>(op)) {
    MemRefType type = alloca.getType();
    if (!type.hasStaticShape() || !type.getLayout().isIdentity())
      return "temporaries of dynamic shape or strided layout come in a later version";
    return "";
  }
  // A temporary in the workspace (peng-allocate-workspace): global scratch
  // memory the runtime gives each work-group along z.
  if (auto view = dyn_cast<memref::ViewOp>(op)) {
    if (!view.getType().hasStaticShape() || !isa<BlockArgument>(view.getSource()))
      return "temporaries of dynamic shape come in a later version";
    return "";
  }
  if (isa<memref::AllocOp>(op))
    return "temporaries on the heap come in a later version";
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
    // Temporaries go to __local memory (one work-group runs the
    // workgroup): within what every OpenCL 1.2 device has, less headroom.
    int64_t localBytes = 0;
    func.walk([&](memref::AllocaOp alloca) {
      MemRefType type = alloca.getType();
      if (type.hasStaticShape() && type.getElementType().isIntOrFloat())
        localBytes += type.getNumElements() *
                      llvm::divideCeil(type.getElementType().getIntOrFloatBitWidth(), 8);
    });
    if (localBytes > kMaxLocalBytes) {
      func.emitOpError("needs ")
          << localBytes << " bytes of temporaries, more than the " << kMaxLocalBytes
          << " bytes of __local memory target opencl gives a kernel";
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
