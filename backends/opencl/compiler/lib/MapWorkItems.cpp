//===- MapWorkItems.cpp - parallel loops on OpenCL work-items -------------===//
#include "peng/OpenCL/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cmath>

namespace mlir::peng::opencl {
#define GEN_PASS_DEF_PENGOPENCLMAPWORKITEMS
#include "peng/OpenCL/Passes.h.inc"
} // namespace mlir::peng::opencl

using namespace mlir;

namespace {
/// The buffers one loop reads and writes (kernel arguments, through views).
struct Access {
  llvm::DenseSet<Value> reads, writes;
};

/// An OpenCL launch shape: a grid rule per used dimension (x, y, z; a prefix,
/// as module.peng stores it), the work-group size, and the group counts the
/// rule gives for the kernel's static shapes.
struct LaunchShape {
  SmallVector<std::array<int64_t, 3>> rules;
  int64_t workgroupSize[3] = {1, 1, 1};
  int64_t counts[3] = {1, 1, 1};
};
} // namespace

static Value rootBuffer(Value v) {
  while (auto view = v.getDefiningOp<ViewLikeOpInterface>())
    v = view.getViewSource();
  return v;
}

static Access accessesOf(Operation *root) {
  Access a;
  root->walk([&](Operation *op) {
    if (auto load = dyn_cast<memref::LoadOp>(op))
      a.reads.insert(rootBuffer(load.getMemRef()));
    else if (auto store = dyn_cast<memref::StoreOp>(op))
      a.writes.insert(rootBuffer(store.getMemRef()));
  });
  return a;
}

static bool intersects(const llvm::DenseSet<Value> &a, const llvm::DenseSet<Value> &b) {
  return llvm::any_of(a, [&](Value v) { return b.contains(v); });
}

/// Elements of the contiguous dimension each work-item takes, at most, in
/// kernels that are not whole-group.
constexpr int64_t kElementsPerWorkItem = 4;

/// The grid that fits `func`'s output: x along its last dimension in groups
/// of up to `maxX` work-items, y along the one before (one row per group),
/// z = pengc's workgroup split (`peng.grid`), whose tile the x and y
/// work-items of a group share.
static FailureOr<LaunchShape> chooseLaunch(func::FuncOp func, const Access &all, int64_t maxX,
                                           bool wholeGroup) {
  LaunchShape shape;
  auto split = func->getAttrOfType<ArrayAttr>("peng.grid");
  int64_t splitArg = -1, splitDim = -1, splitTile = 0;
  if (split && split.size() == 3) {
    splitArg = cast<IntegerAttr>(split[0]).getInt();
    splitDim = cast<IntegerAttr>(split[1]).getInt();
    splitTile = cast<IntegerAttr>(split[2]).getInt();
  }
  // The output the grid follows: the split one, else the largest written.
  int64_t out = splitArg;
  int64_t best = -1;
  if (out < 0) {
    // Not the workspace (peng-allocate-workspace's argument before the
    // workgroup id): it is scratch memory, not a result.
    int64_t workspace = func->hasAttr("peng.workspace") ? func.getNumArguments() - 2 : -1;
    for (BlockArgument arg : func.getArguments()) {
      auto type = dyn_cast<MemRefType>(arg.getType());
      if (!type || !type.hasStaticShape() || !all.writes.contains(arg) ||
          int64_t(arg.getArgNumber()) == workspace)
        continue;
      if (type.getNumElements() >= best) {
        best = type.getNumElements();
        out = arg.getArgNumber();
      }
    }
  }
  if (out < 0)
    return shape; // nothing written in loops: one work-item
  auto type = dyn_cast<MemRefType>(func.getArgument(out).getType());
  if (!type || !type.hasStaticShape())
    return func.emitOpError("has a dynamically shaped output, which target opencl does not "
                            "support yet"),
           failure();
  ArrayRef<int64_t> dims = type.getShape();
  int64_t rank = type.getRank();
  if (rank == 0)
    return shape;
  int64_t last = rank - 1;
  auto add = [&](int64_t dim, int64_t tile) {
    size_t g = shape.rules.size();
    shape.rules.push_back({out, dim, tile});
    shape.counts[g] = llvm::divideCeil(dims[dim], tile);
  };
  // One work-group per pengc workgroup: x and y have one group each.
  if (wholeGroup) {
    shape.workgroupSize[0] = std::min<int64_t>(maxX, llvm::PowerOf2Ceil(dims[last]));
    add(last, dims[last]);
    if (splitArg >= 0) {
      add(last, dims[last]);
      auto splitType = cast<MemRefType>(func.getArgument(splitArg).getType());
      shape.rules.push_back({splitArg, splitDim, splitTile});
      shape.counts[2] = llvm::divideCeil(splitType.getDimSize(splitDim), splitTile);
    }
    return shape;
  }
  // x: the contiguous dimension. When the split walks it (1-D outputs), a
  // group's work-items share the split's tile and x has one group.
  if (splitDim == last && splitArg == out) {
    shape.workgroupSize[0] =
        std::min<int64_t>(maxX, llvm::PowerOf2Ceil(std::min(splitTile, dims[last])));
    add(last, dims[last]);
  } else {
    shape.workgroupSize[0] = std::min<int64_t>(maxX, llvm::PowerOf2Ceil(dims[last]));
    // Several elements per work-item along x (up to kElementsPerWorkItem,
    // strided by the global size, so neighbours still touch neighbours):
    // fewer, fuller work-groups.
    int64_t each = std::clamp<int64_t>(
        int64_t(llvm::bit_floor(uint64_t(dims[last] / shape.workgroupSize[0]))), 1,
        kElementsPerWorkItem);
    add(last, shape.workgroupSize[0] * each);
  }
  // y: the dimension before, unless the split walks it; then one group
  // (the rule must still be there for z to follow it).
  if (rank >= 2 && !(splitArg == out && splitDim == rank - 2))
    add(rank - 2, 1);
  else if (splitArg >= 0)
    add(last, dims[last]);
  if (splitArg >= 0) {
    auto splitType = cast<MemRefType>(func.getArgument(splitArg).getType());
    shape.rules.push_back({splitArg, splitDim, splitTile});
    shape.counts[2] = llvm::divideCeil(splitType.getDimSize(splitDim), splitTile);
  }
  return shape;
}

/// Replaces `loop` by grid-stride scf.for loops: its last dimension on the
/// x work-items, the one before on y, the others in sequence.
static void lowerParallelLoop(RewriterBase &rewriter, scf::ParallelOp loop, gpu::LaunchOp launch,
                              bool wholeGroup) {
  Location loc = loop.getLoc();
  rewriter.setInsertionPoint(loop);
  auto global = [&](gpu::Dimension d) -> std::pair<Value, Value> {
    auto pick = [&](gpu::KernelDim3 dim3) {
      return d == gpu::Dimension::x ? dim3.x : d == gpu::Dimension::y ? dim3.y : dim3.z;
    };
    if (wholeGroup) // the work-group's own work-items stride over the loop
      return {pick(launch.getThreadIds()), pick(launch.getBlockSize())};
    Value id = rewriter.create<arith::AddIOp>(
        loc, rewriter.create<arith::MulIOp>(loc, pick(launch.getBlockIds()),
                                            pick(launch.getBlockSize())),
        pick(launch.getThreadIds()));
    Value size = rewriter.create<arith::MulIOp>(loc, pick(launch.getGridSize()),
                                                pick(launch.getBlockSize()));
    return {id, size};
  };
  unsigned n = loop.getNumLoops();
  auto [xId, xSize] = global(gpu::Dimension::x);
  auto [yId, ySize] = global(gpu::Dimension::y);
  // Work-items of a dimension the loop does not use must not repeat it.
  Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);
  Value idle;
  if (n < 2)
    idle = rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, yId, zero);
  if (n < 1)
    idle = rewriter.create<arith::AndIOp>(
        loc, idle, rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, xId, zero));
  if (idle) {
    auto guard = rewriter.create<scf::IfOp>(loc, idle, /*withElseRegion=*/false);
    rewriter.setInsertionPoint(guard.thenBlock()->getTerminator());
  }
  SmallVector<Value> ivs;
  for (unsigned d = 0; d < n; ++d) {
    Value lb = loop.getLowerBound()[d], ub = loop.getUpperBound()[d], step = loop.getStep()[d];
    if (d + 1 == n || d + 2 == n) {
      auto [id, size] = d + 1 == n ? std::pair{xId, xSize} : std::pair{yId, ySize};
      lb = rewriter.create<arith::AddIOp>(loc, lb, rewriter.create<arith::MulIOp>(loc, id, step));
      step = rewriter.create<arith::MulIOp>(loc, size, step);
    }
    auto forOp = rewriter.create<scf::ForOp>(loc, lb, ub, step);
    ivs.push_back(forOp.getInductionVar());
    rewriter.setInsertionPoint(forOp.getBody()->getTerminator());
  }
  Block *body = loop.getBody();
  rewriter.eraseOp(body->getTerminator());
  Operation *point = &*rewriter.getInsertionPoint();
  rewriter.inlineBlockBefore(body, point, ivs);
  // What the loop wrote is seen by the group's later loops (and the next
  // pass of an enclosing loop does not overwrite what this one still reads).
  if (wholeGroup) {
    rewriter.setInsertionPointAfter(loop);
    rewriter.create<gpu::BarrierOp>(loc);
  }
  rewriter.eraseOp(loop);
}

/// In a whole-group kernel, a reduction loop of peng-opencl-lower-reductions
/// (`peng.opencl.reduction`: per output element, an scf.for with one
/// accumulator, stored once) whose combiner is known shares each output
/// element's reduction among the work-group: every work-item walks the
/// output elements in sequence, reduces a strided share of the reduction
/// loop, and a tree in __local memory combines the shares; work-item 0
/// combines the result with the initial value and stores it. False (and
/// nothing changed) when the loop does not have that form.
static bool lowerGroupReduction(RewriterBase &rewriter, scf::ParallelOp loop,
                                gpu::LaunchOp launch) {
  if (!loop->hasAttr("peng.opencl.reduction"))
    return false;
  std::optional<int64_t> groupSize = getConstantIntValue(launch.getBlockSizeX());
  if (!groupSize || *groupSize < 2 || !llvm::isPowerOf2_64(*groupSize))
    return false;
  Block *body = loop.getBody();
  scf::ForOp red;
  for (Operation &op : body->without_terminator())
    if (auto f = dyn_cast<scf::ForOp>(op)) {
      if (red)
        return false;
      red = f;
    } else if (op.getNumRegions() != 0) {
      return false;
    }
  if (!red || red.getNumResults() != 1 || !red.getResult(0).hasOneUse())
    return false;
  auto store = dyn_cast<memref::StoreOp>(*red.getResult(0).getUsers().begin());
  if (!store || store->getBlock() != body || store.getValueToStore() != red.getResult(0))
    return false;
  BlockArgument acc = red.getRegionIterArgs()[0];
  if (!acc.hasOneUse())
    return false;
  Operation *combine = *acc.getUsers().begin();
  auto yield = cast<scf::YieldOp>(red.getBody()->getTerminator());
  if (combine->getBlock() != red.getBody() || yield.getOperand(0).getDefiningOp() != combine ||
      combine->getNumOperands() != 2 || combine->getNumResults() != 1)
    return false;
  Type type = acc.getType();
  TypedAttr identity;
  if (isa<arith::AddFOp>(combine))
    identity = FloatAttr::get(type, 0.0);
  else if (isa<arith::MaxNumFOp, arith::MaximumFOp>(combine))
    identity = FloatAttr::get(type, -INFINITY);
  else if (isa<arith::MinNumFOp, arith::MinimumFOp>(combine))
    identity = FloatAttr::get(type, INFINITY);
  else if (isa<arith::AddIOp>(combine))
    identity = IntegerAttr::get(type, 0);
  else
    return false;
  Value other = combine->getOperand(0) == acc ? combine->getOperand(1) : combine->getOperand(0);
  auto combineOf = [&](Value a, Value b) {
    IRMapping map;
    map.map(acc, a);
    map.map(other, b);
    return rewriter.clone(*combine, map)->getResult(0);
  };

  Location loc = loop.getLoc();
  Value tid = launch.getThreadIds().x, size = launch.getBlockSize().x;
  rewriter.setInsertionPoint(loop);
  Value scratch =
      rewriter.create<memref::AllocaOp>(loc, MemRefType::get({*groupSize}, type)).getResult();
  // Every work-item walks the output elements, in sequence.
  SmallVector<Value> ivs;
  for (auto [lb, ub, step] : llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    auto forOp = rewriter.create<scf::ForOp>(loc, lb, ub, step);
    ivs.push_back(forOp.getInductionVar());
    rewriter.setInsertionPoint(forOp.getBody()->getTerminator());
  }
  rewriter.eraseOp(body->getTerminator());
  Operation *point = &*rewriter.getInsertionPoint();
  rewriter.inlineBlockBefore(body, point, ivs);
  rewriter.eraseOp(loop);

  // Each work-item's strided share, from the identity.
  rewriter.setInsertionPoint(red);
  Value init = red.getInitArgs()[0];
  red.getInitArgsMutable()[0].set(rewriter.create<arith::ConstantOp>(loc, identity));
  red.getLowerBoundMutable().set(rewriter.create<arith::AddIOp>(
      loc, red.getLowerBound(), rewriter.create<arith::MulIOp>(loc, tid, red.getStep())));
  red.getStepMutable().set(rewriter.create<arith::MulIOp>(loc, red.getStep(), size));
  // The shares, combined in a tree over __local memory: at step t the
  // work-items below s = size >> t fold in the one s above (steps past the
  // runtime's size, should it have shrunk the group, do nothing). Placed
  // at the store, after what computes its indices (folded views put index
  // arithmetic between the loop and the store).
  rewriter.setInsertionPoint(store);
  rewriter.create<memref::StoreOp>(loc, red.getResult(0), scratch, tid);
  rewriter.create<gpu::BarrierOp>(loc);
  for (int64_t t = 1; (int64_t(1) << t) <= *groupSize; ++t) {
    Value s = rewriter.create<arith::ShRUIOp>(loc, size,
                                              rewriter.create<arith::ConstantIndexOp>(loc, t));
    Value active = rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, tid, s);
    auto guard = rewriter.create<scf::IfOp>(loc, active, /*withElseRegion=*/false);
    rewriter.setInsertionPoint(guard.thenBlock()->getTerminator());
    Value a = rewriter.create<memref::LoadOp>(loc, scratch, tid);
    Value b = rewriter.create<memref::LoadOp>(
        loc, scratch, ValueRange{rewriter.create<arith::AddIOp>(loc, tid, s)});
    rewriter.create<memref::StoreOp>(loc, combineOf(a, b), scratch, tid);
    rewriter.setInsertionPointAfter(guard);
    rewriter.create<gpu::BarrierOp>(loc);
  }
  // Work-item 0: the initial value and the group's result, stored once.
  Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);
  Value first = rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, tid, zero);
  auto guard = rewriter.create<scf::IfOp>(loc, first, /*withElseRegion=*/false);
  rewriter.setInsertionPoint(guard.thenBlock()->getTerminator());
  Value total = rewriter.create<memref::LoadOp>(loc, scratch, zero);
  Value result = combineOf(init, total);
  rewriter.moveOpBefore(store, guard.thenBlock()->getTerminator());
  store.getValueMutable().assign(result);
  // Before the next element's shares overwrite the scratch.
  rewriter.setInsertionPointAfter(guard);
  rewriter.create<gpu::BarrierOp>(loc);
  return true;
}

static LogicalResult mapKernel(func::FuncOp func, int64_t maxX) {
  Block &entry = func.getBody().front();
  if (func.getNumArguments() == 0 || !func.getArgumentTypes().back().isIndex())
    return func.emitOpError("has no workgroup id argument (run peng-forall-to-workgroup)");
  BlockArgument workgroupId = func.getArguments().back();

  SmallVector<scf::ParallelOp> loops;
  func.walk([&](scf::ParallelOp loop) {
    if (!loop->getParentOfType<scf::ParallelOp>())
      loops.push_back(loop);
  });
  SmallVector<Access> accesses;
  Access all;
  // A loop that depends on an earlier one (or a temporary between ops, in
  // __local memory) needs the work-items that run them to wait for each
  // other: then one work-group runs each pengc workgroup, whose work is
  // self-contained (pengc's workgroups run independently on the CPU too),
  // with a barrier after each loop.
  bool wholeGroup = func->hasAttr("peng.workspace");
  func.walk([&](memref::AllocaOp) { wholeGroup = true; });
  for (scf::ParallelOp loop : loops) {
    if (loop.getNumResults() != 0)
      return loop.emitOpError("is a parallel reduction, which is not supported on target "
                              "opencl yet");
    if (!loop.getBody()->getOps<scf::ParallelOp>().empty())
      return loop.emitOpError("holds a nested parallel loop, which is not supported on target "
                              "opencl yet");
    Access a = accessesOf(loop);
    for (size_t j = 0; j < accesses.size(); ++j) {
      const Access &earlier = accesses[j];
      if (intersects(earlier.writes, a.reads) || intersects(earlier.writes, a.writes) ||
          intersects(earlier.reads, a.writes))
        wholeGroup = true;
    }
    all.reads.insert(a.reads.begin(), a.reads.end());
    all.writes.insert(a.writes.begin(), a.writes.end());
    accesses.push_back(std::move(a));
  }
  // Stores outside the loops would run on every work-item.
  WalkResult stray = func.walk([&](memref::StoreOp store) {
    if (!loops.empty() && !store->getParentOfType<scf::ParallelOp>()) {
      store.emitOpError("stores outside a parallel loop, which target opencl does not "
                        "support yet");
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (stray.wasInterrupted())
    return failure();

  FailureOr<LaunchShape> shape = chooseLaunch(func, all, maxX, wholeGroup);
  if (failed(shape))
    return failure();
  if (loops.empty())
    *shape = LaunchShape{}; // one work-item runs the body

  IRRewriter rewriter(func.getContext());
  Location loc = func.getLoc();
  rewriter.setInsertionPointToStart(&entry);
  auto constant = [&](int64_t v) -> Value {
    return rewriter.create<arith::ConstantIndexOp>(loc, v);
  };
  Value gx = constant(shape->counts[0]), gy = constant(shape->counts[1]),
        gz = constant(shape->counts[2]);
  Value bx = constant(shape->workgroupSize[0]), by = constant(shape->workgroupSize[1]),
        bz = constant(shape->workgroupSize[2]);
  auto launch = rewriter.create<gpu::LaunchOp>(loc, gx, gy, gz, bx, by, bz);
  Block &body = launch.getBody().front();
  rewriter.setInsertionPointToEnd(&body);
  auto terminator = rewriter.create<gpu::TerminatorOp>(loc);
  // Everything after the launch, but the return, moves into it.
  auto first = std::next(Block::iterator(launch));
  auto end = Block::iterator(entry.getTerminator());
  body.getOperations().splice(Block::iterator(terminator), entry.getOperations(), first, end);
  workgroupId.replaceAllUsesWith(launch.getBlockIds().z);

  for (scf::ParallelOp loop : loops)
    if (!wholeGroup || !lowerGroupReduction(rewriter, loop, launch))
      lowerParallelLoop(rewriter, loop, launch, wholeGroup);

  // The runtime may relaunch with smaller work-groups over the same range
  // (on CL_OUT_OF_RESOURCES), which adds groups along x: only the first
  // group of x and y runs a pengc workgroup, or two would run it at once.
  // The condition is uniform in a work-group, as barriers need.
  if (wholeGroup) {
    rewriter.setInsertionPointToStart(&body);
    Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value first = rewriter.create<arith::AndIOp>(
        loc,
        rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, launch.getBlockIds().x,
                                       zero),
        rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, launch.getBlockIds().y,
                                       zero));
    auto guard = rewriter.create<scf::IfOp>(loc, first, /*withElseRegion=*/false);
    Block *then = guard.thenBlock();
    then->getOperations().splice(Block::iterator(then->getTerminator()), body.getOperations(),
                                 std::next(Block::iterator(guard)),
                                 Block::iterator(body.getTerminator()));
  }

  Builder b(func.getContext());
  SmallVector<Attribute> rules;
  for (const auto &r : shape->rules)
    rules.push_back(b.getI64ArrayAttr(r));
  func->setAttr("peng.opencl.grid", b.getArrayAttr(rules));
  func->setAttr("peng.opencl.workgroup_size", b.getI64ArrayAttr(shape->workgroupSize));
  return success();
}

namespace {
struct PengOpenCLMapWorkItemsPass
    : mlir::peng::opencl::impl::PengOpenCLMapWorkItemsBase<PengOpenCLMapWorkItemsPass> {
  using PengOpenCLMapWorkItemsBase::PengOpenCLMapWorkItemsBase;
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    // A matmul kernel (peng-opencl-match-contractions) is printed whole.
    if (func.isExternal() || !func->hasAttr("peng.kernel") || func->hasAttr("peng.opencl.gemm"))
      return;
    if (failed(mapKernel(func, std::max<int64_t>(maxWorkgroupSize, 1))))
      signalPassFailure();
  }
};
} // namespace
