//===- DistributeWorkgroups.cpp - split a kernel into workgroups ----------===//
#include "peng/Compiler/Passes.h"

#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/TilingInterface.h"

namespace mlir::peng {
#define GEN_PASS_DEF_PENGDISTRIBUTEWORKGROUPS
#include "peng/Compiler/Passes.h.inc"
} // namespace mlir::peng

using namespace mlir;

namespace {
/// Where the workgroup split happens, and how it shows in the grid rule.
struct Split {
  linalg::LinalgOp root;
  unsigned loop;     // the root's loop that is split
  int64_t outputArg; // kernel argument the grid is measured on
  int64_t outputDim; // its dimension that the loop walks
  int64_t tile;
};
} // namespace

static FailureOr<Split> chooseSplit(func::FuncOp func, int64_t maxWorkgroups,
                                    int64_t minContractionTile, int64_t tileMultiple) {
  SmallVector<bufferization::MaterializeInDestinationOp> outs;
  func.walk([&](bufferization::MaterializeInDestinationOp m) { outs.push_back(m); });
  if (outs.size() != 1)
    return failure();
  auto dest = dyn_cast<BlockArgument>(outs.front().getDest());
  auto result = dyn_cast<OpResult>(outs.front().getSource());
  if (!dest || !result)
    return failure();
  auto root = dyn_cast<linalg::LinalgOp>(result.getOwner());
  if (!root || !isa<TilingInterface>(root.getOperation()))
    return failure();
  SmallVector<utils::IteratorType> iterators = root.getIteratorTypesArray();
  SmallVector<int64_t> ranges = root.getStaticLoopRanges();
  auto it = llvm::find(iterators, utils::IteratorType::parallel);
  if (it == iterators.end())
    return failure();
  unsigned loop = it - iterators.begin();
  int64_t extent = ranges[loop];
  if (ShapedType::isDynamic(extent) || extent <= 1)
    return failure();
  AffineMap map =
      root.getMatchingIndexingMap(root.getDpsInitOperand(result.getResultNumber()));
  std::optional<unsigned> dim = map.getResultPosition(getAffineDimExpr(loop, func.getContext()));
  if (!dim)
    return failure();
  int64_t count = std::min(extent, maxWorkgroups);
  int64_t tile = llvm::divideCeil(extent, count);
  if (llvm::is_contained(iterators, utils::IteratorType::reduction))
    tile = std::max(tile, std::min(minContractionTile, extent));
  if (tileMultiple > 1 && extent > tileMultiple)
    tile = llvm::alignTo(tile, tileMultiple);
  return Split{root, loop, dest.getArgNumber(), int64_t(*dim), tile};
}

/// An op that accumulates into a kernel input (C = C_in + A * B, its init a
/// read-only argument) gets that init copied into a fresh tensor by a
/// linalg.copy first. The split then fuses the copy into each workgroup's
/// tile, as it does a fill; left to bufferization, the copy is of the whole
/// tensor in every workgroup, each of which then writes all of it back over
/// the others' results.
static void copyReadOnlyInits(func::FuncOp func) {
  SmallVector<OpOperand *> inits;
  func.walk([&](linalg::LinalgOp op) {
    if (!op.hasPureTensorSemantics())
      return;
    for (OpOperand &init : op.getDpsInitsMutable()) {
      auto input = init.get().getDefiningOp<bufferization::ToTensorOp>();
      if (input && !input.getWritable())
        inits.push_back(&init);
    }
  });
  OpBuilder b(func.getContext());
  for (OpOperand *init : inits) {
    Operation *op = init->getOwner();
    b.setInsertionPoint(op);
    auto type = cast<RankedTensorType>(init->get().getType());
    Value empty = b.create<tensor::EmptyOp>(op->getLoc(), type.getShape(), type.getElementType());
    Value copy = b.create<linalg::CopyOp>(op->getLoc(), init->get(), empty).getResult(0);
    init->set(copy);
  }
}

namespace {
struct PengDistributeWorkgroupsPass
    : mlir::peng::impl::PengDistributeWorkgroupsBase<PengDistributeWorkgroupsPass> {
  using PengDistributeWorkgroupsBase::PengDistributeWorkgroupsBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    MLIRContext *ctx = func.getContext();
    Builder b(ctx);
    copyReadOnlyInits(func);
    FailureOr<Split> split = chooseSplit(func, std::max<int64_t>(maxWorkgroups, 1),
                                          std::max<int64_t>(minContractionTile, 1),
                                          std::max<int64_t>(tileMultiple, 1));
    if (failed(split)) {
      func->setAttr("peng.grid", b.getI64ArrayAttr({}));
      return;
    }
    SmallVector<OpFoldResult> sizes(split->root.getNumLoops(), b.getIndexAttr(0));
    sizes[split->loop] = b.getIndexAttr(split->tile);
    scf::SCFTilingOptions tiling;
    tiling.setTileSizes(sizes).setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
    scf::SCFTileAndFuseOptions options;
    options.setTilingOptions(tiling);

    IRRewriter rewriter(ctx);
    rewriter.setInsertionPoint(split->root);
    auto tiled = scf::tileConsumerAndFuseProducersUsingSCF(
        rewriter, cast<TilingInterface>(split->root.getOperation()), options);
    if (failed(tiled)) {
      split->root.emitOpError("cannot be split into workgroups");
      return signalPassFailure();
    }
    for (auto [original, replacement] : tiled->replacements)
      rewriter.replaceAllUsesWith(original, replacement);
    func->setAttr("peng.grid",
                  b.getI64ArrayAttr({split->outputArg, split->outputDim, split->tile}));
  }
};
} // namespace
