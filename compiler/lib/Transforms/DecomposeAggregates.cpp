//===- DecomposeAggregates.cpp - softmax and friends to generics ----------===//
#include "peng/Compiler/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::peng {
#define GEN_PASS_DEF_PENGDECOMPOSEAGGREGATES
#include "peng/Compiler/Passes.h.inc"
} // namespace mlir::peng

using namespace mlir;

namespace {
struct PengDecomposeAggregatesPass
    : mlir::peng::impl::PengDecomposeAggregatesBase<PengDecomposeAggregatesPass> {
  void runOnOperation() override {
    SmallVector<linalg::AggregatedOpInterface> ops;
    getOperation().walk([&](linalg::AggregatedOpInterface op) { ops.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (linalg::AggregatedOpInterface op : ops) {
      rewriter.setInsertionPoint(op);
      FailureOr<SmallVector<Value>> values = op.decomposeOperation(rewriter);
      if (failed(values)) {
        op->emitOpError("cannot be decomposed into structured ops");
        return signalPassFailure();
      }
      rewriter.replaceOp(op, *values);
    }
  }
};
} // namespace
