//===- AnnotateCost.cpp - FLOP and byte counts for the cost models --------===//
#include "peng/Compiler/Passes.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

namespace mlir::peng {
#define GEN_PASS_DEF_PENGANNOTATECOST
#include "peng/Compiler/Passes.h.inc"
} // namespace mlir::peng

using namespace mlir;

FailureOr<int64_t> mlir::peng::countFlops(linalg::LinalgOp op) {
  int64_t iterations = 1;
  for (int64_t range : op.getStaticLoopRanges()) {
    if (ShapedType::isDynamic(range))
      return failure();
    iterations *= range;
  }
  // A contraction's iteration is a multiply and an add.
  if (isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op.getOperation()) ||
      linalg::isaContractionOpInterface(op))
    return 2 * iterations;
  return iterations;
}

static int64_t staticBytes(Type type) {
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped || !shaped.hasStaticShape() || !shaped.getElementType().isIntOrFloat())
    return 0;
  return shaped.getNumElements() *
         ((shaped.getElementType().getIntOrFloatBitWidth() + 7) / 8);
}

namespace {
struct PengAnnotateCostPass
    : mlir::peng::impl::PengAnnotateCostBase<PengAnnotateCostPass> {
  using PengAnnotateCostBase::PengAnnotateCostBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    int64_t flops = 0;
    WalkResult result = func.walk([&](linalg::LinalgOp op) {
      FailureOr<int64_t> count = mlir::peng::countFlops(op);
      if (succeeded(count)) {
        flops += *count;
        return WalkResult::advance();
      }
      if (allowDynamic)
        return WalkResult::advance();
      op->emitOpError("has dynamic loop ranges: its FLOPs cannot be counted "
                      "(use allow-dynamic to skip such ops)");
      return WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      return signalPassFailure();

    int64_t bytes = 0;
    for (Type t : func.getFunctionType().getInputs())
      bytes += staticBytes(t);
    for (Type t : func.getFunctionType().getResults())
      bytes += staticBytes(t);
    auto i64 = IntegerType::get(&getContext(), 64);
    func->setAttr("peng.flops", IntegerAttr::get(i64, flops));
    func->setAttr("peng.bytes", IntegerAttr::get(i64, bytes));
  }
};
} // namespace
