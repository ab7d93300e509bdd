//===- AllocateWorkspace.cpp - large temporaries leave the stack ----------===//
#include "peng/Compiler/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Interfaces/ValueBoundsOpInterface.h"

namespace mlir::peng {
#define GEN_PASS_DEF_PENGALLOCATEWORKSPACE
#include "peng/Compiler/Passes.h.inc"
} // namespace mlir::peng

using namespace mlir;

static constexpr int64_t kWorkspaceAlignment = 64;

/// The most bytes the alloca can take: its static size, or for a tile-sized
/// temporary (dynamic sizes from affine.min of a tile) the constant upper
/// bound of each dynamic size. nullopt when some size has no such bound.
static std::optional<int64_t> maxBytes(memref::AllocaOp alloca) {
  MemRefType type = alloca.getType();
  int64_t elements = 1;
  unsigned dynamic = 0;
  for (int64_t d : type.getShape()) {
    if (!ShapedType::isDynamic(d)) {
      elements *= d;
      continue;
    }
    FailureOr<int64_t> ub = ValueBoundsConstraintSet::computeConstantBound(
        presburger::BoundType::UB, alloca.getDynamicSizes()[dynamic++], /*stopCondition=*/nullptr,
        /*closedUB=*/true);
    if (failed(ub) || *ub < 0)
      return std::nullopt;
    elements *= *ub;
  }
  return elements * llvm::divideCeil(type.getElementTypeBitWidth(), 8);
}

namespace {
struct PengAllocateWorkspacePass
    : mlir::peng::impl::PengAllocateWorkspaceBase<PengAllocateWorkspacePass> {
  using PengAllocateWorkspaceBase::PengAllocateWorkspaceBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal() || !func->hasAttr("peng.kernel"))
      return;
    if (func.getNumArguments() == 0 || !func.getArgumentTypes().back().isIndex()) {
      func.emitOpError("has no trailing workgroup id (run peng-forall-to-workgroup first)");
      return signalPassFailure();
    }
    // Allocas stay on the stack while each is small and all of them fit the
    // budget together; the rest get disjoint, aligned slices of the workspace.
    // No two temporaries share a slice: this is about stack safety, not reuse.
    SmallVector<std::pair<memref::AllocaOp, int64_t>> moved;
    // A kernel with a workspace already (a target running the pass again
    // with a smaller budget) gets its new slices after the old ones.
    auto existing = func->getAttrOfType<IntegerAttr>("peng.workspace");
    int64_t stack = 0,
            workspace = existing ? llvm::alignTo(existing.getInt(), kWorkspaceAlignment) : 0;
    bool ok = true;
    func.walk([&](memref::AllocaOp alloca) {
      MemRefType type = alloca.getType();
      std::optional<int64_t> bytes = maxBytes(alloca);
      if (!bytes) {
        alloca.emitOpError("is a temporary whose size has no upper bound, which kernels do "
                           "not support");
        ok = false;
        return;
      }
      // An alloca inside a loop takes new stack on every iteration (LLVM
      // frees it only on return), so those always move.
      bool inLoop = alloca->getParentOfType<LoopLikeOpInterface>() != nullptr;
      if (!inLoop && *bytes <= maxStackTemporary && stack + *bytes <= maxStackTotal) {
        stack += *bytes;
        return;
      }
      if (!type.getLayout().isIdentity() || type.getMemorySpace()) {
        alloca.emitOpError("is a large temporary with a layout or memory space that the "
                           "workspace cannot hold");
        ok = false;
        return;
      }
      moved.emplace_back(alloca, workspace);
      workspace = llvm::alignTo(workspace + *bytes, kWorkspaceAlignment);
    });
    if (!ok)
      return signalPassFailure();
    if (moved.empty())
      return;

    // The workspace comes just before the workgroup id, so every kernel keeps
    // "buffers..., [workspace], id" as its signature.
    MLIRContext *ctx = func.getContext();
    auto wsType = MemRefType::get({workspace}, IntegerType::get(ctx, 8));
    Value ws;
    if (existing) {
      BlockArgument arg = func.getArgument(func.getNumArguments() - 2);
      arg.setType(wsType);
      func.setType(FunctionType::get(ctx, func.getBody().getArgumentTypes(),
                                     func.getResultTypes()));
      ws = arg;
    } else {
      unsigned index = func.getNumArguments() - 1;
      func.insertArgument(index, wsType, {}, func.getLoc());
      ws = func.getArgument(index);
    }
    OpBuilder b(ctx);
    for (auto [alloca, offset] : moved) {
      b.setInsertionPoint(alloca);
      Value at = b.create<arith::ConstantIndexOp>(alloca.getLoc(), offset);
      Value view = b.create<memref::ViewOp>(alloca.getLoc(), alloca.getType(), ws, at,
                                            alloca.getDynamicSizes());
      alloca.replaceAllUsesWith(view);
      alloca.erase();
    }
    func->setAttr("peng.workspace", b.getI64IntegerAttr(workspace));
  }
};
} // namespace
