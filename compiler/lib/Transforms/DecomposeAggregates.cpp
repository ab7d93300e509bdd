//===- DecomposeAggregates.cpp - softmax and friends to generics ----------===//
#include "peng/Compiler/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
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
    // tensor.pack / tensor.unpack (tiled layouts) have no bufferization:
    // they become pad + expand_shape + transpose, and transpose +
    // collapse_shape + extract_slice, which the rest of the pipeline handles.
    SmallVector<Operation *> packs;
    getOperation().walk([&](Operation *op) {
      if (isa<tensor::PackOp, tensor::UnPackOp>(op))
        packs.push_back(op);
    });
    for (Operation *op : packs) {
      rewriter.setInsertionPoint(op);
      bool lowered = isa<tensor::PackOp>(op)
                         ? succeeded(linalg::lowerPack(rewriter, cast<tensor::PackOp>(op)))
                         : succeeded(linalg::lowerUnPack(rewriter, cast<tensor::UnPackOp>(op)));
      if (!lowered) {
        op->emitOpError("cannot be lowered to pad, reshape and transpose");
        return signalPassFailure();
      }
    }
  }
};
} // namespace
