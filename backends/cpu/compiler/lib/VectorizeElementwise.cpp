//===- VectorizeElementwise.cpp - masked vectors for elementwise ops ------===//
#include "peng/Cpu/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Interfaces/TilingInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::peng::cpu {
#define GEN_PASS_DEF_PENGCPUVECTORIZEELEMENTWISE
#include "peng/Cpu/Passes.h.inc"
} // namespace mlir::peng::cpu

using namespace mlir;

/// All loops parallel, buffers, int or float elements, and an output whose
/// innermost dimension is the innermost loop with unit stride.
static bool isCandidate(linalg::LinalgOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumLoops() == 0 ||
      op.getNumParallelLoops() != op.getNumLoops() || op.getNumDpsInits() != 1)
    return false;
  auto out = dyn_cast<MemRefType>(op.getDpsInits()[0].getType());
  if (!out || !out.getElementType().isIntOrFloat() || !isLastMemrefDimUnitStride(out))
    return false;
  AffineMap map = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (!map.isMinorIdentity() || map.getNumResults() != op.getNumLoops())
    return false;
  // Inputs are read along the innermost loop contiguously or broadcast across
  // it. A transposed read would need a gather (or, with scalable vectors, a
  // transpose LLVM cannot lower): such ops stay loops for LLVM.
  unsigned inner = op.getNumLoops() - 1;
  for (OpOperand *in : op.getDpsInputOperands()) {
    AffineMap m = op.getMatchingIndexingMap(in);
    if (!m.isProjectedPermutation())
      return false;
    for (unsigned r = 0; r < m.getNumResults(); ++r)
      if (m.getDimPosition(r) == inner && r + 1 != m.getNumResults())
        return false;
  }
  return true;
}

namespace {
struct PengCpuVectorizeElementwisePass
    : mlir::peng::cpu::impl::PengCpuVectorizeElementwiseBase<PengCpuVectorizeElementwisePass> {
  using PengCpuVectorizeElementwiseBase::PengCpuVectorizeElementwiseBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<linalg::LinalgOp> ops;
    func.walk([&](linalg::LinalgOp op) {
      if (isCandidate(op))
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : ops) {
      unsigned loops = op.getNumLoops();
      rewriter.setInsertionPoint(op);
      Location loc = op.getLoc();
      OpFoldResult lanes = rewriter.getIndexAttr(vectorWidth);
      if (scalable)
        lanes = rewriter
                    .create<arith::MulIOp>(
                        loc, rewriter.create<vector::VectorScaleOp>(loc),
                        rewriter.create<arith::ConstantIndexOp>(loc, vectorWidth))
                    .getResult();
      SmallVector<OpFoldResult> sizes(loops, rewriter.getIndexAttr(1));
      sizes.back() = lanes;
      scf::SCFTilingOptions options;
      options.setTileSizes(sizes);
      FailureOr<scf::SCFTilingResult> tiled =
          scf::tileUsingSCF(rewriter, cast<TilingInterface>(op.getOperation()), options);
      if (failed(tiled)) {
        op.emitOpError("cannot be tiled for vectorization");
        return signalPassFailure();
      }
      rewriter.eraseOp(op);
      SmallVector<int64_t> vectorSizes(loops, 1);
      vectorSizes.back() = vectorWidth;
      SmallVector<bool> scalableDims(loops, false);
      scalableDims.back() = scalable;
      // An op the vectorizer refuses (a gather's loads in its body, say)
      // stays a tiled loop nest: correct, only slower.
      for (Operation *t : tiled->tiledOps)
        (void)linalg::vectorize(rewriter, t, vectorSizes, scalableDims);
    }
    // Masked N-D transfers with unit leading dims become 1-D masked loads
    // and stores.
    RewritePatternSet patterns(&getContext());
    vector::populateVectorMaskLoweringPatternsForSideEffectingOps(patterns);
    vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateVectorTransferLoweringPatterns(patterns, /*maxTransferRank=*/1);
    vector::populateScalarVectorTransferLoweringPatterns(patterns, /*benefit=*/1,
                                                         /*allowMultipleUses=*/true);
    if (failed(applyPatternsAndFoldGreedily(func, std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
