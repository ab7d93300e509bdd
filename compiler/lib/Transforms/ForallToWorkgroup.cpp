//===- ForallToWorkgroup.cpp - the workgroup loop becomes an argument -----===//
#include "peng/Compiler/Passes.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::peng {
#define GEN_PASS_DEF_PENGFORALLTOWORKGROUP
#include "peng/Compiler/Passes.h.inc"
} // namespace mlir::peng

using namespace mlir;

static LogicalResult inlineWorkgroupLoop(func::FuncOp func, Value workgroupId) {
  SmallVector<scf::ForallOp> loops;
  for (Operation &op : func.getBody().front())
    if (auto forall = dyn_cast<scf::ForallOp>(op))
      loops.push_back(forall);
  if (loops.empty())
    return success();
  if (loops.size() > 1)
    return loops[1].emitOpError("is a second workgroup loop; a kernel has one");
  scf::ForallOp forall = loops.front();
  if (forall.getRank() != 1 || forall.getNumResults() != 0)
    return forall.emitOpError("workgroup loop must be one-dimensional and bufferized");

  IRRewriter rewriter(func.getContext());
  rewriter.setInsertionPoint(forall);
  Location loc = forall.getLoc();
  Value lb = getValueOrCreateConstantIndexOp(rewriter, loc, forall.getMixedLowerBound()[0]);
  Value ub = getValueOrCreateConstantIndexOp(rewriter, loc, forall.getMixedUpperBound()[0]);
  Value step = getValueOrCreateConstantIndexOp(rewriter, loc, forall.getMixedStep()[0]);
  Value offset = rewriter.create<arith::MulIOp>(loc, workgroupId, step);
  Value iv = rewriter.create<arith::AddIOp>(loc, lb, offset);
  // A grid larger than the loop (a caller's mistake) must not write out of bounds.
  Value inRange = rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, iv, ub);
  auto guard = rewriter.create<scf::IfOp>(loc, inRange, /*withElseRegion=*/false);
  Block *body = forall.getBody();
  rewriter.eraseOp(body->getTerminator());
  rewriter.inlineBlockBefore(body, guard.thenBlock()->getTerminator(), ValueRange{iv});
  rewriter.eraseOp(forall);
  return success();
}

namespace {
struct PengForallToWorkgroupPass
    : mlir::peng::impl::PengForallToWorkgroupBase<PengForallToWorkgroupPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal() || !func->hasAttr("peng.kernel"))
      return;
    unsigned index = func.getNumArguments();
    func.insertArgument(index, IndexType::get(&getContext()), {}, func.getLoc());
    if (failed(inlineWorkgroupLoop(func, func.getArgument(index))))
      return signalPassFailure();
  }
};
} // namespace
