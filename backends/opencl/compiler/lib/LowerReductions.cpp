//===- LowerReductions.cpp - linalg reductions, one work-item per output --===//
//
// A linalg op with reduction loops becomes an scf.parallel over its parallel
// loops (the work-items, through peng-opencl-map-work-items) around an
// scf.for nest over its reduction loops that carries the accumulators in
// registers: the reduction runs in sequence inside the work-item that owns
// the output element, which is loaded (or taken from the linalg.fill that
// initialised it) once and stored once.
//
//===----------------------------------------------------------------------===//
#include "Reductions.h"
#include "peng/OpenCL/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::peng::opencl {
#define GEN_PASS_DEF_PENGOPENCLLOWERREDUCTIONS
#include "peng/OpenCL/Passes.h.inc"
} // namespace mlir::peng::opencl

using namespace mlir;

std::string mlir::peng::opencl::reductionUnsupportedReason(linalg::LinalgOp op) {
  if (!op.hasPureBufferSemantics())
    return "a reduction on tensors (expected buffers)";
  unsigned parallel = op.getNumParallelLoops();
  for (OpOperand &init : op.getDpsInitsMutable()) {
    AffineMap map = op.getMatchingIndexingMap(&init);
    if (!map.isProjectedPermutation() || map.getNumResults() != parallel)
      return "a reduction whose outputs are not indexed by exactly its parallel loops";
    for (AffineExpr e : map.getResults())
      if (op.getIteratorTypesArray()[cast<AffineDimExpr>(e).getPosition()] !=
          utils::IteratorType::parallel)
        return "a reduction whose outputs are not indexed by exactly its parallel loops";
  }
  for (OpOperand *input : op.getDpsInputOperands())
    if (!isa<MemRefType>(input->get().getType()) && isa<ShapedType>(input->get().getType()))
      return "a reduction with an operand that is not a buffer";
  return "";
}

/// The value `op` fills its one output with when it is a fill: a
/// linalg.fill, or an all-parallel op without inputs whose identity-indexed
/// body yields a value from outside it (what a generalized fill looks like);
/// else null.
static Value fillValue(Operation *op) {
  if (auto fill = dyn_cast<linalg::FillOp>(op))
    return fill.hasPureBufferSemantics() ? fill.getInputs()[0] : Value();
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || !generic.hasPureBufferSemantics() || generic.getNumDpsInputs() != 0 ||
      generic.getNumDpsInits() != 1 || generic.getNumReductionLoops() != 0 ||
      !generic.getIndexingMapsArray()[0].isIdentity())
    return Value();
  Block *body = generic.getBody();
  if (!body->without_terminator().empty())
    return Value();
  Value y = body->getTerminator()->getOperand(0);
  if (y.getParentBlock() == body)
    return Value();
  return y;
}

/// The fill just before `op` (nothing that touches memory in between) that
/// fills exactly `buffer` with a value of its element type, or null.
static Operation *fillBefore(Operation *op, Value buffer) {
  for (Operation *prev = op->getPrevNode(); prev; prev = prev->getPrevNode()) {
    if (isMemoryEffectFree(prev))
      continue;
    Value v = fillValue(prev);
    if (!v)
      return nullptr;
    Value filled = cast<linalg::LinalgOp>(prev).getDpsInits()[0];
    if (filled == buffer)
      return v.getType() == getElementTypeOrSelf(buffer.getType()) ? prev : nullptr;
    // Another buffer's fill: look further (the reduction's output is an
    // argument's view, and a fill writes nothing else).
  }
  return nullptr;
}

static SmallVector<Value> indicesOf(OpBuilder &b, Location loc, AffineMap map, ValueRange ivs) {
  SmallVector<Value> out;
  for (AffineExpr e : map.getResults()) {
    if (auto d = dyn_cast<AffineDimExpr>(e)) {
      out.push_back(ivs[d.getPosition()]);
      continue;
    }
    out.push_back(b.create<affine::AffineApplyOp>(
        loc, AffineMap::get(map.getNumDims(), map.getNumSymbols(), e), ivs));
  }
  return out;
}

static void lowerReduction(IRRewriter &rewriter, linalg::LinalgOp op) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  SmallVector<utils::IteratorType> iters = op.getIteratorTypesArray();
  SmallVector<Range> ranges = op.createLoopRanges(rewriter, loc);
  auto cst = [&](int64_t v) -> Value { return rewriter.create<arith::ConstantIndexOp>(loc, v); };
  auto value = [&](OpFoldResult r) { return getValueOrCreateConstantIndexOp(rewriter, loc, r); };
  SmallVector<Value> pLb, pUb, pStep, rLb, rUb, rStep;
  for (auto [it, r] : llvm::zip(iters, ranges)) {
    bool par = it == utils::IteratorType::parallel;
    (par ? pLb : rLb).push_back(value(r.offset));
    (par ? pUb : rUb).push_back(value(r.size));
    (par ? pStep : rStep).push_back(value(r.stride));
  }
  // scf.parallel needs a dimension: a full reduction runs on one work-item.
  bool scalar = pLb.empty();
  if (scalar) {
    pLb.push_back(cst(0));
    pUb.push_back(cst(1));
    pStep.push_back(cst(1));
  }
  SmallVector<Operation *> fills;
  for (Value init : op.getDpsInits())
    fills.push_back(fillBefore(op, init));
  // Two outputs of one buffer: keep the fill's order of effects simple.
  for (size_t i = 0; i < fills.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (fills[i] && fills[i] == fills[j])
        fills[i] = fills[j] = nullptr;

  Block *body = op.getBlock();
  unsigned numInputs = op.getNumDpsInputs();
  auto parallel = rewriter.create<scf::ParallelOp>(
      loc, pLb, pUb, pStep, [&](OpBuilder &b, Location loc, ValueRange pivs) {
        // Loop order: parallel ivs, then reduction ivs, interleaved as declared.
        auto allIvs = [&](ValueRange rivs) {
          SmallVector<Value> ivs;
          unsigned p = 0, r = 0;
          for (auto it : iters)
            ivs.push_back(it == utils::IteratorType::parallel ? pivs[p++] : rivs[r++]);
          return ivs;
        };
        SmallVector<Value> outIvs = allIvs(ValueRange(rLb)); // reduction dims unused
        SmallVector<Value> inits;
        for (auto [i, init] : llvm::enumerate(op.getDpsInitsMutable())) {
          if (fills[i]) {
            inits.push_back(fillValue(fills[i]));
            continue;
          }
          inits.push_back(b.create<memref::LoadOp>(
              loc, init.get(), indicesOf(b, loc, op.getMatchingIndexingMap(&init), outIvs)));
        }
        scf::LoopNest nest = scf::buildLoopNest(
            b, loc, rLb, rUb, rStep, inits,
            [&](OpBuilder &b, Location loc, ValueRange rivs, ValueRange accs) -> scf::ValueVector {
              SmallVector<Value> ivs = allIvs(rivs);
              IRMapping map;
              for (OpOperand *input : op.getDpsInputOperands()) {
                Value v = input->get();
                BlockArgument arg = body->getArgument(input->getOperandNumber());
                if (isa<MemRefType>(v.getType()))
                  v = b.create<memref::LoadOp>(
                      loc, v, indicesOf(b, loc, op.getMatchingIndexingMap(input), ivs));
                map.map(arg, v);
              }
              for (auto [i, acc] : llvm::enumerate(accs))
                map.map(body->getArgument(numInputs + i), acc);
              for (Operation &inner : body->without_terminator()) {
                if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
                  map.map(index.getResult(), ivs[index.getDim()]);
                  continue;
                }
                b.clone(inner, map);
              }
              scf::ValueVector out;
              for (Value y : body->getTerminator()->getOperands())
                out.push_back(map.lookupOrDefault(y));
              return out;
            });
        for (auto [i, init] : llvm::enumerate(op.getDpsInitsMutable()))
          b.create<memref::StoreOp>(
              loc, nest.results[i], init.get(),
              indicesOf(b, loc, op.getMatchingIndexingMap(&init), outIvs));
      });
  // One output, one reduction loop: a whole-group kernel may share the
  // reduction among its work-items (peng-opencl-map-work-items).
  if (op.getNumDpsInits() == 1 && rLb.size() == 1)
    parallel->setAttr("peng.opencl.reduction", rewriter.getUnitAttr());
  rewriter.eraseOp(op);
  for (Operation *fill : fills)
    if (fill)
      rewriter.eraseOp(fill);
}

namespace {
struct PengOpenCLLowerReductionsPass
    : mlir::peng::opencl::impl::PengOpenCLLowerReductionsBase<PengOpenCLLowerReductionsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal() || !func->hasAttr("peng.kernel"))
      return;
    SmallVector<linalg::LinalgOp> ops;
    func.walk([&](linalg::LinalgOp op) {
      if (op.getNumReductionLoops() > 0)
        ops.push_back(op);
    });
    IRRewriter rewriter(func.getContext());
    for (linalg::LinalgOp op : ops) {
      std::string why = mlir::peng::opencl::reductionUnsupportedReason(op);
      if (!why.empty()) {
        op->emitOpError("is not supported on target opencl: ") << why;
        return signalPassFailure();
      }
      lowerReduction(rewriter, op);
    }
  }
};
} // namespace
